package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Mode {@code schema}: one schema per preview in a shared database, cloned from a baseline schema. */
class PostgresSchemaModeIT {
  static final String SHARED = "it_previews";
  static final String BASELINE = "baseline";
  static PgServer.Admin admin;
  final String repo = "acme/sch-" + UUID.randomUUID().toString().substring(0, 8);
  final List<PreviewKey> made = new ArrayList<>();

  @BeforeAll
  static void baseline() throws Exception {
    admin = PgServer.admin();
    try (Connection c = admin.connect("postgres")) {
      if (!PgSql.exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", SHARED)) {
        PgSql.ddl(c, "CREATE DATABASE %I", SHARED);
      }
    }
    admin.baseline().url(PgUrl.parse(admin.url()).withDatabase(SHARED)).schema(BASELINE)
        .migrations(List.of("classpath:db/pg/migration"))
        .seed(List.of(Path.of(PostgresSchemaModeIT.class.getResource("/db/pg/seed.sql").toURI())))
        .build().refresh();
  }

  PostgresDatabaseProvider provider() {
    return admin.provider().mode(PostgresDatabaseProvider.Mode.SCHEMA).sharedDatabase(SHARED).baseline(BASELINE).build();
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
    return DriverManager.getConnection(c.url(), c.username(), c.password().reveal());
  }

  static long count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void schemaCloneHasRowsSequencesIndexesForeignKeysAndViews() throws SQLException {
    DatabaseConnection c = provider().create(key(1), DatabaseSpec.empty());
    String schema = Names.postgres(PreviewKey.pr(repo, 1));
    assertThat(c.env()).containsEntry("PGDATABASE", SHARED).containsEntry("DATABASE_SCHEMA", schema);
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM users")).isEqualTo(1000); // unqualified: search_path is the preview's
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(3000);
      assertThat(count(db, "SELECT count(*) FROM big_orders")).isPositive();
      assertThat(count(db, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('users_email', 'orders_user')")).isEqualTo(2);
      assertThat(count(db, "SELECT nextval('invoice_numbers')")).isEqualTo(1235);
      st.execute("INSERT INTO users (email) VALUES ('new@example.com')");
      assertThat(count(db, "SELECT max(id) FROM users")).isEqualTo(1001);
      st.execute("INSERT INTO orders (user_id, total) VALUES (1001, 500)");
      assertThat(count(db, "SELECT max(id) FROM orders")).isEqualTo(3001);
      assertThat(count(db, "SELECT count(*) FROM big_orders WHERE email = 'new@example.com'")).isEqualTo(1);
      assertThatThrownBy(() -> st.execute("INSERT INTO orders (user_id, total) VALUES (999999, 5)")).hasMessageContaining("foreign key");
      st.execute("ALTER TABLE users ADD COLUMN nickname text");
    }
    try (Connection adm = admin.connect(SHARED)) {
      // the baseline did not move
      assertThat(count(adm, "SELECT count(*) FROM baseline.users")).isEqualTo(1000);
      assertThat(count(adm, "SELECT last_value FROM baseline.users_id_seq")).isEqualTo(1000);
    }
  }

  @Test
  void previewsCannotReadEachOthersSchemaNorTheBaseline() throws SQLException {
    DatabaseConnection a = provider().create(key(2), DatabaseSpec.empty());
    DatabaseConnection b = provider().create(key(3), DatabaseSpec.empty());
    try (Connection db = open(a); Statement st = db.createStatement()) {
      assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM \"" + b.name() + "\".users").close())
          .hasMessageContaining("permission denied for schema");
      assertThatThrownBy(() -> st.execute("CREATE TABLE \"" + b.name() + "\".evil (x int)"))
          .hasMessageContaining("permission denied for schema");
      assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM baseline.users").close())
          .hasMessageContaining("permission denied for schema");
    }
  }

  @Test
  void branchMigrationsRunInThePreviewsSchemaOnly() throws SQLException {
    PostgresDatabaseProvider p = admin.provider().mode(PostgresDatabaseProvider.Mode.SCHEMA).sharedDatabase(SHARED)
        .baseline(BASELINE).migrations(List.of("classpath:db/pg/branch")).build();
    DatabaseConnection c = p.create(key(5), DatabaseSpec.empty());
    try (Connection db = open(c); Statement st = db.createStatement()) {
      assertThat(count(db, "SELECT count(*) FROM users WHERE nickname IS NULL")).isEqualTo(1000);
      st.execute("INSERT INTO coupons VALUES ('X')");
      assertThat(count(db, "SELECT count(*) FROM flyway_schema_history WHERE version = '3'")).isEqualTo(1);
    }
    try (Connection adm = admin.connect(SHARED)) {
      assertThat(count(adm, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'baseline'"
          + " AND table_name = 'users' AND column_name = 'nickname'")).isZero();
    }
  }

  @Test
  void listAndDropInSchemaMode() throws SQLException {
    PreviewKey k = key(4);
    DatabaseConnection c = provider().create(k, DatabaseSpec.empty());
    assertThat(provider().list()).contains(k);
    // a database-mode provider on the same server does not claim schema-mode previews
    assertThat(admin.provider().build().list()).doesNotContain(k);
    try (Connection open = open(c)) {
      provider().drop(k);
      assertThat(open.isValid(2)).isFalse();
    }
    assertThat(provider().list()).doesNotContain(k);
    try (Connection adm = admin.connect(SHARED)) {
      assertThat(count(adm, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + c.name() + "'")).isZero();
      assertThat(count(adm, "SELECT count(*) FROM pg_roles WHERE rolname = '" + c.name() + "'")).isZero();
    }
  }
}
