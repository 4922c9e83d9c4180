package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.HostileKeys;
import dev.preview.db.internal.OwnerMark;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteDatabaseProviderTest {
  @TempDir Path tmp;
  Path baseline;
  Path dir;

  @BeforeEach
  void makeBaseline() throws SQLException {
    baseline = tmp.resolve("baseline.db");
    dir = tmp.resolve("dbs");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + baseline); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL)");
      st.execute("CREATE UNIQUE INDEX users_email ON users(email)");
      st.execute("CREATE VIEW emails AS SELECT email FROM users");
      for (int i = 1; i <= 50; i++) {
        st.execute("INSERT INTO users(email) VALUES ('u" + i + "@example.com')");
      }
      st.execute("DELETE FROM users WHERE id > 40"); // sequence (41..50 used) must survive the copy
    }
  }

  SqliteDatabaseProvider provider() {
    return SqliteDatabaseProvider.builder().directory(dir).baseline(baseline).build();
  }

  static Connection open(DatabaseConnection c) throws SQLException {
    return DriverManager.getConnection(c.url());
  }

  static long count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void cloneHasTheBaselinesRowsIndexesViewsAndSequence() throws SQLException {
    PreviewKey key = PreviewKey.pr("acme/shop", 42);
    DatabaseConnection c = provider().create(key, DatabaseSpec.empty());

    Path file = dir.toAbsolutePath().resolve(c.name());
    assertThat(file).isRegularFile().isNotEqualTo(baseline);
    assertThat(c.url()).isEqualTo("jdbc:sqlite:" + file);
    assertThat(c.env()).containsEntry("DATABASE_URL", "jdbc:sqlite:" + file).containsEntry("DATABASE_PATH", file.toString());
    assertThat(c.username()).isNull();
    assertThat(c.secretEnv()).isEmpty();
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(40);
      assertThat(count(db, "SELECT count(*) FROM emails")).isEqualTo(40);
      assertThat(count(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='users_email'")).isEqualTo(1);
      st.execute("INSERT INTO users(email) VALUES ('new@example.com')");
      assertThat(count(db, "SELECT max(id) FROM users")).isEqualTo(51);
      assertThatThrownBy(() -> st.execute("INSERT INTO users(email) VALUES ('u1@example.com')"))
          .hasMessageContaining("UNIQUE");
    }
    // the baseline itself is untouched
    try (Connection b = DriverManager.getConnection("jdbc:sqlite:" + baseline)) {
      assertThat(count(b, "SELECT count(*) FROM users")).isEqualTo(40);
    }
  }

  @Test
  void copyIncludesBaselineChangesStillInItsWriteAheadLog() throws SQLException {
    try (Connection writer = DriverManager.getConnection("jdbc:sqlite:" + baseline); Statement st = writer.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA wal_autocheckpoint=0");
      st.execute("INSERT INTO users(email) VALUES ('only-in-wal@example.com')");
      assertThat(Path.of(baseline + "-wal")).exists();
      DatabaseConnection c = provider().create(PreviewKey.pr("acme/shop", 7), DatabaseSpec.empty());
      try (Connection db = open(c)) {
        assertThat(count(db, "SELECT count(*) FROM users WHERE email='only-in-wal@example.com'")).isEqualTo(1);
      }
    }
  }

  @Test
  void createAgainKeepsTheData() throws SQLException {
    PreviewKey key = PreviewKey.pr("acme/shop", 1);
    DatabaseConnection first = provider().create(key, DatabaseSpec.empty());
    try (Connection db = open(first); Statement st = db.createStatement()) {
      st.execute("DELETE FROM users");
    }
    DatabaseConnection second = provider().create(key, DatabaseSpec.empty());
    assertThat(second.url()).isEqualTo(first.url());
    try (Connection db = open(second)) {
      assertThat(count(db, "SELECT count(*) FROM users")).isZero();
    }
  }

  @Test
  void eachPreviewHasItsOwnFile() throws SQLException {
    DatabaseConnection a = provider().create(PreviewKey.pr("acme/shop", 1), DatabaseSpec.empty());
    DatabaseConnection b = provider().create(PreviewKey.pr("acme/shop", 2), DatabaseSpec.empty());
    try (Connection db = open(a); Statement st = db.createStatement()) {
      st.execute("INSERT INTO users(email) VALUES ('a-only@example.com')");
    }
    try (Connection db = open(b)) {
      assertThat(count(db, "SELECT count(*) FROM users WHERE email='a-only@example.com'")).isZero();
    }
  }

  @Test
  void listReadsTheDirectoryNotMemoryAndDropRemovesEverything() throws Exception {
    PreviewKey a = PreviewKey.pr("acme/shop", 1);
    PreviewKey b = PreviewKey.branch("acme/shop", "feature/x");
    DatabaseConnection ca = provider().create(a, new DatabaseSpec(null, Map.of(Labels.REVISION, "abc123")));
    provider().create(b, DatabaseSpec.empty());
    Files.writeString(dir.resolve("someone-elses.db"), "");
    Files.writeString(dir.resolve("garbage.db.preview"), "not a mark");

    assertThat(provider().list()).containsExactlyInAnyOrder(a, b);

    Path file = Path.of(ca.env().get("DATABASE_PATH"));
    try (Connection db = open(ca); Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("INSERT INTO users(email) VALUES ('x@example.com')");
      assertThat(Path.of(file + "-wal")).exists();
      provider().drop(a);
    }
    assertThat(file).doesNotExist();
    assertThat(Path.of(file + "-wal")).doesNotExist();
    assertThat(Path.of(file + "-shm")).doesNotExist();
    assertThat(provider().list()).containsExactly(b);
    assertThat(dir.resolve("someone-elses.db")).exists();

    provider().drop(a); // idempotent
    provider().drop(b);
    assertThat(provider().list()).isEmpty();
  }

  @Test
  void aMarkWithoutInstanceIsTheDefaultInstallationsAndNeverANamedOnes() throws Exception {
    PreviewKey key = PreviewKey.pr("acme/shop", 11);
    SqliteDatabaseProvider defaults = provider();
    DatabaseConnection c = defaults.create(key, DatabaseSpec.empty());
    // as an earlier version wrote it: no instance label
    Path mark = dir.resolve(Names.dnsLabel(key) + SqliteDatabaseProvider.MARK_SUFFIX);
    Files.writeString(mark, OwnerMark.encode(key, Map.of()) + "\n");
    assertThat(c.name()).isEqualTo(Names.dnsLabel(key) + ".db");

    SqliteDatabaseProvider staging = SqliteDatabaseProvider.builder().directory(dir)
        .installation(Installation.builder().instance("staging").build()).build();
    assertThat(staging.list()).doesNotContain(key);
    staging.drop(key);
    assertThat(defaults.path(key)).exists();
    assertThat(defaults.list()).contains(key);

    defaults.create(key, DatabaseSpec.empty()); // adopts it and records the instance
    assertThat(Files.readString(mark)).contains("\"" + Labels.INSTANCE + "\":\"default\"");
    defaults.drop(key);
    assertThat(defaults.path(key)).doesNotExist();
    assertThat(mark).doesNotExist();
  }

  @Test
  void halfDoneCreateIsListedAndRepairedByTheNextCreate() throws Exception {
    PreviewKey key = PreviewKey.pr("acme/shop", 9);
    SqliteDatabaseProvider p = provider();
    p.create(key, DatabaseSpec.empty());
    Files.delete(p.path(key)); // as if the process died after writing the mark, before the copy

    assertThat(p.list()).containsExactly(key);
    DatabaseConnection c = p.create(key, DatabaseSpec.empty());
    try (Connection db = open(c)) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(40);
    }
  }

  @Test
  void hostileKeysGetValidDistinctFiles() throws SQLException {
    List<PreviewKey> keys = HostileKeys.all();
    SqliteDatabaseProvider p = provider();
    List<String> names = new ArrayList<>();
    for (PreviewKey k : keys) {
      DatabaseConnection c = p.create(k, DatabaseSpec.empty());
      names.add(c.name());
      assertThat(c.name()).matches("[a-z0-9-]+\\.db").hasSizeLessThanOrEqualTo(66);
      try (Connection db = open(c)) {
        assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(40);
      }
    }
    assertThat(names).doesNotHaveDuplicates();
    assertThat(p.list()).containsExactlyInAnyOrderElementsOf(keys);
    keys.forEach(p::drop);
    assertThat(p.list()).isEmpty();
  }

  @Test
  void withoutBaselineTheDatabaseIsEmptyButUsable() throws SQLException {
    SqliteDatabaseProvider p = SqliteDatabaseProvider.builder().directory(dir).build();
    DatabaseConnection c = p.create(PreviewKey.pr("acme/shop", 3), DatabaseSpec.empty());
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM sqlite_master")).isZero();
      st.execute("CREATE TABLE t (x)");
    }
  }

  @Test
  void specBaselineOverridesTheConfiguredOne() throws SQLException {
    Path other = tmp.resolve("other.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + other); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE other (x)");
    }
    DatabaseConnection c = provider().create(PreviewKey.pr("acme/shop", 4), new DatabaseSpec(other.toString(), Map.of()));
    try (Connection db = open(c)) {
      assertThat(count(db, "SELECT count(*) FROM sqlite_master WHERE name='other'")).isEqualTo(1);
      assertThat(count(db, "SELECT count(*) FROM sqlite_master WHERE name='users'")).isZero();
    }
  }

  @Test
  void missingBaselineSaysWhatToDo() {
    SqliteDatabaseProvider p = SqliteDatabaseProvider.builder().directory(dir).baseline(tmp.resolve("nope.db")).build();
    assertThatThrownBy(() -> p.create(PreviewKey.pr("acme/shop", 5), DatabaseSpec.empty()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("nope.db")
        .hasMessageContaining("does not exist");
    assertThat(p.path(PreviewKey.pr("acme/shop", 5))).doesNotExist();
  }

  @Test
  void factoryIsDiscoveredAndValidatesItsConfig() throws SQLException {
    DatabaseProvider.Factory f = ServiceLoader.load(DatabaseProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.name().equals("sqlite")).findFirst().orElseThrow();
    DatabaseProvider p = f.create(ProviderContext.of(ProviderConfig.of("database",
        Map.of("provider", "sqlite", "directory", dir.toString(), "baseline", baseline.toString()))));
    DatabaseConnection c = p.create(PreviewKey.pr("acme/shop", 6), DatabaseSpec.empty());
    try (Connection db = open(c)) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(40);
    }
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("database", Map.of("directroy", "x")))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("database.directroy: unknown key");
  }
}
