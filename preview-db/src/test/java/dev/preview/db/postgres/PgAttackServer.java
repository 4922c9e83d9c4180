package dev.preview.db.postgres;

import dev.preview.spi.Secret;
import dev.preview.testkit.Servers;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;

/**
 * A PostgreSQL server for the attack suites, with the documented minimal admin (LOGIN CREATEDB
 * CREATEROLE, nothing else; it creates, and so owns, the shared database of mode schema).
 *
 * <ul>
 *   <li>{@link #pg15()}: Debian's PostgreSQL 15 that {@code .ci/servers/postgres.sh} starts on
 *       127.0.0.1:5415, with its admin {@code preview_admin}. Env: {@code PREVIEW_PG15_URL},
 *       {@code PREVIEW_PG15_ADMIN_USER}, {@code PREVIEW_PG15_ADMIN_PASSWORD}.</li>
 *   <li>{@link #pg18()}: the embedded PostgreSQL 18 of {@link PgServer} (zonky); its superuser makes
 *       a fresh minimal admin with the same attributes.</li>
 * </ul>
 */
record PgAttackServer(String label, String url, String adminUser, Secret adminPassword) {
  PgServer.Admin admin() {
    return new PgServer.Admin(url, adminUser, adminPassword);
  }

  Connection connect(String db) throws SQLException {
    return DriverManager.getConnection(PgUrl.parse(url).withDatabase(db), adminUser, adminPassword.reveal());
  }

  static PgAttackServer pg15() {
    String url = env("PREVIEW_PG15_URL", "jdbc:postgresql://127.0.0.1:5415/postgres");
    String user = env("PREVIEW_PG15_ADMIN_USER", "preview_admin");
    Secret pw = Secret.of(env("PREVIEW_PG15_ADMIN_PASSWORD", "preview-admin-pw"));
    String failure = null;
    try (Connection c = DriverManager.getConnection(url, user, pw.reveal())) {
      if (!PgSql.one(c, "SHOW server_version_num").orElse("").startsWith("15")) {
        failure = "the server at " + url + " is not PostgreSQL 15";
      }
    } catch (SQLException e) {
      failure = e.getMessage();
    }
    Servers.require("PostgreSQL 15 at " + url + " (admin " + user + ")" + (failure == null ? "" : ": " + failure),
        failure == null, "bash .ci/servers/postgres.sh");
    return new PgAttackServer("15", url, user, pw);
  }

  static PgAttackServer pg18() {
    PgServer.Admin su = PgServer.admin();
    String user = "atk_admin_" + UUID.randomUUID().toString().substring(0, 8);
    Secret pw = Secret.of("pw-" + UUID.randomUUID());
    try (Connection c = su.connect("postgres")) {
      PgSql.ddl(c, "CREATE ROLE %I LOGIN CREATEDB CREATEROLE PASSWORD %L", user, pw.reveal());
      String v = PgSql.one(c, "SHOW server_version_num").orElse("");
      return new PgAttackServer(v.substring(0, 2), su.url(), user, pw);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
