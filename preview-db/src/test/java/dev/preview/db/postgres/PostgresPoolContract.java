package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The warm pool ({@code pool: {size: N}}) against a real server, with the documented minimal admin
 * (LOGIN CREATEDB CREATEROLE): a pooled clone is the current baseline, a rebuilt baseline discards the
 * pool, a crash mid-handout leaves nothing that list/drop (so reconcile) cannot see and reclaim, and
 * creates at once never share a clone. Run by {@code PostgresPool15IT} and {@code PostgresPool18IT}.
 */
abstract class PostgresPoolContract {
  abstract PgAttackServer server();

  PgAttackServer server;
  String baseline;
  String repo;
  final List<PostgresDatabaseProvider> providers = new ArrayList<>();
  final List<PreviewKey> keys = new ArrayList<>();

  @BeforeEach
  void baseline() throws Exception {
    server = server();
    String run = UUID.randomUUID().toString().substring(0, 8);
    baseline = "pool_base_" + run;
    repo = "acme/pool-" + run;
    build("first");
  }

  void build(String greeting) throws java.io.IOException {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("pool-baseline");
    java.nio.file.Path migrations = java.nio.file.Files.createDirectories(dir.resolve("migration"));
    java.nio.file.Files.writeString(migrations.resolve("V1__greetings.sql"),
        "CREATE TABLE greetings (id serial PRIMARY KEY, text text NOT NULL);\n");
    java.nio.file.Path seed = java.nio.file.Files.writeString(dir.resolve("seed.sql"),
        "INSERT INTO greetings(text) VALUES ('" + greeting + "');\n");
    server.admin().baseline().database(baseline).migrations(List.of("filesystem:" + migrations))
        .seed(List.of(seed)).build().refresh();
  }

  PostgresDatabaseProvider provider(int size) {
    PostgresDatabaseProvider p = server.admin().provider().baseline(baseline).pool(size).build();
    providers.add(p);
    return p;
  }

  PreviewKey key(int n) {
    PreviewKey k = PreviewKey.pr(repo, n);
    keys.add(k);
    return k;
  }

  @AfterEach
  void cleanUp() throws SQLException {
    for (PostgresDatabaseProvider p : providers) {
      for (PreviewKey k : keys) {
        try {
          p.drop(k);
        } catch (RuntimeException e) {
          // already gone
        }
      }
      p.close();
      p.drainPool();
    }
    try (Connection c = server.connect("postgres")) {
      PgSql.ddl(c, "ALTER DATABASE %I WITH IS_TEMPLATE false", baseline);
      PgSql.ddl(c, "DROP DATABASE IF EXISTS %I", baseline);
    }
  }

  static String greeting(DatabaseConnection db) throws SQLException {
    try (Connection c = DriverManager.getConnection(db.url(), db.username(), db.password().reveal());
        Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT text FROM greetings")) {
      assertThat(rs.next()).isTrue();
      String text = rs.getString(1);
      // the preview's role owns its tables: it can write and alter them
      st.execute("INSERT INTO greetings(text) VALUES ('mine')");
      st.execute("ALTER TABLE greetings ADD COLUMN IF NOT EXISTS extra int");
      return text;
    }
  }

  List<String> databases(String prefix) throws SQLException {
    try (Connection c = server.connect("postgres")) {
      return PgSql.column(c, "SELECT datname FROM pg_catalog.pg_database WHERE pg_catalog.starts_with(datname, ?) ORDER BY 1", prefix);
    }
  }

  @Test
  void aPooledCloneIsTheCurrentBaselineHandedToThePreviewsRoleAndThePoolRefills() throws Exception {
    PostgresDatabaseProvider p = provider(2);
    assertThat(p.warmPool()).isEqualTo(2);
    List<String> members = databases(PgPool.NAME_PREFIX);
    assertThat(members).hasSizeGreaterThanOrEqualTo(2);

    PreviewKey k = key(1);
    DatabaseConnection db = p.create(k, DatabaseSpec.empty());

    assertThat(p.pool().taken()).hasSize(1);
    assertThat(members).contains(p.pool().taken().get(0));
    assertThat(greeting(db)).isEqualTo("first");
    try (Connection c = server.connect("postgres")) {
      assertThat(PgSql.one(c, "SELECT pg_catalog.pg_get_userbyid(datdba)::text FROM pg_catalog.pg_database WHERE datname = ?",
          db.env().get("PGDATABASE"))).contains(db.username());
    }
    assertThat(p.list()).containsExactly(k).as("pool members are never previews");
    await().atMost(Duration.ofSeconds(30)).until(() -> p.poolReady() == 2);

    // another push: the same database, no second member taken
    p.create(k, DatabaseSpec.empty());
    assertThat(p.pool().taken()).hasSize(1);
  }

