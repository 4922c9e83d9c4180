package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import org.junit.jupiter.api.Test;

/** {@link PostgresAttacks} on Debian's PostgreSQL 15 ({@code .ci/servers/postgres.sh}, 127.0.0.1:5415). */
class PostgresAttacks15IT extends PostgresAttacks {
  @Override
  PgAttackServer server() {
    return PgAttackServer.pg15();
  }

  /** The inherited attacks ran against PostgreSQL 15, as the documented minimal admin (no superuser). */
  @Test
  void theSuiteAttacksPostgreSql15ThroughTheMinimalAdmin() throws Exception {
    try (Connection c = server.connect("postgres")) {
      assertThat(PgSql.one(c, "SHOW server_version_num").orElse(""))
          .startsWith("15");
      assertThat(PgSql.one(c, "SELECT rolsuper::text FROM pg_catalog.pg_roles WHERE rolname = current_user")).contains("false");
    }
  }
}
