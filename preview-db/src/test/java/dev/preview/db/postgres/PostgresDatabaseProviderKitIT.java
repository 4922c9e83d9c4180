package dev.preview.db.postgres;

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

/** The DatabaseProvider contract for postgres, mode database, cloning the template of PostgresDatabaseProviderIT. */
class PostgresDatabaseProviderKitIT extends DatabaseProviderKit {
  static PgServer.Admin admin;

  @BeforeAll
  static void server() {
    admin = PgServer.admin();
    try (Connection c = admin.connect("postgres")) {
      if (!PgSql.exists(c, "SELECT 1 FROM pg_database WHERE datname = 'kit_baseline'")) {
        admin.baseline().database("kit_baseline").build().refresh();
        try (Connection b = admin.connect("postgres")) {
          PgSql.ddl(b, "ALTER DATABASE kit_baseline WITH ALLOW_CONNECTIONS true");
        }
        try (Connection b = admin.connect("kit_baseline"); Statement st = b.createStatement()) {
          st.execute("CREATE TABLE greetings (id serial PRIMARY KEY, text text)");
          st.execute("INSERT INTO greetings (text) VALUES ('hello from the baseline')");
        }
        try (Connection b = admin.connect("postgres")) {
          PgSql.ddl(b, "ALTER DATABASE kit_baseline WITH ALLOW_CONNECTIONS false");
        }
      }
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  protected DatabaseProvider createProvider() {
    return admin.provider().baseline("kit_baseline").build();
  }

  @Override
  protected void assertUsable(DatabaseConnection c) {
    try (Connection db = DriverManager.getConnection(c.url(), c.username(), c.password().reveal());
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