  @Test
  void aRebuiltBaselineDiscardsThePool() throws Exception {
    PostgresDatabaseProvider p = provider(2);
    p.warmPool();
    List<String> old = databases(PgPool.NAME_PREFIX);
    p.close(); // no background refill racing the assertions below

    build("second");

    // members of the old baseline are never handed out: this create clones the new one directly
    DatabaseConnection db = p.create(key(1), DatabaseSpec.empty());
    assertThat(greeting(db)).isEqualTo("second");
    assertThat(p.pool().taken()).isEmpty();

    PostgresDatabaseProvider fresh = provider(2);
    assertThat(fresh.warmPool()).isEqualTo(2);
    assertThat(databases(PgPool.NAME_PREFIX)).doesNotContainAnyElementsOf(old).hasSize(2);
    assertThat(greeting(fresh.create(key(2), DatabaseSpec.empty()))).isEqualTo("second");
    assertThat(fresh.pool().taken()).hasSize(1);
  }

  @Test
  void aCrashMidHandoutLeavesAMarkedDatabaseThatListSeesAndDropReclaims() throws Exception {
    PostgresDatabaseProvider p = provider(1);
    p.warmPool();
    p.pool().afterTake = () -> {
      throw new IllegalStateException("crash after the rename");
    };
    PreviewKey k = key(1);
    assertThatThrownBy(() -> p.create(k, DatabaseSpec.empty())).hasMessageContaining("crash after the rename");
    String name = dev.preview.spi.Names.postgres(dev.preview.spi.Installation.defaults(), k);
    assertThat(databases(name)).containsExactly(name);

    // what reconcile sees after a restart: a new provider lists the key and can drop it
    PostgresDatabaseProvider restarted = provider(1);
    restarted.close();
    assertThat(restarted.list()).containsExactly(k);
    restarted.drop(k);
    assertThat(databases(name)).isEmpty();
    assertThat(restarted.list()).isEmpty();
  }

  @Test
  void aCrashMidHandoutIsFinishedByTheNextCreate() throws Exception {
    PostgresDatabaseProvider p = provider(1);
    p.warmPool();
    p.pool().afterTake = () -> {
      throw new IllegalStateException("crash after the rename");
    };
    PreviewKey k = key(1);
    assertThatThrownBy(() -> p.create(k, DatabaseSpec.empty())).isInstanceOf(IllegalStateException.class);
    p.pool().afterTake = () -> {};
    assertThat(greeting(p.create(k, DatabaseSpec.empty()))).isEqualTo("first");
  }

  @Test
  void createsAtOnceNeverGetTheSameClone() throws Exception {
    int previews = 6;
    PostgresDatabaseProvider p = provider(3);
    p.warmPool();
    p.close(); // members come only from the warm-up: the creates race for three
    ExecutorService pool = Executors.newFixedThreadPool(previews);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<DatabaseConnection>> runs = new ArrayList<>();
    for (int i = 1; i <= previews; i++) {
      PreviewKey k = key(i);
      runs.add(pool.submit(() -> {
        go.await();
        return p.create(k, DatabaseSpec.empty());
      }));
    }
    go.countDown();
    List<DatabaseConnection> dbs = new ArrayList<>();
    for (Future<DatabaseConnection> f : runs) {
      dbs.add(f.get(120, TimeUnit.SECONDS));
    }
    pool.shutdown();
    List<String> taken = p.pool().taken();
    assertThat(new HashSet<>(taken)).as("members handed out").hasSameSizeAs(taken);
    assertThat(taken).hasSizeBetween(1, 3);
    for (DatabaseConnection db : dbs) {
      assertThat(greeting(db)).isEqualTo("first");
    }
    assertThat(dbs.stream().map(d -> d.env().get("PGDATABASE")).distinct()).hasSize(previews);
    assertThat(p.list()).hasSize(previews);
  }

  @Test
  void thePoolNeedsModeDatabaseAndABaseline() {
    assertThatThrownBy(() -> server.admin().provider().mode(PostgresDatabaseProvider.Mode.SCHEMA).baseline("b").pool(2).build())
        .hasMessageContaining("pool only applies to mode: database");
    assertThatThrownBy(() -> server.admin().provider().pool(2).build())
        .hasMessageContaining("pool needs a baseline");
  }
}
