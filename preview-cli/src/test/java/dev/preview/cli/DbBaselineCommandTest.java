package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code preview db baseline} with the embedded default (sqlite), and its refusals and config errors. */
class DbBaselineCommandTest {
  @TempDir Path dir;
  Path migrations;
  Path seed;
  Path baseline;

  static Result preview(String... args) {
    return CliRun.run(args);
  }

  @BeforeEach
  void project() throws IOException {
    migrations = Files.createDirectories(dir.resolve("src/main/resources/db/migration"));
    Files.writeString(migrations.resolve("V1__greetings.sql"), "CREATE TABLE greetings (id INTEGER PRIMARY KEY, text TEXT NOT NULL);");
    Files.writeString(migrations.resolve("V2__lang.sql"), "ALTER TABLE greetings ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';");
    seed = Files.writeString(dir.resolve("seed.sql"), "INSERT INTO greetings(text) VALUES ('hello'), ('hi');");
    baseline = dir.resolve(".preview/baseline.db");
  }

  Path config(String database) throws IOException {
    return Files.writeString(dir.resolve("preview.yaml"), "repository: acme/shop\napp:\n  command: [true]\n" + database);
  }

  Path sqliteConfig() throws IOException {
    return config("""
        database:
          provider: sqlite
          directory: %s
          baseline: %s
          build:
            migrations: ['filesystem:%s']
            seed: ['%s']
        """.formatted(dir.resolve("dbs"), baseline, migrations, seed));
  }

  static List<String> column(Path db, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void buildsTheSqliteBaselineFromMigrationsAndSeedThenRefreshesIt() throws Exception {
    Path config = sqliteConfig();

    Result first = preview("db", "baseline", "--config", config.toString());

    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out()).contains("sqlite baseline " + baseline.toAbsolutePath())
        .contains("2 migrations applied, 1 seed file, ").containsPattern("\\d+\\.\\d kB, in ");
    assertThat(column(baseline, "SELECT text || ':' || lang FROM greetings ORDER BY id")).containsExactly("hello:en", "hi:en");
    assertThat(column(baseline, "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank"))
        .containsExactly("1", "2");

    // the seed changed: a second run rebuilds from scratch (no doubled rows, same migrations)
    Files.writeString(seed, "INSERT INTO greetings(text, lang) VALUES ('bonjour', 'fr');");
    Result second = preview("db", "baseline", "--config", config.toString());

    assertThat(second.code()).as(second.err()).isZero();
    assertThat(second.out()).contains("2 migrations applied, 1 seed file");
    assertThat(column(baseline, "SELECT text || ':' || lang FROM greetings ORDER BY id")).containsExactly("bonjour:fr");
    try (var files = Files.list(baseline.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("baseline.db"); // no temp file left
    }
  }

  @Test
  void aFailingMigrationExitsOneAndLeavesTheOldBaseline() throws Exception {
    Path config = sqliteConfig();
    assertThat(preview("db", "baseline", "--config", config.toString()).code()).isZero();
    Files.writeString(migrations.resolve("V3__broken.sql"), "ALTER TABLE nowhere ADD COLUMN x INTEGER;");

    Result run = preview("db", "baseline", "--config", config.toString());

    assertThat(run.code()).isEqualTo(PreviewCli.FAILED);
    assertThat(run.err()).contains("migrations from").contains("nowhere");
    assertThat(column(baseline, "SELECT count(*) FROM greetings")).containsExactly("2");
  }

  @Test
  void mysqlAndRedisSayClearlyThatTheyCannotBuildABaseline() throws Exception {
    Result mysql = preview("db", "baseline", "--config", config("""
        database:
          provider: mysql
          url: jdbc:mariadb://127.0.0.1:3306/
          baseline: shop_baseline
        """).toString());
    assertThat(mysql.code()).isEqualTo(PreviewCli.USAGE);
    assertThat(mysql.err()).contains("not supported for database provider mysql").contains("database.baseline");

    Result redis = preview("db", "baseline", "--config", config("database:\n  provider: redis\n").toString());
    assertThat(redis.code()).isEqualTo(PreviewCli.USAGE);
    assertThat(redis.err()).contains("not supported for database provider redis");
  }

  @Test
  void configurationProblemsAreAllReportedWithExitTwo() throws Exception {
    Result noSection = preview("db", "baseline", "--config", config("").toString());
    assertThat(noSection.code()).isEqualTo(PreviewCli.USAGE);
    assertThat(noSection.err()).contains("no database section");

    Result bad = preview("db", "baseline", "--config", config("""
        database:
          provider: sqlite
          build:
            seed: ['%s']
            migration: oops
          password: ${DB_BASELINE_TEST_UNSET_VARIABLE}
        """.formatted(dir.resolve("missing.sql"))).toString());
    assertThat(bad.code()).isEqualTo(PreviewCli.USAGE);
    assertThat(bad.err()).contains("database.baseline").contains("missing.sql").contains("database.build.migration")
        .contains("DB_BASELINE_TEST_UNSET_VARIABLE");

    Result noSubcommand = preview("db");
    assertThat(noSubcommand.code()).isEqualTo(PreviewCli.USAGE);
    assertThat(noSubcommand.err()).contains("baseline");
    assertThat(preview("db", "baseline").code()).isEqualTo(PreviewCli.USAGE); // --config is required
  }

  @Test
  void sizesReadWell() {
    assertThat(DbCommand.Baseline.size(512)).isEqualTo("512 B");
    assertThat(DbCommand.Baseline.size(8 * 1024 + 512)).isEqualTo("8.5 kB");
    assertThat(DbCommand.Baseline.size(17_400_000)).isEqualTo("16.6 MB");
  }
}
