package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteBaselineTest {
  @TempDir Path tmp;

  static long count(Path db, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void buildsFromScriptsInOrderAndPreviewsCloneIt() throws Exception {
    Path schema = tmp.resolve("schema.sql");
    Files.writeString(schema, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\nCREATE INDEX items_name ON items(name);\n");
    Path base = tmp.resolve("b/baseline.db");
    SqliteBaseline.builder().file(base).script(schema)
        .sql("seed", "INSERT INTO items(name) VALUES ('a'); INSERT INTO items(name) VALUES ('b');").build().refresh();
    assertThat(count(base, "SELECT count(*) FROM items")).isEqualTo(2);

    DatabaseConnection c = SqliteDatabaseProvider.builder().directory(tmp.resolve("dbs")).baseline(base).build()
        .create(PreviewKey.pr("acme/shop", 1), DatabaseSpec.empty());
    assertThat(count(Path.of(c.env().get("DATABASE_PATH")), "SELECT count(*) FROM items")).isEqualTo(2);
  }

  @Test
  void aFailedRebuildLeavesTheOldBaselineInPlace() throws Exception {
    Path base = tmp.resolve("baseline.db");
    SqliteBaseline.builder().file(base).sql("v1", "CREATE TABLE t (x); INSERT INTO t VALUES (1);").build().refresh();
    assertThatThrownBy(() -> SqliteBaseline.builder().file(base)
        .sql("v2", "CREATE TABLE t (x); INSERT INTO nope VALUES (1);").build().refresh())
        .isInstanceOf(ProviderException.class).hasMessageContaining("v2");
    assertThat(count(base, "SELECT count(*) FROM t")).isEqualTo(1);
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("baseline.db");
    }
  }
}
