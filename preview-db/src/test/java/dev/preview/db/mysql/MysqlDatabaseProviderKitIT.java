package dev.preview.db.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.testkit.DatabaseProviderKit;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The DatabaseProvider contract for mysql against a real MariaDB. */
class MysqlDatabaseProviderKitIT extends DatabaseProviderKit {
  static final String BASELINE = "kit_mysql_baseline_" + UUID.randomUUID().toString().substring(0, 8);

  @AfterAll
  static void dropBaseline() throws SQLException {
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + BASELINE);
    }
  }

  @BeforeAll
  static void baseline() throws SQLException {
    MysqlServer.require();
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + BASELINE);
      st.execute("CREATE TABLE " + BASELINE + ".greetings (id INT AUTO_INCREMENT PRIMARY KEY, text VARCHAR(100))");
      st.execute("INSERT INTO " + BASELINE + ".greetings (text) VALUES ('hello from the baseline')");
    }
  }

  @Override
  protected DatabaseProvider createProvider() {
    return MysqlServer.provider().baseline(BASELINE).build();
  }

  @Override
  protected void assertUsable(DatabaseConnection c) {
    try (Connection db = DriverManager.getConnection(c.url().replace("jdbc:mysql:", "jdbc:mariadb:"), c.username(), c.password().reveal());
         Statement st = db.createStatement()) {
      st.execute("INSERT INTO greetings (text) VALUES ('written by the kit')");
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM greetings WHERE text LIKE '%baseline'")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(1);
      }
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }
}
