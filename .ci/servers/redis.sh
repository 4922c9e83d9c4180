#!/usr/bin/env bash
# Redis 7 for the integration tests of preview-db's redis provider (the attack suite needs ACL
# selectors, FUNCTION and channel rules; the embedded-redis 6.2 of the other tests has no FUNCTION).
#
# Installs Debian's redis-server and starts one throwaway instance on 127.0.0.1:6390 without any
# persistence, with the `default` user off (else any client could AUTH as it and bypass every ACL)
# and an admin `preview-admin` / `preview-admin-pw` with every right. The tests read
# PREVIEW_REDIS7_URL, PREVIEW_REDIS7_USER and PREVIEW_REDIS7_PASSWORD, defaulting to exactly these
# values. The aclfile tests start
# their own redis-server (/usr/bin/redis-server, or PREVIEW_REDIS_SERVER) in a temporary directory,
# because they restart it.
# Idempotent: starts nothing if the instance already answers.
set -euo pipefail

PORT=6390
DIR=/tmp/preview-redis-$PORT
ADMIN_USER=preview-admin
ADMIN_PW=preview-admin-pw

. "$(dirname "$0")/../lib.sh" # apt_install
apt_install redis-server redis-tools

cli() { redis-cli -h 127.0.0.1 -p "$PORT" --user "$ADMIN_USER" --pass "$ADMIN_PW" --no-auth-warning "$@"; }
answers() { [ "$(cli PING 2>/dev/null)" = "PONG" ]; }

if ! answers; then
  mkdir -p "$DIR"
  cat > "$DIR/redis.conf" <<CONF
port $PORT
bind 127.0.0.1
save ""
appendonly no
daemonize yes
dir $DIR
pidfile $DIR/redis.pid
logfile $DIR/redis.log
user $ADMIN_USER on >$ADMIN_PW ~* &* +@all
user default off
CONF
  redis-server "$DIR/redis.conf"
  for _ in $(seq 1 100); do
    answers && break
    sleep 0.1
  done
fi
if ! answers; then
  echo "redis: redis-server did not answer on 127.0.0.1:$PORT; see $DIR/redis.log" >&2
  exit 1
fi
echo "redis: $(cli INFO server | tr -d '\r' | grep '^redis_version') answering on 127.0.0.1:$PORT"
