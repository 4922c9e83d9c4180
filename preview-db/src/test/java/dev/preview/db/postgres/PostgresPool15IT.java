package dev.preview.db.postgres;

/** The warm pool on Debian's PostgreSQL 15 ({@code .ci/servers/postgres.sh}). */
class PostgresPool15IT extends PostgresPoolContract {
  @Override
  PgAttackServer server() {
    return PgAttackServer.pg15();
  }
}
