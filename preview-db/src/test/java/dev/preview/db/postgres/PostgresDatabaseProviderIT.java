package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.HostileKeys;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import java.net.URI;
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
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Mode {@code database} against a real PostgreSQL (embedded unless PREVIEW_POSTGRES_URL is set). */
class PostgresDatabaseProviderIT {
  static final String BASELINE = "it_baseline";
  static PgServer.Admin admin;
  final String repo = "acme/pg-" + UUID.randomUUID().toString().substring(0, 8);
  final List<PreviewKey> made = new ArrayList<>();

  @BeforeAll
  static void baseline() throws Exception {
    admin = PgServer.admin();
    PostgresBaseline.Result r = admin.baseline().database(BASELINE)
        .migrations(List.of("classpath:db/pg/migration"))
        .seed(List.of(Path.of(PostgresDatabaseProviderIT.class.getResource("/db/pg/seed.sql").toURI())))
        .build().refresh();
    assertThat(r.migrationsApplied()).isEqualTo(2);
  }

  PostgresDatabaseProvider provider() {
    return admin.provider().baseline(BASELINE).connectionLimit(7).build();
  }

  PreviewKey key(int n) {
    PreviewKey k = PreviewKey.pr(repo, n);
    made.add(k);
    return k;
  }

  @AfterEach
  void cleanUp() {
    PostgresDatabaseProvider p = provider();
    made.forEach(p::drop);
  }

  static Connection open(DatabaseConnection c) throws SQLException {
    return DriverManager.getConnection(c.url(), c.username(), c.password().reveal());
  }

