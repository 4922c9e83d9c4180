package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
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
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PR's own new migrations after cloning: a baseline built from V1, a branch checkout (the build
 * context) holding V1 and V2; the preview's clone gets V2 on top of the baseline's data, and the
 * baseline itself is untouched. Without a build context, nothing extra runs and nothing breaks.
 */
class BranchMigrationsIT {
  static final String V1 = "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);\n";
  static final String V2 = "ALTER TABLE customers ADD COLUMN email text;\nCREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers);\n";
  static final String RELATIVE = "src/main/resources/db/migration";

  final PgServer.Admin admin = PgServer.admin();
  final String baseline = "branch_" + UUID.randomUUID().toString().substring(0, 8);
  final String repo = "acme/branch-" + UUID.randomUUID().toString().substring(0, 8);
  final List<PreviewKey> made = new ArrayList<>();
  PostgresDatabaseProvider provider;
  @TempDir Path tmp;
  Path mainCheckout;
  Path branchCheckout;

  @BeforeEach
  void baselineFromV1() throws Exception {
    mainCheckout = checkout("main", Map.of("V1__customers.sql", V1));
    branchCheckout = checkout("feature", Map.of("V1__customers.sql", V1, "V2__emails_and_orders.sql", V2));
    Path seed = Files.writeString(tmp.resolve("seed.sql"), "INSERT INTO customers(name) VALUES ('Ada'), ('Grace');");
    PostgresBaseline.Result r = admin.baseline().database(baseline)
        .migrations(List.of("filesystem:" + mainCheckout.resolve(RELATIVE))).seed(List.of(seed)).build().refresh();
    assertThat(r.migrationsApplied()).isEqualTo(1);
    provider = admin.provider().baseline(baseline).branchMigrations(RELATIVE).build();
  }

  Path checkout(String name, Map<String, String> migrations) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name).resolve(RELATIVE));
    for (var m : migrations.entrySet()) {
      Files.writeString(dir.resolve(m.getKey()), m.getValue());
    }
    return tmp.resolve(name);
  }

  @AfterEach
  void cleanUp() throws SQLException {
    made.forEach(provider::drop);
    try (Connection c = admin.connect("postgres"); Statement st = c.createStatement()) {
      st.execute("ALTER DATABASE \"" + baseline + "\" WITH IS_TEMPLATE false");
      st.execute("DROP DATABASE IF EXISTS \"" + baseline + "\" WITH (FORCE)");
    }
  }

  PreviewKey key(int n) {
    PreviewKey k = PreviewKey.pr(repo, n);
    made.add(k);
    return k;
  }

  static Connection open(DatabaseConnection c) throws SQLException {
    return DriverManager.getConnection(c.url(), c.username(), c.password().reveal());
  }

  static List<String> strings(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  static final String TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1";
  static final String HISTORY = "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank";

  @Test
  void theCloneGetsTheBranchsNewMigrationOnTopOfTheBaselineData() throws SQLException {
    DatabaseConnection c = provider.create(key(1), new DatabaseSpec(null, Map.of(), branchCheckout));

    try (Connection db = open(c)) {
      assertThat(strings(db, TABLES)).contains("customers", "orders", "flyway_schema_history");
      assertThat(strings(db, HISTORY)).containsExactly("1", "2");
      assertThat(strings(db, "SELECT name FROM customers ORDER BY id")).containsExactly("Ada", "Grace");
      // V2's column is there and the preview's role owns what V2 made (the app can write to it)
      try (Statement st = db.createStatement()) {
        st.executeUpdate("UPDATE customers SET email = 'ada@example.com' WHERE name = 'Ada'");
        st.executeUpdate("INSERT INTO orders(customer) SELECT id FROM customers WHERE name = 'Ada'");
      }
      assertThat(strings(db, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'")).containsExactly(c.username());
    }
    // the baseline keeps V1 only: the next preview of another branch starts from main's schema
    PreviewKey other = key(2);
    try (Connection db = open(provider.create(other, new DatabaseSpec(null, Map.of(), mainCheckout)))) {
      assertThat(strings(db, TABLES)).contains("customers").doesNotContain("orders");
      assertThat(strings(db, HISTORY)).containsExactly("1");
    }
  }

  @Test
  void aSecondCreateOfTheSamePreviewAppliesNothingTwice() throws Exception {
    PreviewKey k = key(3);
    provider.create(k, new DatabaseSpec(null, Map.of(), branchCheckout));
    // a push adds V3 to the branch: the next deploy applies just that
    Files.writeString(branchCheckout.resolve(RELATIVE).resolve("V3__order_notes.sql"), "ALTER TABLE orders ADD COLUMN note text;");
    DatabaseConnection c = provider.create(k, new DatabaseSpec(null, Map.of(), branchCheckout));
    try (Connection db = open(c)) {
      assertThat(strings(db, HISTORY)).containsExactly("1", "2", "3");
      assertThat(strings(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY 1"))
          .containsExactly("customer", "id", "note");
    }
  }

  @Test
  void withoutABuildContextOrWithoutTheDirectoryNothingExtraRuns() throws SQLException {
    try (Connection db = open(provider.create(key(4), new DatabaseSpec(null, Map.of())))) {
      assertThat(strings(db, TABLES)).contains("customers").doesNotContain("orders");
      assertThat(strings(db, HISTORY)).containsExactly("1");
    }
    try (Connection db = open(provider.create(key(5), new DatabaseSpec(null, Map.of(), tmp.resolve("no-such-checkout"))))) {
      assertThat(strings(db, HISTORY)).containsExactly("1");
    }
  }

  @Test
  void theFactoryReadsBranchMigrations() throws SQLException {
    Map<String, Object> section = new java.util.HashMap<>(
        Map.of("url", admin.url(), "username", admin.user(), "baseline", baseline, "branchMigrations", RELATIVE));
    if (admin.password() != null) {
      section.put("password", admin.password().reveal());
    }
    var provider = (PostgresDatabaseProvider) new PostgresDatabaseProvider.Factory().create(ProviderContext.of(ProviderConfig.of("database", section)));
    PreviewKey k = key(6);
    try (Connection db = open(provider.create(k, new DatabaseSpec(null, Map.of(), branchCheckout)))) {
      assertThat(strings(db, HISTORY)).containsExactly("1", "2");
    }
  }
}
