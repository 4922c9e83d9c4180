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
import org.junit.jupiter.api.BeforeAll;

/** The DatabaseProvider contract for mysql against a real MariaDB. */
class MysqlDatabaseProviderKitIT extends DatabaseProviderKit {
  @BeforeAll
  static void baseline() throws SQLException {
    MysqlServer.require();
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE IF NOT EXISTS kit_mysql_baseline");
      st.execute("CREATE TABLE IF NOT EXISTS kit_mysql_baseline.greetings (id INT AUTO_INCREMENT PRIMARY KEY, text VARCHAR(100))");
      st.execute("DELETE FROM kit_mysql_baseline.greetings");
      st.execute("INSERT INTO kit_mysql_baseline.greetings (text) VALUES ('hello from the baseline')");
    }
  }

  @Override
  protected DatabaseProvider createProvider() {
    return MysqlServer.provider().baseline("kit_mysql_baseline").build();
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
