package dev.preview.benchmarks;

import dev.preview.db.mysql.MysqlDatabaseProvider;
import dev.preview.db.postgres.PostgresBaseline;
import dev.preview.db.sqlite.SqliteDatabaseProvider;
import dev.preview.db.postgres.PostgresDatabaseProvider;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import dev.preview.testkit.Servers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Time to a ready database per preview on PostgreSQL 15 ({@code .ci/servers/postgres.sh}, the minimal
 * admin): created, owned by the preview's role, reachable with its credentials, the rows readable.
 * A realistic small app: 20 tables (foreign keys, indexes) and ~10,100 rows. Arms, interleaved:
 * empty database + the Flyway migrations + the seed (as the preview's role), the template clone
 * ({@code baseline}), the warm pool ({@code pool: {size: 3}}, full before each round, untimed), and
 * the raw floor: the admin's own {@code CREATE DATABASE .. TEMPLATE} and a connection to it.
 *
 * <p>Then the same app on MariaDB ({@code .ci/servers/mariadb.sh}), arms interleaved: an empty
 * database + the 20 {@code CREATE TABLE}s + the seed (as the preview's user, plain JDBC: no Flyway,
 * so this floor is if anything faster than a real migrate), the baseline copy ({@code baseline}), and
 * the warm pool ({@code pool: {size: 3}}, refilled before and after each round, untimed, so no refill runs beside another arm).
 */
final class DatabaseReadyBenchmark {
  static final String URL = env("PREVIEW_PG15_URL", "jdbc:postgresql://127.0.0.1:5415/postgres");
  static final String USER = env("PREVIEW_PG15_ADMIN_USER", "preview_admin");
  static final Secret PASSWORD = Secret.of(env("PREVIEW_PG15_ADMIN_PASSWORD", "preview-admin-pw"));
  static final int TABLES = 20;

  private DatabaseReadyBenchmark() {}

  static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }

  static void require() {
    String failure = null;
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD.reveal())) {
      c.isValid(2);
    } catch (SQLException e) {
      failure = e.getMessage();
    }
    Servers.require("PostgreSQL 15 at " + URL + " (admin " + USER + ")" + (failure == null ? "" : ": " + failure),
        failure == null, "bash .ci/servers/postgres.sh");
  }

  /** 20 migrations (a table each, with a foreign key to the previous one and an index) and a seed of ~10,100 rows. */
  static Path[] app(Path dir) throws Exception {
    Path migrations = Files.createDirectories(dir.resolve("migration"));
    StringBuilder seed = new StringBuilder();
    int rows = 0;
    for (int i = 1; i <= TABLES; i++) {
      String t = String.format("t%02d", i);
      String fk = i == 1 ? "" : String.format(", parent_id bigint REFERENCES t%02d(id)", i - 1);
      Files.writeString(migrations.resolve("V" + i + "__" + t + ".sql"), "CREATE TABLE " + t
          + " (id bigserial PRIMARY KEY, name text NOT NULL, email text, amount numeric(12,2) NOT NULL DEFAULT 0,"
          + " status text NOT NULL DEFAULT 'new', created_at timestamptz NOT NULL DEFAULT now()" + fk + ");\n"
          + "CREATE INDEX " + t + "_status ON " + t + " (status, created_at);\n");
      int n = i == 1 ? 5_000 : i == 2 ? 2_000 : 172;
      rows += n;
      seed.append("INSERT INTO ").append(t).append(" (name, email, amount, status").append(i == 1 ? "" : ", parent_id")
          .append(") SELECT 'name ' || g, 'user' || g || '@example.com', (g % 1000) / 10.0, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'new' END")
          .append(i == 1 ? "" : ", 1 + (g % " + (i == 2 ? 5_000 : i == 3 ? 2_000 : 172) + ")")
          .append(" FROM generate_series(1, ").append(n).append(") g;\n");
    }
    Path seedFile = Files.writeString(dir.resolve("seed.sql"), seed.toString());
    if (rows < 10_000) {
      throw new IllegalStateException("seed too small: " + rows);
    }
    return new Path[] {migrations, seedFile};
  }

  static void run(Scale scale, Report report) throws Exception {
    // -Dbench.databases=sqlite (or postgres,mariadb) runs only those; all three by default
    List<String> which = List.of(System.getProperty("bench.databases", "postgres,mariadb,sqlite").split(","));
    if (which.contains("postgres")) {
      postgres(scale, report);
    }
    if (which.contains("mariadb")) {
      mariadb(scale, report);
    }
    if (which.contains("sqlite")) {
      sqlite(scale, report);
    }
  }

  /**
   * SQLite, the same 20 tables and rows in a baseline file: create() with {@code VACUUM INTO} (what it
   * always did) against create() with {@code pool: {size: 3}} (a pre-made copy renamed into place),
   * and a plain file copy of the baseline as a second floor. Decides whether the SQLite pool pays.
   */
  static void sqlite(Scale scale, Report report) throws Exception {
    Path dir = Files.createTempDirectory("bench-sqlite");
    Path baseline = dir.resolve("baseline.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + baseline); Statement st = c.createStatement()) {
      for (int i = 1; i <= TABLES; i++) {
        String t = String.format("t%02d", i);
        st.execute("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, amount NUMERIC NOT NULL DEFAULT 0,"
            + " status TEXT NOT NULL DEFAULT 'new', created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP"
            + (i == 1 ? "" : String.format(", parent_id INTEGER REFERENCES t%02d(id)", i - 1)) + ")");
        st.execute("CREATE INDEX " + t + "_status ON " + t + " (status, created_at)");
        int n = i == 1 ? 5_000 : i == 2 ? 2_000 : 172;
        st.execute("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < " + n + ") INSERT INTO " + t
            + " (name, email, amount, status" + (i == 1 ? "" : ", parent_id") + ") SELECT 'name ' || x, 'user' || x || '@example.com',"
            + " (x % 1000) / 10.0, CASE WHEN x % 3 = 0 THEN 'paid' ELSE 'new' END"
            + (i == 1 ? "" : ", 1 + (x % " + (i == 2 ? 5_000 : i == 3 ? 2_000 : 172) + ")") + " FROM g");
      }
    }
    SqliteDatabaseProvider copy = SqliteDatabaseProvider.builder().directory(dir.resolve("copy")).baseline(baseline).build();
    SqliteDatabaseProvider pooled = SqliteDatabaseProvider.builder().directory(dir.resolve("pool")).baseline(baseline).pool(3).build();
    AtomicInteger n = new AtomicInteger();
    try {
      pooled.warmPool();
      Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
      arms.put("copy", () -> sqliteReady(copy, PreviewKey.pr("acme/bench", n.incrementAndGet())));
      arms.put("pool", () -> {
        refilled(pooled::poolReady, 60);
        double ms = sqliteReady(pooled, PreviewKey.pr("acme/bench", n.incrementAndGet()));
        // untimed: the refill this create started must not run beside the next arm's round
        refilled(pooled::poolReady, 60);
        return ms;
      });
      arms.put("file", () -> {
        Path f = dir.resolve("file-" + n.incrementAndGet() + ".db");
        long t0 = System.nanoTime();
        Files.copy(baseline, f);
        count(DriverManager.getConnection("jdbc:sqlite:" + f));
        double ms = (System.nanoTime() - t0) / 1e6;
        Files.delete(f);
        return ms;
      });
      Map<String, List<Double>> r = Interleaved.run(scale.warmup(), scale.n(Math.max(scale.rounds(), 15), scale.rounds()), arms);
      String b = "Database ready per preview (SQLite, 20 tables, ~10,100 rows, " + (Files.size(baseline) / 1024) + " KB file)";
      report.add(new Report.Figure(b, "warm pool vs VACUUM INTO copy", "ms", false, "pool: {size: 3} (rename into place)", r.get("pool"),
          "create() with VACUUM INTO", r.get("copy"), "<= 0.50x"));
      report.add(new Report.Figure(b, "warm pool vs plain file copy", "ms", false, "pool: {size: 3} (rename into place)", r.get("pool"),
          "Files.copy of the baseline + open", r.get("file"), null));
      report.add(new Report.Figure(b, "VACUUM INTO copy vs plain file copy", "ms", false, "create() with VACUUM INTO", r.get("copy"),
          "Files.copy of the baseline + open", r.get("file"), null));
      report.note(b, "each arm: create() (mark, then the copy or the rename) until a connection has counted t01's rows (5,000);"
          + " drops untimed; the pool arm waits (untimed) for the refill before and after its round. The pool is built only if it pays: ratio <= 0.50x.");
    } finally {
      pooled.close();
    }
  }

  private static double sqliteReady(SqliteDatabaseProvider p, PreviewKey key) throws SQLException {
    long t0 = System.nanoTime();
    DatabaseConnection db = p.create(key, DatabaseSpec.empty());
    count(DriverManager.getConnection(db.url()));
    double ms = (System.nanoTime() - t0) / 1e6;
    p.drop(key);
    return ms;
  }

  /** Counts t01 on {@code c} (5,000 rows) and closes it. */
  private static void count(Connection c) throws SQLException {
    try (c; Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM t01")) {
      rs.next();
      if (rs.getLong(1) != 5_000) {
        throw new IllegalStateException("t01 has " + rs.getLong(1) + " rows");
      }
    }
  }

  static final String MYSQL_URL = env("PREVIEW_MYSQL_URL", "jdbc:mariadb://127.0.0.1:3306/");
  static final String MYSQL_USER = env("PREVIEW_MYSQL_USER", "preview_admin");
  static final Secret MYSQL_PASSWORD = Secret.of(env("PREVIEW_MYSQL_PASSWORD", "preview-admin-pw"));

  /** The 20 tables of {@link #app} in MariaDB's dialect, and the seed (~10,100 rows; {@code seq_1_to_N} of the Sequence engine). */
  static String[] mariadbApp() {
    StringBuilder ddl = new StringBuilder();
    StringBuilder seed = new StringBuilder();
    for (int i = 1; i <= TABLES; i++) {
      String t = String.format("t%02d", i);
      String fk = i == 1 ? "" : String.format(", parent_id BIGINT, CONSTRAINT %s_parent FOREIGN KEY (parent_id) REFERENCES t%02d (id)", t, i - 1);
      ddl.append("CREATE TABLE ").append(t).append(" (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200),"
          + " amount DECIMAL(12,2) NOT NULL DEFAULT 0, status VARCHAR(20) NOT NULL DEFAULT 'new',"
          + " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP").append(fk).append(", KEY ").append(t)
          .append("_status (status, created_at));\n");
      int n = i == 1 ? 5_000 : i == 2 ? 2_000 : 172;
      seed.append("INSERT INTO ").append(t).append(" (name, email, amount, status").append(i == 1 ? "" : ", parent_id")
          .append(") SELECT CONCAT('name ', seq), CONCAT('user', seq, '@example.com'), (seq % 1000) / 10.0,"
              + " CASE WHEN seq % 3 = 0 THEN 'paid' ELSE 'new' END")
          .append(i == 1 ? "" : ", 1 + (seq % " + (i == 2 ? 5_000 : i == 3 ? 2_000 : 172) + ")")
          .append(" FROM seq_1_to_").append(n).append(";\n");
    }
    return new String[] {ddl.toString(), seed.toString()};
  }

  static void requireMariadb() {
    String failure = null;
    try (Connection c = DriverManager.getConnection(MYSQL_URL, MYSQL_USER, MYSQL_PASSWORD.reveal())) {
      c.isValid(2);
    } catch (SQLException e) {
      failure = e.getMessage();
    }
    Servers.require("MariaDB at " + MYSQL_URL + " (admin " + MYSQL_USER + ")" + (failure == null ? "" : ": " + failure),
        failure == null, "bash .ci/servers/mariadb.sh");
  }

  static void mariadb(Scale scale, Report report) throws Exception {
    requireMariadb();
    String run = UUID.randomUUID().toString().substring(0, 6);
    String baseline = "bench_base_" + run;
    String[] app = mariadbApp();
    try (Connection c = DriverManager.getConnection(MYSQL_URL, MYSQL_USER, MYSQL_PASSWORD.reveal()); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + baseline + " CHARACTER SET utf8mb4");
      st.execute("USE " + baseline);
      for (String sql : (app[0] + app[1]).split(";\n")) {
        st.execute(sql);
      }
    }
    MysqlDatabaseProvider empty = MysqlDatabaseProvider.builder().url(MYSQL_URL).username(MYSQL_USER).password(MYSQL_PASSWORD).build();
    MysqlDatabaseProvider copy = MysqlDatabaseProvider.builder().url(MYSQL_URL).username(MYSQL_USER).password(MYSQL_PASSWORD)
        .baseline(baseline).build();
    MysqlDatabaseProvider pooled = MysqlDatabaseProvider.builder().url(MYSQL_URL).username(MYSQL_USER).password(MYSQL_PASSWORD)
        .baseline(baseline).pool(3).build();
    String repo = "acme/mybench-" + run;
    AtomicInteger n = new AtomicInteger();
    try {
      pooled.warmPool();
      Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
      arms.put("migrate", () -> mysqlReady(empty, PreviewKey.pr(repo, n.incrementAndGet()), app[0] + app[1]));
      arms.put("copy", () -> mysqlReady(copy, PreviewKey.pr(repo, n.incrementAndGet()), null));
      arms.put("pool", () -> {
        refilled(pooled::poolReady, 120);
        double ms = mysqlReady(pooled, PreviewKey.pr(repo, n.incrementAndGet()), null);
        // untimed: the refill this create started must not run beside the next arm's round
        refilled(pooled::poolReady, 120);
        return ms;
      });
      Map<String, List<Double>> r = Interleaved.run(scale.warmup(), scale.rounds(), arms);
      String b = "Database ready per preview (MariaDB, 20 tables, ~10,100 rows)";
      report.add(new Report.Figure(b, "warm pool vs migrate + seed", "ms", false, "pool: {size: 3}", r.get("pool"),
          "empty + 20 CREATE TABLE + seed", r.get("migrate"), "<= 0.20x"));
      report.add(new Report.Figure(b, "baseline copy vs migrate + seed", "ms", false, "baseline (tables, rows, views... copied)",
          r.get("copy"), "empty + 20 CREATE TABLE + seed", r.get("migrate"), null));
      report.add(new Report.Figure(b, "warm pool vs baseline copy", "ms", false, "pool: {size: 3}", r.get("pool"),
          "baseline (tables, rows, views... copied)", r.get("copy"), null));
      report.note(b, "each arm: create() until the preview's user has connected and counted t01's rows (5,000); drops untimed;"
          + " the pool arm waits (untimed) before and after its round until the refill has 3 members again; the migrate arm runs the DDL and"
          + " seed as the preview's user over plain JDBC. Goal: the pool >= 5x faster than migrate + seed, i.e. ratio <= 0.20x.");
    } finally {
      pooled.close();
      try {
        pooled.drainPool();
      } catch (RuntimeException e) {
        // best effort
      }
      try (Connection c = DriverManager.getConnection(MYSQL_URL, MYSQL_USER, MYSQL_PASSWORD.reveal()); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + baseline);
      }
    }
  }

  /** ms until the preview's user reads its rows; then drops it (untimed). */
  private static double mysqlReady(MysqlDatabaseProvider p, PreviewKey key, String script) throws SQLException {
    long t0 = System.nanoTime();
    DatabaseConnection db = p.create(key, DatabaseSpec.empty());
    try (Connection c = DriverManager.getConnection(db.url(), db.username(), db.password().reveal());
        Statement st = c.createStatement()) {
      if (script != null) {
        for (String sql : script.split(";\n")) {
          st.execute(sql);
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM t01")) {
        rs.next();
        if (rs.getLong(1) != 5_000) {
          throw new IllegalStateException("t01 has " + rs.getLong(1) + " rows");
        }
      }
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    p.drop(key);
    return ms;
  }

  static void postgres(Scale scale, Report report) throws Exception {
    require();
    String run = UUID.randomUUID().toString().substring(0, 6);
    String baseline = "bench_base_" + run;
    Path dir = Files.createTempDirectory("bench-db");
    Path[] app = app(dir);
    String seedSql = Files.readString(app[1]);
    String locations = "filesystem:" + app[0];
    PostgresBaseline.builder().url(URL).username(USER).password(PASSWORD).database(baseline)
        .migrations(List.of(locations)).seed(List.of(app[1])).build().refresh();
    PostgresDatabaseProvider migrate = PostgresDatabaseProvider.builder().url(URL).username(USER).password(PASSWORD)
        .migrations(List.of(locations)).build();
    PostgresDatabaseProvider clone = PostgresDatabaseProvider.builder().url(URL).username(USER).password(PASSWORD)
        .baseline(baseline).build();
    PostgresDatabaseProvider pooled = PostgresDatabaseProvider.builder().url(URL).username(USER).password(PASSWORD)
        .baseline(baseline).pool(3).build();
    String repo = "acme/bench-" + run;
    AtomicInteger n = new AtomicInteger();
    try {
      pooled.warmPool();
      Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
      arms.put("migrate", () -> ready(migrate, PreviewKey.pr(repo, n.incrementAndGet()), seedSql));
      arms.put("clone", () -> ready(clone, PreviewKey.pr(repo, n.incrementAndGet()), null));
      arms.put("pool", () -> {
        refilled(pooled::poolReady, 60);
        double ms = ready(pooled, PreviewKey.pr(repo, n.incrementAndGet()), null);
        // untimed: the refill this create started must not run beside the next arm's round
        refilled(pooled::poolReady, 60);
        return ms;
      });
      arms.put("raw", () -> raw(baseline, "bench_raw_" + run + "_" + n.incrementAndGet()));
      Map<String, List<Double>> r = Interleaved.run(scale.warmup(), scale.rounds(), arms);
      String b = "Database ready per preview (PostgreSQL 15, 20 tables, ~10,100 rows)";
      report.add(new Report.Figure(b, "warm pool vs migrate + seed", "ms", false, "pool: {size: 3}", r.get("pool"),
          "empty + migrations + seed", r.get("migrate"), "<= 0.20x"));
      report.add(new Report.Figure(b, "template clone vs migrate + seed", "ms", false, "baseline (CREATE DATABASE .. TEMPLATE + handover)",
          r.get("clone"), "empty + migrations + seed", r.get("migrate"), null));
      report.add(new Report.Figure(b, "warm pool vs raw clone", "ms", false, "pool: {size: 3}", r.get("pool"),
          "admin's CREATE DATABASE .. TEMPLATE + connect", r.get("raw"), null));
      report.note(b, "each arm: create() until the preview's role has connected and counted t01's rows (5,000); drops untimed;"
          + " the pool arm waits (untimed) before and after its round until the background refill has 3 members again. Goal: the pool >= 5x faster than"
          + " migrate + seed, i.e. ratio <= 0.20x.");
    } finally {
      pooled.close();
      try {
        pooled.drainPool();
      } catch (RuntimeException e) {
        // best effort
      }
      try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD.reveal()); Statement st = c.createStatement()) {
        st.execute("ALTER DATABASE \"" + baseline + "\" WITH IS_TEMPLATE false");
        st.execute("DROP DATABASE IF EXISTS \"" + baseline + "\"");
      }
    }
  }

  /** Waits (untimed) until the background refill has 3 members again. */
  static void refilled(java.util.function.IntSupplier ready, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (ready.getAsInt() < 3) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the pool did not refill within " + seconds + " s");
      }
      Thread.sleep(5);
    }
  }

  /** ms until the preview's role reads its rows; then drops it (untimed). */
  private static double ready(PostgresDatabaseProvider p, PreviewKey key, String seedSql) throws SQLException {
    long t0 = System.nanoTime();
    DatabaseConnection db = p.create(key, DatabaseSpec.empty());
    try (Connection c = DriverManager.getConnection(db.url(), db.username(), db.password().reveal());
        Statement st = c.createStatement()) {
      if (seedSql != null) {
        st.execute(seedSql);
      }
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM t01")) {
        rs.next();
        if (rs.getLong(1) != 5_000) {
          throw new IllegalStateException("t01 has " + rs.getLong(1) + " rows");
        }
      }
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    p.drop(key);
    return ms;
  }

  /** The raw floor: the admin clones the template and connects to the copy. */
  private static double raw(String baseline, String name) throws SQLException {
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD.reveal()); Statement st = c.createStatement()) {
      long t0 = System.nanoTime();
      st.execute("CREATE DATABASE \"" + name + "\" TEMPLATE \"" + baseline + "\"");
      String url = URL.substring(0, URL.lastIndexOf('/') + 1) + name;
      try (Connection d = DriverManager.getConnection(url, USER, PASSWORD.reveal()); Statement s = d.createStatement();
          ResultSet rs = s.executeQuery("SELECT count(*) FROM t01")) {
        rs.next();
      }
      double ms = (System.nanoTime() - t0) / 1e6;
      st.execute("DROP DATABASE \"" + name + "\" WITH (FORCE)");
      return ms;
    }
  }
}
