package dev.preview.db.postgres;

/** The warm pool on the embedded PostgreSQL 18 (zonky), with a minimal admin. */
class PostgresPool18IT extends PostgresPoolContract {
  @Override
  PgAttackServer server() {
    return PgAttackServer.pg18();
  }
}
