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

/** The DatabaseProvider contract for postgres, mode schema. */
class PostgresSchemaModeKitIT extends DatabaseProviderKit {
  static PgServer.Admin admin;

  @BeforeAll
  static void server() {
    admin = PgServer.admin();
    try (Connection c = admin.connect("postgres")) {
      if (!PgSql.exists(c, "SELECT 1 FROM pg_database WHERE datname = 'kit_shared'")) {
        PgSql.ddl(c, "CREATE DATABASE kit_shared");
        try (Connection s = admin.connect("kit_shared"); Statement st = s.createStatement()) {
          st.execute("CREATE SCHEMA kit_base");
          st.execute("CREATE TABLE kit_base.greetings (id serial PRIMARY KEY, text text)");
          st.execute("INSERT INTO kit_base.greetings (text) VALUES ('hello from the baseline')");
          st.execute("REVOKE ALL ON SCHEMA kit_base FROM PUBLIC");
        }
      }
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  protected DatabaseProvider createProvider() {
    return admin.provider().mode(PostgresDatabaseProvider.Mode.SCHEMA).sharedDatabase("kit_shared").baseline("kit_base").build();
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
