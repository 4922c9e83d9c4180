package dev.preview.db.postgres;

/** {@link PostgresAttacks} on Debian's PostgreSQL 15 ({@code .ci/servers/postgres.sh}, 127.0.0.1:5415). */
class PostgresAttacks15IT extends PostgresAttacks {
  @Override
  PgAttackServer server() {
    return PgAttackServer.pg15();
  }
}
