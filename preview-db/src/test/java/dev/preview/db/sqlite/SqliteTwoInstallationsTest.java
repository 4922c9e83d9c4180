package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.db.TwoInstallationsContract;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.Installation;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/** Two installations sharing one SQLite directory. */
class SqliteTwoInstallationsTest extends TwoInstallationsContract {
  @TempDir Path tmp;

  @Override
  protected DatabaseProvider provider(Installation installation) {
    return SqliteDatabaseProvider.builder().directory(tmp.resolve("dbs")).installation(installation).build();
  }

  @Override
  protected void write(DatabaseConnection c, String text) throws SQLException {
    try (Connection db = DriverManager.getConnection(c.url())) {
      db.createStatement().execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)");
      try (PreparedStatement ps = db.prepareStatement("INSERT INTO notes (text) VALUES (?)")) {
        ps.setString(1, text);
        ps.executeUpdate();
      }
    }
  }

  @Override
  protected List<String> read(DatabaseConnection c) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection db = DriverManager.getConnection(c.url());
         ResultSet rs = db.createStatement().executeQuery("SELECT text FROM notes ORDER BY text")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  @Override
  protected void assertCannotRead(DatabaseConnection mine, DatabaseConnection other) {
    // SQLite has no users: isolation is one file per preview (the rows were checked by the caller)
    assertThat(Path.of(mine.env().get("DATABASE_PATH"))).isNotEqualTo(Path.of(other.env().get("DATABASE_PATH")));
  }

  @Override
  protected void assertDropped(DatabaseConnection c) {
    assertThat(Path.of(c.env().get("DATABASE_PATH"))).doesNotExist();
  }
}
