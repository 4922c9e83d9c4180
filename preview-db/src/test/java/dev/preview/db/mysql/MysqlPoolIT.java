package dev.preview.db.mysql;

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
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The MariaDB warm pool ({@code pool: {size: N}}) against the real server of
 * {@code .ci/servers/mariadb.sh}: a pooled clone is the current baseline (rows, counters, foreign
 * keys, a view and a trigger made for the preview's own user), the preview's user reaches its own
 * database and no pool member, a changed or rebuilt baseline discards the pool, a crash mid-handout
 * leaves a registry row that list/drop (so reconcile) see and nothing that no one cleans, and creates
 * at once never share a member.
 */
class MysqlPoolIT {
  String baseline;
  String repo;
  final List<MysqlDatabaseProvider> providers = new ArrayList<>();
  final List<PreviewKey> keys = new ArrayList<>();

  @BeforeEach
  void baseline() throws SQLException {
    MysqlServer.require();
    String run = UUID.randomUUID().toString().substring(0, 8);
    baseline = "pool_base_" + run;
    repo = "acme/mypool-" + run;
    build("first");
  }

  /** (Re)builds the baseline from scratch, as a `db baseline` job would: two tables, a view, a trigger. */
  void build(String greeting) throws SQLException {
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + baseline);
      st.execute("CREATE DATABASE " + baseline + " CHARACTER SET utf8mb4");
      st.execute("USE " + baseline);
      st.execute("CREATE TABLE greetings (id BIGINT AUTO_INCREMENT PRIMARY KEY, text VARCHAR(100) NOT NULL)");
      st.execute("CREATE TABLE replies (id BIGINT AUTO_INCREMENT PRIMARY KEY, greeting_id BIGINT NOT NULL,"
          + " CONSTRAINT replies_greeting FOREIGN KEY (greeting_id) REFERENCES greetings (id))");
      st.execute("CREATE TABLE audit (n BIGINT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100))");
      st.execute("INSERT INTO greetings (text) VALUES ('" + greeting + "')");
      st.execute("INSERT INTO replies (greeting_id) VALUES (1)");
      st.execute("ALTER TABLE greetings AUTO_INCREMENT = 500");
      st.execute("CREATE VIEW greeting_texts AS SELECT text FROM greetings");
      st.execute("CREATE TRIGGER greetings_audit AFTER INSERT ON greetings FOR EACH ROW INSERT INTO audit (what) VALUES (NEW.text)");
    }
  }

  MysqlDatabaseProvider provider(int size) {
    MysqlDatabaseProvider p = MysqlServer.provider().baseline(baseline).pool(size).build();
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
    try {
      for (MysqlDatabaseProvider p : providers) {
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
    } finally {
      try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + baseline);
      }
    }
  }

  /** This test's keys among what list() returns (the registry is the server's: other suites may have previews in it). */
  List<PreviewKey> mine(List<PreviewKey> listed) {
    return listed.stream().filter(k -> k.repository().equals(repo)).toList();
  }

  static Connection open(DatabaseConnection db) throws SQLException {
    return DriverManager.getConnection(db.url().replace("jdbc:mysql:", "jdbc:mariadb:"), db.username(), db.password().reveal());
  }

  /** The greeting, read and written by the preview's own user (its view and trigger work for it). */
  static String greeting(DatabaseConnection db) throws SQLException {
    try (Connection c = open(db); Statement st = c.createStatement()) {
      String text;
      try (ResultSet rs = st.executeQuery("SELECT text FROM greeting_texts")) {
        assertThat(rs.next()).isTrue();
        text = rs.getString(1);
        assertThat(rs.next()).isFalse();
      }
      st.execute("INSERT INTO greetings (text) VALUES ('mine')");
      assertThat(strings(c, "SELECT CAST(MAX(id) AS CHAR) FROM greetings")).as("the baseline's AUTO_INCREMENT counter").containsExactly("500");
      assertThat(strings(c, "SELECT what FROM audit")).as("the trigger fired for the preview, not during the copy").containsExactly("mine");
      assertThatThrownBy(() -> st.execute("INSERT INTO replies (greeting_id) VALUES (99999)")).hasMessageContaining("foreign key");
      st.execute("ALTER TABLE greetings ADD COLUMN extra INT");
      return text;
    }
  }

  static List<String> strings(Connection c, String sql, String... args) throws SQLException {
    List<String> out = new ArrayList<>();
    try (var ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /** The pool's members now (databases with a pool row, of this test's baseline). */
  List<String> poolDatabases() throws SQLException {
    try (Connection c = MysqlServer.connect()) {
      return strings(c, "SELECT p.db_name FROM preview_registry.pool p JOIN information_schema.SCHEMATA s ON s.SCHEMA_NAME = p.db_name"
          + " WHERE p.baseline = ? ORDER BY 1", baseline);
    }
  }

  static boolean exists(String db) throws SQLException {
    try (Connection c = MysqlServer.connect()) {
      return !strings(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).isEmpty();
    }
  }

  @Test
  void aPooledCloneIsTheCurrentBaselineOwnedByThePreviewsUserAloneAndThePoolRefills() throws Exception {
    MysqlDatabaseProvider p = provider(2);
    assertThat(p.warmPool()).isEqualTo(2);
    List<String> members = poolDatabases();
    assertThat(members).hasSizeGreaterThanOrEqualTo(2);

    PreviewKey k = key(1);
    DatabaseConnection db = p.create(k, DatabaseSpec.empty());

    assertThat(p.pool().taken()).hasSize(1);
    assertThat(members).contains(p.pool().taken().get(0));
    assertThat(db.name()).as("the member became the preview's database").isEqualTo(p.pool().taken().get(0));
    assertThat(poolDatabases()).doesNotContain(db.name());
    assertThat(greeting(db)).isEqualTo("first");
    try (Connection adm = MysqlServer.connect()) {
      // views and triggers name the preview's own user, never the admin (issue 12)
      assertThat(strings(adm, "SELECT CONCAT(DEFINER, ' ', SECURITY_TYPE) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?", db.name()))
          .containsExactly(db.username() + "@% INVOKER");
      assertThat(strings(adm, "SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?", db.name()))
          .containsExactly(db.username() + "@%");
      assertThat(strings(adm, "SELECT CAST(COUNT(*) AS CHAR) FROM " + baseline + ".audit")).containsExactly("0");
    }
    try (Connection c = open(db); Statement st = c.createStatement()) {
      assertThat(strings(c, "SHOW DATABASES")).as("its own database, and nothing of the pool")
          .containsExactlyInAnyOrder("information_schema", db.name());
      String other = poolDatabases().get(0);
      assertThatThrownBy(() -> st.executeQuery("SELECT * FROM `" + other + "`.greetings").close()).hasMessageContaining("denied");
      assertThatThrownBy(() -> st.executeQuery("SELECT * FROM preview_registry.pool").close()).hasMessageContaining("denied");
      assertThatThrownBy(() -> st.execute("RENAME TABLE `" + other + "`.greetings TO greetings2")).hasMessageContaining("denied");
    }
    assertThat(mine(p.list())).as("pool members are never previews").containsExactly(k);
    await().atMost(Duration.ofSeconds(60)).until(() -> p.poolReady() == 2);

    // another push: the same database, no second member taken
    p.create(k, DatabaseSpec.empty());
    assertThat(p.pool().taken()).hasSize(1);
  }

  @Test
  void aRebuiltBaselineDiscardsThePool() throws Exception {
    MysqlDatabaseProvider p = provider(2);
    p.warmPool();
    List<String> old = poolDatabases();
    p.close(); // no background refill racing the assertions below

    build("second");

    // members of the old baseline are never handed out: this create copies the new one directly
    DatabaseConnection db = p.create(key(1), DatabaseSpec.empty());
    assertThat(greeting(db)).isEqualTo("second");
    assertThat(p.pool().taken()).isEmpty();

    MysqlDatabaseProvider fresh = provider(2);
    assertThat(fresh.warmPool()).isEqualTo(2);
    assertThat(poolDatabases()).doesNotContainAnyElementsOf(old).hasSize(2);
    assertThat(greeting(fresh.create(key(2), DatabaseSpec.empty()))).isEqualTo("second");
    assertThat(fresh.pool().taken()).hasSize(1);
  }

  @Test
  void aRowWrittenIntoTheBaselineDiscardsThePool() throws Exception {
    MysqlDatabaseProvider p = provider(1);
    p.warmPool();
    p.close();
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("UPDATE " + baseline + ".greetings SET text = 'edited'"); // in place: no table is recreated
    }
    assertThat(p.poolReady()).isZero();
    assertThat(greeting(p.create(key(1), DatabaseSpec.empty()))).isEqualTo("edited");
    assertThat(p.pool().taken()).isEmpty();
  }

  @Test
  void aCrashMidHandoutLeavesARegistryRowThatListSeesAndDropReclaims() throws Exception {
    MysqlDatabaseProvider p = provider(1);
    p.warmPool();
    p.close();
    p.pool().afterTake = () -> {
      throw new IllegalStateException("crash after the rename");
    };
    PreviewKey k = key(1);
    assertThatThrownBy(() -> p.create(k, DatabaseSpec.empty())).hasMessageContaining("crash after the rename");
    String member = p.pool().taken().get(0);
    assertThat(exists(member)).isTrue();
    assertThat(poolDatabases()).as("taken: no longer a member").doesNotContain(member);

    // what reconcile sees after a restart: a new provider lists the key and can drop it
    MysqlDatabaseProvider restarted = provider(1);
    restarted.close();
    assertThat(mine(restarted.list())).containsExactly(k);
    restarted.drop(k);
    assertThat(mine(restarted.list())).isEmpty();
    assertThat(exists(member)).isFalse();
  }

  @Test
  void aCopyThatDiedIsDroppedByALaterRefill() throws Exception {
    MysqlDatabaseProvider p = provider(1);
    p.close();
    String dead = MysqlPool.NAME_PREFIX + "00000000_deadc0de0000";
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      p.pool().ensureTable(c);
      st.execute("INSERT INTO preview_registry.pool (db_name, instance, baseline) VALUES ('" + dead + "', 'default', '" + baseline + "')");
      st.execute("CREATE DATABASE " + dead);
      st.execute("CREATE TABLE " + dead + ".greetings (id INT)"); // half a copy
    }
    assertThat(p.warmPool()).as("a young unfinished copy may be another process's: left alone").isEqualTo(1);
    assertThat(exists(dead)).isTrue();
    p.pool().crashGrace = Duration.ZERO;
    assertThat(p.warmPool()).isEqualTo(1);
    assertThat(exists(dead)).isFalse();
    assertThat(poolDatabases()).hasSize(1).doesNotContain(dead);
  }

  @Test
  void aCrashInsideTheHandoutsTransactionLeavesTheMemberInThePool() throws Exception {
    MysqlDatabaseProvider p = provider(1);
    p.warmPool();
    p.close();
    List<String> members = poolDatabases();
    p.pool().inTransaction = () -> {
      throw new IllegalStateException("crash before the commit");
    };
    PreviewKey k = key(1);
    assertThatThrownBy(() -> p.create(k, DatabaseSpec.empty())).hasMessageContaining("crash before the commit");
    assertThat(poolDatabases()).as("rolled back: still a member, of nobody").isEqualTo(members);
    assertThat(mine(p.list())).as("the preview's row (written before) is listed: reconcile sees it").containsExactly(k);
    p.pool().inTransaction = () -> {};
    DatabaseConnection db = p.create(k, DatabaseSpec.empty());
    assertThat(db.name()).isEqualTo(members.get(0));
    assertThat(greeting(db)).isEqualTo("first");
  }

  @Test
  void aCrashMidHandoutIsFinishedByTheNextCreate() throws Exception {
    MysqlDatabaseProvider p = provider(2);
    p.warmPool();
    p.close();
    p.pool().afterTake = () -> {
      throw new IllegalStateException("crash after the rename");
    };
    PreviewKey k = key(1);
    assertThatThrownBy(() -> p.create(k, DatabaseSpec.empty())).isInstanceOf(IllegalStateException.class);
    p.pool().afterTake = () -> {};
    assertThat(greeting(p.create(k, DatabaseSpec.empty()))).isEqualTo("first");
    assertThat(p.pool().taken()).hasSize(2).doesNotHaveDuplicates();
  }

  @Test
  void createsAtOnceNeverGetTheSameMember() throws Exception {
    int previews = 6;
    MysqlDatabaseProvider p = provider(3);
    p.warmPool();
    p.close(); // members come only from the warm-up: the creates race for three
    // every create has listed the same three members before any claims one: the claims really race
    CyclicBarrier listed = new CyclicBarrier(previews);
    p.pool().beforeClaim = () -> {
      try {
        listed.await(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    ExecutorService threads = Executors.newFixedThreadPool(previews);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<DatabaseConnection>> runs = new ArrayList<>();
    for (int i = 1; i <= previews; i++) {
      PreviewKey k = key(i);
      runs.add(threads.submit(() -> {
        go.await();
        return p.create(k, DatabaseSpec.empty());
      }));
    }
    go.countDown();
    List<DatabaseConnection> dbs = new ArrayList<>();
    for (Future<DatabaseConnection> f : runs) {
      dbs.add(f.get(120, TimeUnit.SECONDS));
    }
    threads.shutdown();
    List<String> taken = p.pool().taken();
    assertThat(new HashSet<>(taken)).as("members handed out").hasSameSizeAs(taken);
    assertThat(taken).hasSize(3);
    for (DatabaseConnection db : dbs) {
      assertThat(greeting(db)).isEqualTo("first");
    }
    assertThat(dbs.stream().map(DatabaseConnection::name).distinct()).hasSize(previews);
    assertThat(mine(p.list())).hasSize(previews);
  }

  @Test
  void thePoolNeedsABaseline() {
    assertThatThrownBy(() -> MysqlServer.provider().pool(2).build()).hasMessageContaining("pool needs a baseline");
  }
}
