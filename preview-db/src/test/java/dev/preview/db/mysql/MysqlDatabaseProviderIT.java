package dev.preview.db.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.HostileKeys;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real MariaDB (started by .ci/servers/mariadb.sh) or the MySQL given by PREVIEW_MYSQL_URL. */
class MysqlDatabaseProviderIT {
  static final String BASELINE = "it_mysql_baseline_" + UUID.randomUUID().toString().substring(0, 8);
  final String repo = "acme/my-" + UUID.randomUUID().toString().substring(0, 8);
  final List<PreviewKey> made = new ArrayList<>();

  @BeforeAll
  static void baseline() throws SQLException {
    MysqlServer.require();
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + BASELINE);
      st.execute("CREATE DATABASE " + BASELINE + " CHARACTER SET utf8mb4");
      st.execute("USE " + BASELINE);
      st.execute("CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200) NOT NULL, UNIQUE KEY users_email (email))");
      st.execute("CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, total DECIMAL(12,2) NOT NULL,"
          + " KEY orders_user (user_id), CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id))");
      st.execute("CREATE VIEW big_orders AS SELECT o.id, u.email, o.total FROM orders o JOIN users u ON u.id = o.user_id WHERE o.total > 100");
      // numbers 1..9999 without MariaDB's sequence engine, so the test also runs on MySQL
      st.execute("CREATE TABLE digits (d INT)"); // not TEMPORARY: MySQL cannot open a temporary table twice in a query
      st.execute("INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)");
      st.execute("CREATE TEMPORARY TABLE nums AS SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS seq"
          + " FROM digits a CROSS JOIN digits b CROSS JOIN digits c CROSS JOIN digits e");
      st.execute("DELETE FROM nums WHERE seq NOT BETWEEN 1 AND 3000");
      st.execute("INSERT INTO users (email) SELECT CONCAT('user', seq, '@example.com') FROM nums WHERE seq <= 1050 ORDER BY seq");
      st.execute("DELETE FROM users WHERE id > 1000");
      st.execute("ALTER TABLE users AUTO_INCREMENT = 1101"); // this counter must survive the copy
      st.execute("INSERT INTO orders (user_id, total) SELECT 1 + (seq MOD 1000), seq MOD 300 FROM nums ORDER BY seq");
      st.execute("DROP TABLE digits");
    }
  }

  @AfterAll
  static void dropBaseline() throws SQLException {
    try (Connection c = MysqlServer.connect(); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + BASELINE);
    }
  }

  MysqlDatabaseProvider provider() {
    return MysqlServer.provider().baseline(BASELINE).maxConnections(5).build();
  }

  PreviewKey key(int n) {
    PreviewKey k = PreviewKey.pr(repo, n);
    made.add(k);
    return k;
  }

  @AfterEach
  void cleanUp() {
    made.forEach(provider()::drop);
  }

  static Connection open(DatabaseConnection c) throws SQLException {
    return DriverManager.getConnection(c.url().replace("jdbc:mysql:", "jdbc:mariadb:"), c.username(), c.password().reveal());
  }

  static long count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void copyHasRowsAutoIncrementCountersIndexesForeignKeysAndViews() throws SQLException {
    DatabaseConnection c = provider().create(key(1), DatabaseSpec.empty());
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(1000);
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(3000);
      assertThat(count(db, "SELECT count(*) FROM big_orders")).isPositive();
      assertThat(count(db, "SELECT count(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
          + " AND INDEX_NAME IN ('users_email', 'orders_user')")).isEqualTo(2);
      st.execute("INSERT INTO users (email) VALUES ('new@example.com')");
      assertThat(count(db, "SELECT max(id) FROM users")).isEqualTo(1101);
      assertThatThrownBy(() -> st.execute("INSERT INTO orders (user_id, total) VALUES (999999, 5)"))
          .hasMessageContaining("foreign key constraint fails");
      assertThatThrownBy(() -> st.execute("INSERT INTO users (email) VALUES ('user1@example.com')"))
          .hasMessageContaining("Duplicate entry");
      st.execute("INSERT INTO orders (user_id, total) VALUES (1101, 500)");
      assertThat(count(db, "SELECT count(*) FROM big_orders WHERE email = 'new@example.com'")).isEqualTo(1);
      st.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(50)"); // the app may run its own migrations
    }
    try (Connection adm = MysqlServer.connect()) {
      assertThat(count(adm, "SELECT count(*) FROM " + BASELINE + ".users")).isEqualTo(1000);
    }
  }

  @Test
  void previewsCannotReachEachOthersDatabaseNorTheBaseline() throws SQLException {
    DatabaseConnection a = provider().create(key(2), DatabaseSpec.empty());
    DatabaseConnection b = provider().create(key(3), DatabaseSpec.empty());
    try (Connection db = open(a); Statement st = db.createStatement()) {
      assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM `" + b.name() + "`.users").close())
          .hasMessageContaining("denied");
      assertThatThrownBy(() -> st.execute("INSERT INTO `" + b.name() + "`.users (email) VALUES ('evil@example.com')"))
          .hasMessageContaining("denied");
      assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM " + BASELINE + ".users").close())
          .hasMessageContaining("denied");
      assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM preview_registry.previews").close())
          .hasMessageContaining("denied");
      assertThatThrownBy(() -> st.execute("CREATE DATABASE evil")).hasMessageContaining("denied");
    }
    String bUrl = b.url().replace("jdbc:mysql:", "jdbc:mariadb:");
    assertThatThrownBy(() -> DriverManager.getConnection(bUrl, a.username(), a.password().reveal()).close())
        .hasMessageContaining("denied");
    try (Connection adm = MysqlServer.connect()) {
      assertThat(count(adm, "SELECT max_user_connections FROM mysql.user WHERE User = '" + a.username() + "'")).isEqualTo(5);
    }
  }

  @Test
  void factsAndRepeatedCreate() throws Exception {
    PreviewKey k = key(4);
    DatabaseConnection first = provider().create(k, DatabaseSpec.empty());
    assertThat(first.name()).isEqualTo(MysqlDatabaseProvider.dbName(Installation.defaults(), k));
    assertThat(first.username()).isEqualTo(MysqlDatabaseProvider.userName(Installation.defaults(), k)).hasSizeLessThanOrEqualTo(32);
    assertThat(first.env()).containsEntry("MYSQL_DATABASE", first.name()).containsEntry("MYSQL_USER", first.username())
        .containsKeys("MYSQL_HOST", "MYSQL_PORT", "JDBC_DATABASE_URL").doesNotContainKeys("DATABASE_URL", "MYSQL_PASSWORD");
    URI url = URI.create(first.secretEnv().get("DATABASE_URL").reveal());
    assertThat(url.getScheme()).isEqualTo("mariadb");
    assertThat(url.getUserInfo()).isEqualTo(first.username() + ":" + first.password().reveal());
    try (Connection db = open(first); Statement st = db.createStatement()) {
      st.execute("DELETE FROM orders WHERE id > 10");
    }
    DatabaseConnection second = provider().create(k, DatabaseSpec.empty());
    try (Connection db = open(second)) {
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(10);
    }
    assertThatThrownBy(() -> open(first).close()).hasMessageContaining("denied");
  }

  @Test
  void listAfterRestartOrphansAndDropWithOpenSessions() throws SQLException {
    PreviewKey a = key(5);
    PreviewKey b = key(6);
    DatabaseConnection ca = provider().create(a, DatabaseSpec.empty());
    provider().create(b, DatabaseSpec.empty());
    assertThat(provider().list()).contains(a, b);
    try (Connection open = open(ca)) {
      provider().drop(a);
      assertThat(open.isValid(2)).isFalse();
    }
    provider().drop(a);
    assertThat(provider().list()).doesNotContain(a).contains(b);
    try (Connection adm = MysqlServer.connect()) {
      assertThat(count(adm, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" + ca.name() + "'")).isZero();
      assertThat(count(adm, "SELECT count(*) FROM mysql.user WHERE User = '" + ca.username() + "'")).isZero();
      // a copy cut short by a crash: registered, not ready, half there
      try (Statement st = adm.createStatement()) {
        st.execute("UPDATE preview_registry.previews SET ready = FALSE WHERE db_name = '" + MysqlDatabaseProvider.dbName(Installation.defaults(), b) + "'");
        st.execute("DROP TABLE `" + MysqlDatabaseProvider.dbName(Installation.defaults(), b) + "`.`orders`");
      }
    }
    assertThat(provider().list()).contains(b);
    DatabaseConnection again = provider().create(b, DatabaseSpec.empty());
    try (Connection db = open(again)) {
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(3000);
    }
  }

  @Test
  void refusesToAdoptOrDropADatabaseItDidNotMake() throws SQLException {
    PreviewKey k = key(7);
    String name = MysqlDatabaseProvider.dbName(Installation.defaults(), k);
    try (Connection adm = MysqlServer.connect(); Statement st = adm.createStatement()) {
      st.execute("CREATE DATABASE `" + name + "`");
    }
    try {
      assertThatThrownBy(() -> provider().create(k, DatabaseSpec.empty()))
          .isInstanceOf(ProviderException.class).hasMessageContaining("not managed by preview");
      assertThatThrownBy(() -> provider().drop(k)).isInstanceOf(ProviderException.class);
    } finally {
      try (Connection adm = MysqlServer.connect(); Statement st = adm.createStatement()) {
        st.execute("DROP DATABASE `" + name + "`");
      }
    }
  }

  @Test
  void hostileKeysMakeValidDistinctDatabasesAndUsers() throws SQLException {
    MysqlDatabaseProvider p = MysqlServer.provider().build();
    made.addAll(HostileKeys.all());
    List<String> names = new ArrayList<>();
    List<String> users = new ArrayList<>();
    for (PreviewKey k : HostileKeys.all()) {
      DatabaseConnection c = p.create(k, DatabaseSpec.empty());
      names.add(c.name());
      users.add(c.username());
      try (Connection db = open(c); Statement st = db.createStatement()) {
        st.execute("CREATE TABLE t (x INT)");
      }
    }
    assertThat(names).doesNotHaveDuplicates().allMatch(n -> n.matches("pv_[a-z0-9_]+") && n.length() <= 64);
    assertThat(users).doesNotHaveDuplicates().allMatch(n -> n.length() <= 32);
    assertThat(p.list()).containsAll(HostileKeys.all());
  }

  @Test
  void factoryReportsEveryProblem() {
    DatabaseProvider.Factory f = ServiceLoader.load(DatabaseProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.name().equals("mysql")).findFirst().orElseThrow();
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("database",
        Map.of("url", "jdbc:postgresql://x/", "baseline", "a`b", "maxConnections", 0, "colour", "red")))))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).problems()).hasSize(4))
        .hasMessageContaining("database.url").hasMessageContaining("database.baseline")
        .hasMessageContaining("database.maxConnections").hasMessageContaining("database.colour: unknown key");
  }

  /** A preview made by an earlier version (names of {@code Names.mysql}, registry row) keeps its names and is dropped. */
  @Test
  void aPreviewOfAnEarlierVersionKeepsItsNamesAndIsDropped() throws SQLException {
    PreviewKey k = key(40);
    String oldDb = earlierHash(dev.preview.spi.Names.mysql(k));
    String oldUser = earlierHash(dev.preview.spi.Names.mysqlUser(k));
    assertThat(oldDb).isNotEqualTo(MysqlDatabaseProvider.dbName(Installation.defaults(), k));
    try (Connection adm = MysqlServer.connect(); Statement st = adm.createStatement()) {
      provider().list(); // the registry exists
      st.execute("CREATE DATABASE `" + oldDb + "`");
      st.execute("CREATE TABLE `" + oldDb + "`.kept (a INT)");
      st.execute("CREATE USER '" + oldUser + "'@'%' IDENTIFIED BY 'old'");
      try (java.sql.PreparedStatement ps = adm.prepareStatement(
          "INSERT INTO preview_registry.previews (db_name, user_name, preview_key, mark, ready) VALUES (?, ?, ?, ?, TRUE)")) {
        ps.setString(1, oldDb);
        ps.setString(2, oldUser);
        ps.setString(3, k.id());
        ps.setString(4, dev.preview.db.internal.OwnerMark.encode(k, Map.of())); // no instance: an earlier version's
        ps.executeUpdate();
      }
    }
    assertThat(provider().list()).contains(k);
    DatabaseConnection c = provider().create(k, DatabaseSpec.empty());
    assertThat(c.name()).isEqualTo(oldDb);
    assertThat(c.username()).isEqualTo(oldUser);
    try (Connection db = open(c)) {
      assertThat(count(db, "SELECT count(*) FROM kept")).isZero();
    }
    provider().drop(k);
    try (Connection adm = MysqlServer.connect()) {
      assertThat(count(adm, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" + oldDb + "'")).isZero();
      assertThat(count(adm, "SELECT count(*) FROM mysql.user WHERE User = '" + oldUser + "'")).isZero();
    }
  }

  @Test
  void aUserThatIsNotOursIsNeverAdoptedAndNothingIsHalfCreated() throws SQLException {
    PreviewKey k = key(41);
    String user = MysqlDatabaseProvider.userName(Installation.defaults(), k);
    try (Connection adm = MysqlServer.connect(); Statement st = adm.createStatement()) {
      st.execute("CREATE USER '" + user + "'@'%' IDENTIFIED BY 'someone-elses'");
    }
    try {
      assertThatThrownBy(() -> provider().create(k, DatabaseSpec.empty())).isInstanceOf(ProviderException.class)
          .hasMessageContaining("user " + user + " exists but is not managed by preview").hasMessageContaining("refusing to adopt");
      assertThat(provider().list()).doesNotContain(k);
      try (Connection adm = MysqlServer.connect()) {
        assertThat(count(adm, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '"
            + MysqlDatabaseProvider.dbName(Installation.defaults(), k) + "'")).isZero();
      }
    } finally {
      try (Connection adm = MysqlServer.connect(); Statement st = adm.createStatement()) {
        st.execute("DROP USER '" + user + "'@'%'");
      }
    }
  }

  /** The name an earlier version gave: its hash suffix was the first 10 of today's 16 hex digits. */
  static String earlierHash(String name) {
    return name.replaceFirst("([0-9a-f]{10})[0-9a-f]{6}(:?)$", "$1$2");
  }
}
