package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.testkit.DatabaseProviderKit;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The DatabaseProvider contract for sqlite: files in a temp directory, cloned from a small baseline. */
class SqliteDatabaseProviderKitTest extends DatabaseProviderKit {
  @TempDir Path tmp;

  @BeforeEach
  void baseline() throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("baseline.db"));
         Statement st = c.createStatement()) {
      st.execute("CREATE TABLE greetings (id INTEGER PRIMARY KEY, text TEXT)");
      st.execute("INSERT INTO greetings(text) VALUES ('hello from the baseline')");
    }
  }

  @Override
  protected DatabaseProvider createProvider() {
    return SqliteDatabaseProvider.builder().directory(tmp.resolve("dbs")).build();
  }

  @Override
  protected DatabaseSpec spec(PreviewKey key) {
    return new DatabaseSpec(tmp.resolve("baseline.db").toString(), java.util.Map.of());
  }

  @Override
  protected void assertUsable(DatabaseConnection c) {
    try (Connection db = DriverManager.getConnection(c.url()); Statement st = db.createStatement()) {
      st.execute("INSERT INTO greetings(text) VALUES ('written by the kit')");
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM greetings WHERE text LIKE '%baseline'")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(1);
      }
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }
}
