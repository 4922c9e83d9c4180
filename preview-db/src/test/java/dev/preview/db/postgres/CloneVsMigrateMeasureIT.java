package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The measurement in the module README: time to a ready per-preview database (created, owned by
 * its role, reachable with its credentials, rows readable) by template clone versus by running the
 * same Flyway migrations and seed SQL on an empty database, in the same run on the same server.
 * Runs only with {@code -Dpreview.measure=true} (it takes ~30 s); rounds: {@code -Dpreview.measure.rounds}
 * (default 5). Writes {@code target/clone-vs-migrate.txt}.
 *
 * <p>Reproduce: {@code mvn -B -q -pl preview-db -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 * -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=CloneVsMigrateMeasureIT -Dpreview.measure=true}
 */
@EnabledIfSystemProperty(named = "preview.measure", matches = "true")
class CloneVsMigrateMeasureIT {
  static final String BASELINE = "measure_baseline";
  static final String MIGRATIONS = "classpath:db/pg/migration";

  @Test
  void templateCloneVersusMigrationsPlusSeed() throws Exception {
    int rounds = Integer.getInteger("preview.measure.rounds", 5);
    PgServer.Admin admin = PgServer.admin();
    Path seed = Path.of(getClass().getResource("/db/pg/bench-seed.sql").toURI());
    String seedSql = Files.readString(seed, StandardCharsets.UTF_8);
    PostgresBaseline.Result base = admin.baseline().database(BASELINE).migrations(List.of(MIGRATIONS))
        .seed(List.of(seed)).build().refresh();
    long dataBytes;
    try (Connection c = admin.connect("postgres")) {
      PgSql.ddl(c, "ALTER DATABASE %I WITH ALLOW_CONNECTIONS true", BASELINE);
      try (Connection b = admin.connect(BASELINE)) {
        dataBytes = count(b, "SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','S')");
      }
      PgSql.ddl(c, "ALTER DATABASE %I WITH ALLOW_CONNECTIONS false", BASELINE);
    }
    String repo = "acme/measure-" + UUID.randomUUID().toString().substring(0, 6);
    PostgresDatabaseProvider walLog = admin.provider().baseline(BASELINE).strategy("wal_log").build();
    PostgresDatabaseProvider fileCopy = admin.provider().baseline(BASELINE).strategy("file_copy").build();
    PostgresDatabaseProvider migrate = admin.provider().migrations(List.of(MIGRATIONS)).build();

    List<Long> tWal = new ArrayList<>();
    List<Long> tFile = new ArrayList<>();
    List<Long> tMigrate = new ArrayList<>();
    int n = 0;
    for (int round = 0; round < rounds + 1; round++) { // round 0 warms up and is not counted
      boolean counted = round > 0;
      long a = timeToReady(walLog, PreviewKey.pr(repo, ++n), null);
      long b = timeToReady(fileCopy, PreviewKey.pr(repo, ++n), null);
      long m = timeToReady(migrate, PreviewKey.pr(repo, ++n), seedSql);
      if (counted) {
        tWal.add(a);
        tFile.add(b);
        tMigrate.add(m);
      }
    }
    long medWal = median(tWal);
    long medFile = median(tFile);
    long medMigrate = median(tMigrate);
    String version;
    try (Connection c = admin.connect("postgres")) {
      version = PgSql.one(c, "SHOW server_version").orElse("?");
    }
    String report = String.format(Locale.ROOT, """
        PostgreSQL %s, baseline %s: %d migrations + seed, %.1f MB of table/index data (%.1f MB database)
        rounds: %d (after 1 warm-up), median time to a ready preview database:
          template clone, STRATEGY wal_log   : %6.1f ms  %s
          template clone, STRATEGY file_copy : %6.1f ms  %s
          empty + Flyway migrations + seed   : %6.1f ms  %s
        ratio migrate/clone: %.1fx (wal_log), %.1fx (file_copy)
        """, version, BASELINE, base.migrationsApplied(), dataBytes / 1e6, base.sizeBytes() / 1e6, rounds,
        medWal / 1e6, ms(tWal), medFile / 1e6, ms(tFile), medMigrate / 1e6, ms(tMigrate),
        (double) medMigrate / medWal, (double) medMigrate / medFile);
    System.out.println(report);
    Files.writeString(Path.of("target", "clone-vs-migrate.txt"), report, StandardCharsets.UTF_8);
    assertThat(medWal).isPositive();
  }

  /** Create, connect as the preview's role, see the seeded rows; then drop (not timed). */
  private static long timeToReady(PostgresDatabaseProvider p, PreviewKey key, String seedSql) throws SQLException {
    long t0 = System.nanoTime();
    DatabaseConnection c = p.create(key, DatabaseSpec.empty());
    try (Connection db = DriverManager.getConnection(c.url(), c.username(), c.password().reveal())) {
      if (seedSql != null) {
        try (Statement st = db.createStatement()) {
          st.execute(seedSql);
        }
      }
      assertThat(count(db, "SELECT count(*) FROM orders")).isEqualTo(50_000);
    }
    long took = System.nanoTime() - t0;
    p.drop(key);
    return took;
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static String ms(List<Long> xs) {
    return xs.stream().map(x -> String.format(Locale.ROOT, "%.0f", x / 1e6)).toList().toString();
  }
}
