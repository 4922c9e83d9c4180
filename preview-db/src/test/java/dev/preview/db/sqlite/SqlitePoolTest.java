package dev.preview.db.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite warm pool ({@code pool: {size: N}}): a pooled file is the current baseline, a rebuilt or
 * written baseline discards the pool, a crash mid-handout leaves a mark that list() sees and the next
 * create finishes, creates at once never get one member, members are never previews.
 */
class SqlitePoolTest {
  @TempDir Path tmp;
  Path baseline;
  Path dir;
  final List<SqliteDatabaseProvider> providers = new ArrayList<>();

  @BeforeEach
  void makeBaseline() throws Exception {
    baseline = tmp.resolve("baseline.db");
    dir = tmp.resolve("dbs");
    build("first");
  }

  @AfterEach
  void close() {
    providers.forEach(SqliteDatabaseProvider::close);
  }

  /** Builds a baseline into a new file and swaps it in, as SqliteBaseline.refresh() does. */
  void build(String greeting) throws Exception {
    Path next = tmp.resolve("next-" + System.nanoTime() + ".db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + next); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE greetings (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)");
      st.execute("INSERT INTO greetings(text) VALUES ('" + greeting + "')");
    }
    Files.move(next, baseline, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  SqliteDatabaseProvider provider(int size) {
    SqliteDatabaseProvider p = SqliteDatabaseProvider.builder().directory(dir).baseline(baseline).pool(size).build();
    providers.add(p);
    return p;
  }

  static String greeting(DatabaseConnection db) throws SQLException {
    try (Connection c = DriverManager.getConnection(db.url()); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT text FROM greetings")) {
      assertThat(rs.next()).isTrue();
      String text = rs.getString(1);
      assertThat(rs.next()).isFalse();
      st.execute("INSERT INTO greetings(text) VALUES ('mine')");
      return text;
    }
  }

  List<String> members(SqliteDatabaseProvider p) throws Exception {
    if (!Files.isDirectory(p.pool().directory())) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(p.pool().directory())) {
      return s.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".db")).sorted().toList();
    }
  }

  @Test
  void aPooledFileIsTheCurrentBaselineNeverAPreviewAndThePoolRefills() throws Exception {
    SqliteDatabaseProvider p = provider(2);
    assertThat(p.warmPool()).isEqualTo(2);
    List<String> before = members(p);
    assertThat(before).hasSize(2);
    assertThat(p.list()).as("pool members are never previews").isEmpty();

    PreviewKey k = PreviewKey.pr("acme/shop", 1);
    DatabaseConnection db = p.create(k, DatabaseSpec.empty());

    assertThat(p.pool().taken()).hasSize(1);
    assertThat(before).contains(p.pool().taken().get(0));
    assertThat(greeting(db)).isEqualTo("first");
    assertThat(p.list()).containsExactly(k);
    await().atMost(Duration.ofSeconds(30)).until(() -> p.poolReady() == 2);

    // another push: the same file (its rows kept), no second member taken
    DatabaseConnection again = p.create(k, DatabaseSpec.empty());
    try (Connection c = DriverManager.getConnection(again.url()); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM greetings")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(2);
    }
    assertThat(p.pool().taken()).hasSize(1);
    p.drop(k);
    assertThat(p.list()).isEmpty();
    assertThat(members(p)).hasSize(2);
  }

  @Test
  void aRebuiltBaselineDiscardsThePool() throws Exception {
    SqliteDatabaseProvider p = provider(2);
    p.warmPool();
    List<String> old = members(p);
    p.close(); // no background refill racing the assertions below

    build("second");

    assertThat(p.poolReady()).isZero();
    assertThat(greeting(p.create(PreviewKey.pr("acme/shop", 1), DatabaseSpec.empty()))).isEqualTo("second");
    assertThat(p.pool().taken()).isEmpty();

    SqliteDatabaseProvider fresh = provider(2);
    assertThat(fresh.warmPool()).isEqualTo(2);
    assertThat(members(fresh)).doesNotContainAnyElementsOf(old).hasSize(2);
    assertThat(greeting(fresh.create(PreviewKey.pr("acme/shop", 2), DatabaseSpec.empty()))).isEqualTo("second");
    assertThat(fresh.pool().taken()).hasSize(1);
  }

  @Test
  void aWriteIntoTheBaselineDiscardsThePool() throws Exception {
    SqliteDatabaseProvider p = provider(1);
    p.warmPool();
    p.close();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + baseline); Statement st = c.createStatement()) {
      st.execute("UPDATE greetings SET text = 'edited'"); // in place: same file
    }
    assertThat(p.poolReady()).isZero();
    assertThat(greeting(p.create(PreviewKey.pr("acme/shop", 1), DatabaseSpec.empty()))).isEqualTo("edited");
    assertThat(p.pool().taken()).isEmpty();
  }

  @Test
  void aCrashMidHandoutLeavesAMarkThatListSeesAndTheNextCreateFinishes() throws Exception {
    SqliteDatabaseProvider p = provider(1);
    p.warmPool();
    p.close();
    p.pool().beforeTake = () -> {
      throw new IllegalStateException("crash before the rename");
    };
    PreviewKey k = PreviewKey.pr("acme/shop", 1);
    assertThatThrownBy(() -> p.create(k, DatabaseSpec.empty())).hasMessageContaining("crash before the rename");
    assertThat(Files.exists(p.path(k))).isFalse();
    assertThat(members(p)).as("the member is still in the pool").hasSize(1);

    // after a restart: the key is listed (reconcile can drop it), and the next create finishes it
    SqliteDatabaseProvider restarted = provider(1);
    restarted.close();
    assertThat(restarted.list()).containsExactly(k);
    assertThat(greeting(restarted.create(k, DatabaseSpec.empty()))).isEqualTo("first");
    assertThat(restarted.pool().taken()).hasSize(1);

    // a crash right after the rename: the preview's file and its mark, nothing else
    PreviewKey k2 = PreviewKey.pr("acme/shop", 2);
    restarted.warmPool();
    restarted.pool().afterTake = () -> {
      throw new IllegalStateException("crash after the rename");
    };
    assertThatThrownBy(() -> restarted.create(k2, DatabaseSpec.empty())).hasMessageContaining("crash after the rename");
    assertThat(restarted.list()).containsExactlyInAnyOrder(k, k2);
    restarted.drop(k2);
    assertThat(Files.exists(restarted.path(k2))).isFalse();
    assertThat(restarted.list()).containsExactly(k);
  }

  @Test
  void createsAtOnceNeverGetTheSameMember() throws Exception {
    int previews = 6;
    SqliteDatabaseProvider p = provider(3);
    p.warmPool();
    p.close();
    CyclicBarrier listed = new CyclicBarrier(previews);
    p.pool().beforeTake = () -> {
      try {
        listed.await(30, TimeUnit.SECONDS); // every create has listed the same three members: the renames really race
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    ExecutorService threads = Executors.newFixedThreadPool(previews);
    List<Future<DatabaseConnection>> runs = new ArrayList<>();
    for (int i = 1; i <= previews; i++) {
      PreviewKey k = PreviewKey.pr("acme/shop", i);
      runs.add(threads.submit(() -> p.create(k, DatabaseSpec.empty())));
    }
    List<DatabaseConnection> dbs = new ArrayList<>();
    for (Future<DatabaseConnection> f : runs) {
      dbs.add(f.get(60, TimeUnit.SECONDS));
    }
    threads.shutdown();
    List<String> taken = p.pool().taken();
    assertThat(new HashSet<>(taken)).hasSameSizeAs(taken);
    assertThat(taken).hasSize(3);
    for (DatabaseConnection db : dbs) {
      assertThat(greeting(db)).isEqualTo("first");
    }
    assertThat(p.list()).hasSize(previews);
    assertThat(members(p)).isEmpty();
  }

  @Test
  void configOffByDefaultOnWithASizeAndEveryProblemAtOnce() {
    assertThat(factory(Map.of("baseline", "b.db")).pool()).isNull();
    assertThat(factory(Map.of("baseline", "b.db", "pool", Map.of())).pool().size()).as("pool: {} means 3").isEqualTo(3);
    assertThat(factory(Map.of("baseline", "b.db", "pool", Map.of("size", 0))).pool()).isNull();
    assertThatThrownBy(() -> factory(Map.of("branchMigrations", "/abs", "pool", Map.of("size", 2, "sise", 1))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("database.pool: needs a baseline file to copy")
        .hasMessageContaining("database.pool.sise: unknown key")
        .hasMessageContaining("database.branchMigrations");
    assertThatThrownBy(() -> SqliteDatabaseProvider.builder().directory(dir).pool(2).build())
        .hasMessageContaining("pool needs a baseline file");
  }

  SqliteDatabaseProvider factory(Map<String, Object> extra) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("provider", "sqlite");
    m.put("directory", dir.toString());
    m.putAll(extra);
    SqliteDatabaseProvider p = (SqliteDatabaseProvider) new SqliteDatabaseProvider.Factory()
        .create(ProviderContext.of(ProviderConfig.of("database", m)));
    providers.add(p);
    return p;
  }
}
