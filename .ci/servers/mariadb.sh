#!/usr/bin/env bash
# MariaDB for the integration tests of preview-db's mysql provider.
#
# Starts Debian's mariadbd on 127.0.0.1:3306 and makes the admin user the tests use:
# `preview_admin`@`127.0.0.1` / `localhost` with password `preview-admin-pw` and ALL ... WITH GRANT
# OPTION (the provider creates databases and users). The tests read PREVIEW_MYSQL_URL,
# PREVIEW_MYSQL_USER and PREVIEW_MYSQL_PASSWORD, defaulting to exactly these values.
# Idempotent: starts nothing if the server already answers; (re)creates the user every time.
set -euo pipefail

PORT=3306
PIDFILE=/run/mysqld/preview-mariadb.pid
ADMIN_USER=preview_admin
ADMIN_PW=preview-admin-pw

. "$(dirname "$0")/../lib.sh" # apt_install
apt_install mariadb-server mariadb-client

answers() { mariadb -uroot --protocol=socket -e 'SELECT 1' >/dev/null 2>&1; }

mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld
if ! answers; then
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  start-stop-daemon --start --background --make-pidfile --pidfile "$PIDFILE" \
    --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1 --port="$PORT"
  for _ in $(seq 1 100); do
    answers && break
    sleep 0.2
  done
fi
if ! answers; then
  echo "mariadb: mariadbd did not answer; see 'journalctl' or run /usr/sbin/mariadbd --user=mysql in the foreground" >&2
  exit 1
fi

mariadb -uroot --protocol=socket <<SQL
CREATE USER IF NOT EXISTS '$ADMIN_USER'@'127.0.0.1' IDENTIFIED BY '$ADMIN_PW';
CREATE USER IF NOT EXISTS '$ADMIN_USER'@'localhost' IDENTIFIED BY '$ADMIN_PW';
ALTER USER '$ADMIN_USER'@'127.0.0.1' IDENTIFIED BY '$ADMIN_PW';
ALTER USER '$ADMIN_USER'@'localhost' IDENTIFIED BY '$ADMIN_PW';
GRANT ALL PRIVILEGES ON *.* TO '$ADMIN_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$ADMIN_USER'@'localhost' WITH GRANT OPTION;
SQL
echo "mariadb: answering on 127.0.0.1:$PORT (admin: $ADMIN_USER)"
