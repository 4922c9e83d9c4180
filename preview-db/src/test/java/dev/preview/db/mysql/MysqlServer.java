package dev.preview.db.mysql;

import dev.preview.spi.Secret;
import dev.preview.testkit.Servers;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The MariaDB/MySQL server of the integration tests: {@code PREVIEW_MYSQL_URL},
 * {@code PREVIEW_MYSQL_USER}, {@code PREVIEW_MYSQL_PASSWORD}, defaulting to what
 * {@code .ci/servers/mariadb.sh} sets up.
 */
final class MysqlServer {
  static final String URL = env("PREVIEW_MYSQL_URL", "jdbc:mariadb://127.0.0.1:3306/");
  static final String USER = env("PREVIEW_MYSQL_USER", "preview_admin");
  static final Secret PASSWORD = Secret.of(env("PREVIEW_MYSQL_PASSWORD", "preview-admin-pw"));

  private MysqlServer() {}

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : v;
  }

  static void require() {
    boolean up;
    String why = "";
    try (Connection c = connect()) {
      up = c.isValid(2);
    } catch (SQLException e) {
      up = false;
      why = ": " + e.getMessage();
    }
    Servers.require("MariaDB/MySQL at " + URL + " as " + USER + why, up, "bash .ci/servers/mariadb.sh");
  }

  static Connection connect() throws SQLException {
    return DriverManager.getConnection(URL.replace("jdbc:mysql:", "jdbc:mariadb:"), USER, PASSWORD.reveal());
  }

  static MysqlDatabaseProvider.Builder provider() {
    return MysqlDatabaseProvider.builder().url(URL).username(USER).password(PASSWORD);
  }
}
