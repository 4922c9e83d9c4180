package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PR's own migrations, from its checkout, applied to its own SQLite file and nothing else. */
class SqliteBranchMigrationsTest {
  static final PreviewKey A = PreviewKey.pr("acme/shop", 1);
  static final PreviewKey B = PreviewKey.pr("acme/shop", 2);

  @TempDir Path tmp;
  Path baseline;
  SqliteDatabaseProvider sqlite;

  @BeforeEach
  void baselineWithV1() throws Exception {
    Path main = tmp.resolve("main/db/migration");
    Files.createDirectories(main);
    Files.writeString(main.resolve("V1__users.sql"), "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n");
    baseline = SqliteBaseline.builder().file(tmp.resolve("baseline.db")).migrations(List.of("filesystem:" + main))
        .build().refresh();
    sqlite = SqliteDatabaseProvider.builder().directory(tmp.resolve("dbs")).baseline(baseline)
        .branchMigrations("db/migration").build();
  }

  Path checkout(String name, Map<String, String> migrations) throws Exception {
    Path dir = tmp.resolve(name).resolve("db/migration");
    Files.createDirectories(dir);
    for (var m : migrations.entrySet()) {
      Files.writeString(dir.resolve(m.getKey()), m.getValue());
    }
    return tmp.resolve(name);
  }

  static DatabaseSpec spec(Path checkout) {
    return new DatabaseSpec(null, Map.of(), checkout);
  }

  static List<String> tables(DatabaseConnection c) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection db = DriverManager.getConnection(c.url()); Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
             + " AND name <> 'flyway_schema_history' ORDER BY name")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void theBranchsNewMigrationShapesOnlyItsOwnPreviewAndRunsOncePerPush() throws Exception {
    Path pr = checkout("pr1", Map.of("V1__users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
        "V2__notes.sql", "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('from the PR');\n"));

    DatabaseConnection a = sqlite.create(A, spec(pr));
    DatabaseConnection b = sqlite.create(B, spec(checkout("pr2", Map.of())));

    assertThat(tables(a)).containsExactly("notes", "users");
    assertThat(tables(b)).containsExactly("users");
    // the next push: applied ones are skipped, the row is not inserted twice
    sqlite.create(A, spec(pr));
    try (Connection db = DriverManager.getConnection(a.url()); Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM notes")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(1);
    }
  }

  @Test
  void aMigrationCannotAttachOrWriteAnotherFile() throws Exception {
    DatabaseConnection b = sqlite.create(B, spec(checkout("pr2", Map.of())));
    Path bFile = Path.of(b.url().substring("jdbc:sqlite:".length()));
    Path outside = tmp.resolve("planted.db");

    Path attach = checkout("attach", Map.of("V2__steal.sql",
        "ATTACH DATABASE '" + bFile + "' AS other; INSERT INTO other.users(email) VALUES ('owned');\n"));
    assertThatThrownBy(() -> sqlite.create(A, spec(attach))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("branch's migrations").hasMessageContaining("too many attached databases");

    Path vacuum = checkout("vacuum", Map.of("V2__copy.sql", "VACUUM INTO '" + outside + "';\n"));
    assertThatThrownBy(() -> sqlite.create(PreviewKey.pr("acme/shop", 3), spec(vacuum)))
        .isInstanceOf(ProviderException.class);

    assertThat(outside).doesNotExist();
    try (Connection db = DriverManager.getConnection(b.url()); Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM users WHERE email = 'owned'")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
  }

  @Test
  void aFailingMigrationNamesItsFileAndTheError() throws Exception {
    Path pr = checkout("bad", Map.of("V2__broken.sql", "CREATE TABLE notes (;\n"));
    assertThatThrownBy(() -> sqlite.create(A, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__broken.sql").hasMessageContaining("syntax error");
  }

  @Test
  void aMigrationsDirectoryOutsideTheCheckoutIsRefused() throws Exception {
    Path elsewhere = tmp.resolve("elsewhere");
    Files.createDirectories(elsewhere);
    Files.writeString(elsewhere.resolve("V2__x.sql"), "CREATE TABLE x (a TEXT);\n");
    Path pr = tmp.resolve("pr-link");
    Files.createDirectories(pr.resolve("db"));
    Files.createSymbolicLink(pr.resolve("db/migration"), elsewhere);

    assertThatThrownBy(() -> sqlite.create(A, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("outside the PR's checkout");
    assertThatThrownBy(() -> SqliteDatabaseProvider.builder().directory(tmp).branchMigrations("/abs").build())
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("relative to the PR's checkout");
  }

  @Test
  void noBranchDirectoryIsNotAnError() throws Exception {
    DatabaseConnection a = sqlite.create(A, spec(tmp.resolve("nothing-here")));
    assertThat(tables(a)).containsExactly("users");
  }

  @Test
  void aMigrationFileLinkedToAHostFileIsNeverReadAndItsTextNeverComesBack() throws Exception {
    Path hostFile = Files.writeString(tmp.resolve("host-secret.txt"), "HOST-SECRET-LINE not sql at all\n");
    Path pr = tmp.resolve("pr-file-link");
    Files.createDirectories(pr.resolve("db/migration"));
    Files.createSymbolicLink(pr.resolve("db/migration/V2__leak.sql"), hostFile);

    assertThatThrownBy(() -> sqlite.create(A, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__leak.sql").hasMessageContaining("outside the PR's checkout")
        .hasMessageNotContaining("HOST-SECRET-LINE");
  }

  @Test
  void aFailingMigrationsReasonCarriesNeitherItsStatementNorAHostPath() throws Exception {
    Path pr = checkout("bad-statement", Map.of("V2__broken.sql", "CREATE TABLE notes (;\n"));
    assertThatThrownBy(() -> sqlite.create(A, spec(pr))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("V2__broken.sql").hasMessageNotContaining("CREATE TABLE notes (")
        .hasMessageNotContaining(tmp.toString());
  }
}
