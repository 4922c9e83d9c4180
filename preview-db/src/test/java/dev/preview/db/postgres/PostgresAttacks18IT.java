package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import org.junit.jupiter.api.Test;

/** {@link PostgresAttacks} on zonky's embedded PostgreSQL 18. */
class PostgresAttacks18IT extends PostgresAttacks {
  @Override
  PgAttackServer server() {
    return PgAttackServer.pg18();
  }

  /** The inherited attacks ran against PostgreSQL 18, as the documented minimal admin (no superuser). */
  @Test
  void theSuiteAttacksPostgreSql18ThroughTheMinimalAdmin() throws Exception {
    try (Connection c = server.connect("postgres")) {
      assertThat(PgSql.one(c, "SHOW server_version_num").orElse(""))
          .startsWith("18");
      assertThat(PgSql.one(c, "SELECT rolsuper::text FROM pg_catalog.pg_roles WHERE rolname = current_user")).contains("false");
    }
  }
}
