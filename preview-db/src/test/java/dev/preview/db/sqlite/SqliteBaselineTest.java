package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
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

  @Test
  void flywayMigrationsRunBeforeTheSeedAndARebuildStartsAfresh() throws Exception {
    Path migrations = Files.createDirectories(tmp.resolve("db/migration"));
    Files.writeString(migrations.resolve("V1__items.sql"), "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);");
    Files.writeString(migrations.resolve("V2__price.sql"), "ALTER TABLE items ADD COLUMN price INTEGER;");
    Path seed = Files.writeString(tmp.resolve("seed.sql"), "INSERT INTO items(name, price) VALUES ('a', 1), ('b', 2);");
    Path base = tmp.resolve("out/baseline.db");
    SqliteBaseline baseline = SqliteBaseline.builder().file(base)
        .migrations(List.of("filesystem:" + migrations)).script(seed).build();

    SqliteBaseline.Result first = baseline.rebuild();
    assertThat(first.file()).isEqualTo(base.toAbsolutePath());
    assertThat(first.migrationsApplied()).isEqualTo(2);
    assertThat(first.seedFiles()).isEqualTo(1);
    assertThat(first.sizeBytes()).isEqualTo(Files.size(base)).isPositive();
    assertThat(count(base, "SELECT sum(price) FROM items")).isEqualTo(3);
    assertThat(count(base, "SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(2);

    // built from scratch again: same migrations applied, the seed not doubled
    SqliteBaseline.Result second = baseline.rebuild();
    assertThat(second.migrationsApplied()).isEqualTo(2);
    assertThat(count(base, "SELECT count(*) FROM items")).isEqualTo(2);
  }

  @Test
  void fromConfigReadsBaselineBuildMigrationsAndSeedAndReportsEveryProblem() throws Exception {
    Path migrations = Files.createDirectories(tmp.resolve("m"));
    Files.writeString(migrations.resolve("V1__t.sql"), "CREATE TABLE t (x INTEGER);");
    Path seed = Files.writeString(tmp.resolve("seed.sql"), "INSERT INTO t VALUES (7);");
    Path base = tmp.resolve("baseline.db");
    SqliteBaseline.Result r = SqliteBaseline.fromConfig(ProviderConfig.of("database", Map.of(
        "provider", "sqlite", "directory", tmp.resolve("dbs").toString(), "baseline", base.toString(),
        "build", Map.of("migrations", List.of("filesystem:" + migrations), "seed", List.of(seed.toString()))))).rebuild();
    assertThat(r.migrationsApplied()).isEqualTo(1);
    assertThat(count(base, "SELECT x FROM t")).isEqualTo(7);

    assertThatThrownBy(() -> SqliteBaseline.fromConfig(ProviderConfig.of("database", Map.of(
        "build", Map.of("seed", List.of(tmp.resolve("missing.sql").toString()), "extra", 1)))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("database.baseline").hasMessageContaining("missing.sql").hasMessageContaining("database.build.extra");
  }

  @Test
  void theProviderFactoryAcceptsTheBuildSection() {
    assertThat(new SqliteDatabaseProvider.Factory().create(ProviderContext.of(ProviderConfig.of("database", Map.of(
        "directory", tmp.toString(), "build", Map.of("seed", List.of("x.sql")))))).name()).isEqualTo("sqlite");
  }

  @Test
  void migrationsWithoutAnySeedScriptBuildTheBaseline() throws Exception {
    Path migrations = Files.createDirectories(tmp.resolve("only/db/migration"));
    Files.writeString(migrations.resolve("V1__items.sql"), "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);");
    Path base = SqliteBaseline.builder().file(tmp.resolve("only/baseline.db"))
        .migrations(List.of("filesystem:" + migrations)).build().refresh();
    assertThat(count(base, "SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(1);
  }
}