  static long count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void cloneHasRowsSequencesIndexesAndBelongsToThePreviewRole() throws SQLException {
    DatabaseConnection c = provider().create(key(1), DatabaseSpec.empty());
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(1000);
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(3000);
      assertThat(count(db, "SELECT count(*) FROM big_orders")).isPositive();
      assertThat(count(db, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('users_email', 'orders_user')")).isEqualTo(2);
      assertThat(count(db, "SELECT nextval('invoice_numbers')")).isEqualTo(1235);
      st.execute("INSERT INTO users (email) VALUES ('new@example.com')");
      assertThat(count(db, "SELECT max(id) FROM users")).isEqualTo(1001);
      st.execute("INSERT INTO orders (user_id, total) VALUES (1001, 5)");
      assertThat(count(db, "SELECT max(id) FROM orders")).isEqualTo(3001);
      assertThatThrownBy(() -> st.execute("INSERT INTO orders (user_id, total) VALUES (999999, 5)"))
          .hasMessageContaining("foreign key");
      // the app owns its tables: its own migrations can alter them
      st.execute("ALTER TABLE users ADD COLUMN nickname text");
      assertThat(count(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user")).isZero();
    }
  }

  @Test
  void factsCarryTheUsualEnvVarsAndSecretsStayApart() throws Exception {
    DatabaseConnection c = provider().create(key(2), DatabaseSpec.empty());
    String name = Names.postgres(PreviewKey.pr(repo, 2));
    assertThat(c.name()).isEqualTo(name);
    assertThat(c.username()).isEqualTo(name);
    assertThat(c.env()).containsEntry("PGDATABASE", name).containsEntry("PGUSER", name)
        .containsKeys("PGHOST", "PGPORT", "JDBC_DATABASE_URL")
        .doesNotContainKeys("PGPASSWORD", "DATABASE_URL");
    assertThat(c.env().values()).noneMatch(v -> v.contains(c.password().reveal()));
    assertThat(c.secretEnv().get("PGPASSWORD").reveal()).isEqualTo(c.password().reveal());
    URI url = URI.create(c.secretEnv().get("DATABASE_URL").reveal());
    assertThat(url.getScheme()).isEqualTo("postgresql");
    assertThat(url.getUserInfo()).isEqualTo(name + ":" + c.password().reveal());
    assertThat(url.getPath()).isEqualTo("/" + name);
    assertThat(c.secretEnv().toString()).doesNotContain(c.password().reveal());
    // PG* vars work as libpq would use them
    String jdbc = "jdbc:postgresql://" + c.env().get("PGHOST") + ":" + c.env().get("PGPORT") + "/" + c.env().get("PGDATABASE");
    try (Connection db = DriverManager.getConnection(jdbc, c.env().get("PGUSER"), c.secretEnv().get("PGPASSWORD").reveal())) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(1000);
    }
  }

  @Test
  void previewsCannotReachEachOtherNorTheBaseline() throws SQLException {
    DatabaseConnection a = provider().create(key(3), DatabaseSpec.empty());
    DatabaseConnection b = provider().create(key(4), DatabaseSpec.empty());
    String bUrl = b.url();
    assertThatThrownBy(() -> DriverManager.getConnection(bUrl, a.username(), a.password().reveal()).close())
        .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for database");
    assertThatThrownBy(() -> DriverManager.getConnection(bUrl, b.username(), a.password().reveal()).close())
        .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
    String baselineUrl = PgUrl.parse(a.url()).withDatabase(BASELINE);
    assertThatThrownBy(() -> DriverManager.getConnection(baselineUrl, a.username(), a.password().reveal()).close())
        .isInstanceOf(SQLException.class);
    try (Connection adm = admin.connect("postgres")) {
      assertThat(count(adm, "SELECT rolconnlimit FROM pg_roles WHERE rolname = '" + a.username() + "'")).isEqualTo(7);
      assertThat(count(adm, "SELECT count(*) FROM pg_roles WHERE rolname = '" + a.username()
          + "' AND NOT rolsuper AND NOT rolcreatedb AND NOT rolcreaterole AND rolcanlogin")).isEqualTo(1);
    }
  }

  @Test
  void createAgainKeepsTheDataAndRotatesThePassword() throws SQLException {
    PreviewKey k = key(5);
    DatabaseConnection first = provider().create(k, DatabaseSpec.empty());
    try (Connection db = open(first); Statement st = db.createStatement()) {
      st.execute("DELETE FROM orders WHERE id > 10");
    }
    DatabaseConnection second = provider().create(k, DatabaseSpec.empty());
    assertThat(second.password().reveal()).isNotEqualTo(first.password().reveal());
    try (Connection db = open(second)) {
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(10);
    }
    assertThatThrownBy(() -> open(first).close()).hasMessageContaining("password authentication failed");
  }

  @Test
  void listReadsTheServerAndDropTerminatesSessions() throws SQLException {
    PreviewKey a = key(6);
    PreviewKey b = PreviewKey.branch(repo, "feature/list");
    made.add(b);
    DatabaseConnection ca = provider().create(a, new DatabaseSpec(null, Map.of(Labels.REVISION, "abc")));
    provider().create(b, DatabaseSpec.empty());
    // a fresh provider, as after a restart, finds both from the server's comments
    assertThat(provider().list()).contains(a, b).allMatch(k -> !k.repository().equals(repo) || k.equals(a) || k.equals(b));
    try (Connection adm = admin.connect("postgres")) {
      assertThat(PgSql.one(adm, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ?", ca.name()).orElseThrow())
          .contains("\"preview.dev/key\":\"" + a.id() + "\"").contains("\"preview.dev/revision\":\"abc\"");
    }
    try (Connection open = open(ca)) { // the app is still connected
      provider().drop(a);
      assertThat(open.isValid(2)).isFalse();
    }
    provider().drop(a); // idempotent
    assertThat(provider().list()).doesNotContain(a).contains(b);
    try (Connection adm = admin.connect("postgres")) {
      assertThat(count(adm, "SELECT count(*) FROM pg_database WHERE datname = '" + ca.name() + "'")).isZero();
      assertThat(count(adm, "SELECT count(*) FROM pg_roles WHERE rolname = '" + ca.name() + "'")).isZero();
    }
  }

  @Test
  void aRoleLeftByACrashIsAnOrphanThatListFindsAndDropRemoves() throws SQLException {
    PreviewKey k = key(7);
    provider().create(k, DatabaseSpec.empty());
    String name = Names.postgres(k);
    try (Connection adm = admin.connect("postgres")) {
      // as if teardown died between dropping the database and the role
      PgSql.ddl(adm, "DROP DATABASE %I WITH (FORCE)", name);
    }
    assertThat(provider().list()).contains(k);
    provider().drop(k);
    assertThat(provider().list()).doesNotContain(k);
  }

  @Test
  void refusesToAdoptOrDropADatabaseItDidNotMake() throws SQLException {
    PreviewKey k = key(8);
    String name = Names.postgres(k);
    try (Connection adm = admin.connect("postgres")) {
      PgSql.ddl(adm, "CREATE ROLE %I", name);
    }
    try {
      assertThatThrownBy(() -> provider().create(k, DatabaseSpec.empty()))
          .isInstanceOf(ProviderException.class).hasMessageContaining("not managed by preview");
      assertThatThrownBy(() -> provider().drop(k)).isInstanceOf(ProviderException.class);
    } finally {
      try (Connection adm = admin.connect("postgres")) {
        PgSql.ddl(adm, "DROP ROLE %I", name);
      }
    }
  }

  @Test
  void neverAdoptsAnUnmarkedDatabaseButFinishesACreateThatDiedBeforeItsComment() throws SQLException {
    PreviewKey foreign = key(11);
    String name = Names.postgres(foreign);
    try (Connection adm = admin.connect("postgres")) {
      PgSql.ddl(adm, "CREATE DATABASE %I", name);
    }
    try {
      assertThatThrownBy(() -> provider().create(foreign, DatabaseSpec.empty()))
          .isInstanceOf(ProviderException.class).hasMessageContaining("not managed by preview");
    } finally {
      try (Connection adm = admin.connect("postgres")) {
        PgSql.ddl(adm, "DROP DATABASE %I", name);
        PgSql.ddl(adm, "DROP ROLE IF EXISTS %I", name);
      }
    }
    PreviewKey k = key(12);
    DatabaseConnection c = provider().create(k, DatabaseSpec.empty());
    try (Connection adm = admin.connect("postgres")) {
      PgSql.ddl(adm, "COMMENT ON DATABASE %I IS NULL", c.name()); // as if the first create died right there
    }
    DatabaseConnection again = provider().create(k, DatabaseSpec.empty());
    try (Connection db = open(again)) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(1000);
    }
    assertThat(provider().list()).contains(k);
  }

  @Test
  void hostileKeysMakeValidDistinctDatabases() throws SQLException {
    PostgresDatabaseProvider p = admin.provider().build(); // empty databases: quicker
    List<String> names = new ArrayList<>();
    made.addAll(HostileKeys.all());
    for (PreviewKey k : HostileKeys.all()) {
      DatabaseConnection c = p.create(k, DatabaseSpec.empty());
      names.add(c.name());
      try (Connection db = open(c); Statement st = db.createStatement()) {
        st.execute("CREATE TABLE t (x int)");
      }
    }
    assertThat(names).doesNotHaveDuplicates().allMatch(n -> n.matches("pv_[a-z0-9_]+") && n.length() <= 63);
    assertThat(p.list()).containsAll(HostileKeys.all());
  }

  @Test
  void branchMigrationsRunOnTheCloneAndBelongToThePreview() throws SQLException {
    PostgresDatabaseProvider p = admin.provider().baseline(BASELINE).migrations(List.of("classpath:db/pg/branch")).build();
    DatabaseConnection c = p.create(key(9), DatabaseSpec.empty());
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM users WHERE nickname IS NULL")).isEqualTo(1000);
      st.execute("INSERT INTO coupons VALUES ('X')");
      assertThat(count(db, "SELECT count(*) FROM flyway_schema_history WHERE version = '3'")).isEqualTo(1);
    }
    assertThat(p.migrate(PreviewKey.pr(repo, 9), c, List.of("classpath:db/pg/branch"))).isZero();
  }

  @Test
  void factoryReadsConfigAndReportsEveryProblem() throws SQLException {
    DatabaseProvider.Factory f = ServiceLoader.load(DatabaseProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.name().equals("postgres")).findFirst().orElseThrow();
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("database",
        Map.of("mode", "cluster", "strategy", "fast", "connectionLimit", 0, "colour", "red")))))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).problems()).hasSize(5))
        .hasMessageContaining("database.url: is required")
        .hasMessageContaining("database.mode")
        .hasMessageContaining("database.strategy")
        .hasMessageContaining("database.connectionLimit")
        .hasMessageContaining("database.colour: unknown key");
    Map<String, Object> cfg = new java.util.HashMap<>(Map.of("provider", "postgres", "url", admin.url(),
        "username", admin.user(), "baseline", BASELINE, "strategy", "file_copy", "host", "db.internal", "port", 6543));
    if (admin.password() != null) {
      cfg.put("password", admin.password().reveal());
    }
    DatabaseProvider p = f.create(ProviderContext.of(ProviderConfig.of("database", cfg)));
    DatabaseConnection c = p.create(key(10), DatabaseSpec.empty());
    assertThat(c.env()).containsEntry("PGHOST", "db.internal").containsEntry("PGPORT", "6543");
    assertThat(c.url()).startsWith("jdbc:postgresql://db.internal:6543/");
    try (Connection db = DriverManager.getConnection(PgUrl.parse(admin.url()).withDatabase(c.name()), c.username(), c.password().reveal())) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(1000);
    }
  }
}
