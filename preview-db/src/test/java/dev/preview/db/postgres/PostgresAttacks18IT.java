package dev.preview.db.postgres;

/** {@link PostgresAttacks} on zonky's embedded PostgreSQL 18. */
class PostgresAttacks18IT extends PostgresAttacks {
  @Override
  PgAttackServer server() {
    return PgAttackServer.pg18();
  }
}
