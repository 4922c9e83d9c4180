#!/usr/bin/env bash
# BIND9 for the RFC 2136 integration tests of preview-dns.
#
# Starts `named` on 127.0.0.1:5353 (UDP and TCP) as primary for the zone `preview.test`, which accepts
# dynamic updates and zone transfers (AXFR) signed with the TSIG key `preview-key.` (hmac-sha256).
# Everything lives in $PREVIEW_BIND_DIR (default /tmp/preview-bind). The tests read the key from
# $PREVIEW_BIND_DIR/tsig.key (BIND's own `key "name" { algorithm ...; secret "..."; };` format).
# Idempotent: does nothing if the server already answers.
set -euo pipefail

DIR="${PREVIEW_BIND_DIR:-/tmp/preview-bind}"
PORT=5353
ZONE=preview.test

. "$(dirname "$0")/../lib.sh" # apt_install
apt_install bind9 bind9-utils bind9-dnsutils

answers() { dig @127.0.0.1 -p "$PORT" +time=1 +tries=1 +short SOA "$ZONE" 2>/dev/null | grep -q .; }

if answers; then
  echo "bind9: already answering on 127.0.0.1:$PORT for $ZONE (key: $DIR/tsig.key)"
  exit 0
fi

mkdir -p "$DIR"
[ -s "$DIR/tsig.key" ] || tsig-keygen -a hmac-sha256 preview-key. > "$DIR/tsig.key"

cat > "$DIR/named.conf" <<CONF
include "$DIR/tsig.key";
options {
  directory "$DIR";
  pid-file "$DIR/named.pid";
  listen-on port $PORT { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { 127.0.0.1; };
  allow-transfer { key "preview-key."; };
};
controls { };
zone "$ZONE" {
  type primary;
  file "$DIR/db.$ZONE";
  allow-update { key "preview-key."; };
  allow-transfer { key "preview-key."; };
};
CONF

# A fresh zone on every (re)start: leftovers of earlier runs would only confuse the tests.
rm -f "$DIR/db.$ZONE.jnl"
cat > "$DIR/db.$ZONE" <<ZONEFILE
\$TTL 60
@   IN SOA ns1.$ZONE. hostmaster.$ZONE. ( 1 3600 600 86400 60 )
@   IN NS  ns1.$ZONE.
ns1 IN A   127.0.0.1
ZONEFILE

if [ -s "$DIR/named.pid" ] && kill -0 "$(cat "$DIR/named.pid")" 2>/dev/null; then
  kill "$(cat "$DIR/named.pid")" || true
  sleep 1
fi
named -c "$DIR/named.conf" -u root

for _ in $(seq 1 50); do
  if answers; then
    echo "bind9: answering on 127.0.0.1:$PORT for $ZONE (key: $DIR/tsig.key)"
    exit 0
  fi
  sleep 0.2
done
echo "bind9: named did not answer on 127.0.0.1:$PORT; see $DIR and 'named -g -c $DIR/named.conf'" >&2
exit 1
