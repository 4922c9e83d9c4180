#!/usr/bin/env bash
# PostgreSQL 15 (Debian's `postgresql`) for preview-db's integration tests, beside the embedded
# PostgreSQL 18 (zonky) the tests start themselves: the hostile-PR attack suite and the minimal-admin
# tests run against both, since the `public` schema's rights and role inheritance differ.
#
# A cluster of its own in $PREVIEW_PG15_DIR (default /tmp/preview-pg15), initdb'd and run as the
# `postgres` user, listening on 127.0.0.1:$PREVIEW_PG15_PORT (default 5415) with scram-sha-256 for
# every role (no trust), fsync off. Roles:
#   postgres       / preview-pg-superuser-pw   the superuser (tests use it only to check and clean up)
#   preview_admin  / preview-admin-pw          the documented minimal admin: LOGIN CREATEDB CREATEROLE,
#                                              owner of the database `previews` (mode schema's shared one)
# The tests read PREVIEW_PG15_URL (jdbc:postgresql://127.0.0.1:5415/postgres),
# PREVIEW_PG15_SUPERUSER_PASSWORD, PREVIEW_PG15_ADMIN_USER and PREVIEW_PG15_ADMIN_PASSWORD,
# defaulting to exactly these values.
# Idempotent: starts nothing if the server already answers; (re)creates the admin every time.
set -euo pipefail

DIR="${PREVIEW_PG15_DIR:-/tmp/preview-pg15}"
PORT="${PREVIEW_PG15_PORT:-5415}"
SU_PW=preview-pg-superuser-pw
ADMIN_USER=preview_admin
ADMIN_PW=preview-admin-pw

. "$(dirname "$0")/../lib.sh" # apt_install
apt_install postgresql   # a no-op when installed; makes the `postgres` user too
BIN=/usr/lib/postgresql/15/bin

as_pg() { (cd / && runuser -u postgres -- "$@"); }
psql_su() { PGPASSWORD="$SU_PW" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"; }
answers() { PGPASSWORD="$SU_PW" "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres; }

if ! answers; then
  mkdir -p "$DIR"
  chown postgres:postgres "$DIR"
  if [ ! -s "$DIR/data/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$SU_PW" > "$pwfile"
    chown postgres "$pwfile"
    as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat > "$DIR/data/pg_hba.conf" <<HBA
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
HBA
  fi
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c unix_socket_directories=$DIR" >/dev/null
fi

for _ in $(seq 1 100); do
  answers && break
  sleep 0.2
done
if ! answers; then
  echo "postgres.sh: PostgreSQL 15 did not answer on 127.0.0.1:$PORT; last lines of $DIR/server.log:" >&2
  tail -n 30 "$DIR/server.log" >&2 || true
  exit 1
fi

psql_su <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '$ADMIN_USER') THEN
    CREATE ROLE $ADMIN_USER LOGIN CREATEDB CREATEROLE;
  END IF;
END \$\$;
ALTER ROLE $ADMIN_USER LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD '$ADMIN_PW';
SQL
if ! psql_su -tAc "SELECT 1 FROM pg_catalog.pg_database WHERE datname = 'previews'" | grep -q 1; then
  psql_su -c "CREATE DATABASE previews OWNER $ADMIN_USER"
fi
echo "postgres.sh: PostgreSQL $(psql_su -tAc 'SHOW server_version') on 127.0.0.1:$PORT (admin $ADMIN_USER: CREATEDB CREATEROLE, owns database previews)"
