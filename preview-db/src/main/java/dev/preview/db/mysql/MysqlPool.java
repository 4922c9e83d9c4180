package dev.preview.db.mysql;

import dev.preview.db.internal.PoolRefills;
import static dev.preview.db.mysql.MysqlDatabaseProvider.exec;
import static dev.preview.db.mysql.MysqlDatabaseProvider.q;
import static dev.preview.db.mysql.MysqlDatabaseProvider.schemaExists;
import static dev.preview.db.mysql.MysqlDatabaseProvider.update;

import dev.preview.spi.Installation;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm pool of the MySQL/MariaDB provider: copies of the baseline's tables (with their rows and
 * {@code AUTO_INCREMENT} counters) made ahead of time, so that a preview's {@code create} takes one
 * as its database instead of copying every row.
 *
 * <h2>What a pool member is</h2>
 * A database {@code pvpool_<hash of instance and baseline>_<random>} holding the baseline's tables
 * and rows only: no view, routine, trigger or event, since those carry a {@code DEFINER} and must
 * name the preview's own user (issue 12). No grant names it, so only the admin reaches it. Its row in
 * {@code <registry>.pool} records the installation, the baseline and the baseline's fingerprint at
 * the time of the copy; that table is not {@code <registry>.previews}, so {@code list()} never
 * returns a member. The row is written before the database and deleted after it.
 *
 * <h2>Hand-out</h2>
 * MySQL cannot rename a database, and moving the tables ({@code RENAME TABLE}, one fsync per table)
 * cost most of what the pool saves; so a member keeps its name and becomes the preview's database:
 * {@link #take} deletes the member's pool row and points the preview's registry row
 * ({@code db_name}) at it in <b>one transaction</b>. Of two takes at once, one deletes the row and the
 * other finds nothing and tries the next member. The caller then recreates views, routines,
 * triggers and events from the baseline with the preview's user as definer, grants that user
 * {@code ALL} on exactly that database (an escaped pattern), and flags the registry row
 * {@code ready}: a crash before the commit leaves the member in the pool; after it, a registry row
 * that {@code list()} returns (so reconcile drops it) and that the next {@code create} redoes.
 *
 * <h2>The baseline's fingerprint</h2>
 * MySQL has no database oid, so a member records a digest of what
 * {@code information_schema} says of the baseline's tables: names, engines, collations, creation and
 * last-update times, {@code AUTO_INCREMENT}, columns and indexes. A rebuilt baseline (new tables), a
 * migration, or any committed write into a baseline table changes it, and members with another
 * digest are never handed out and are dropped by the next refill. The update time has a resolution
 * of one second, so a refill copies only once the baseline's last change lies in an earlier second
 * (it waits up to one second), and a copy during which the digest moved is thrown away. InnoDB keeps
 * update times in memory: after a server restart the digest differs once, and the pool is refilled.
 */
final class MysqlPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MysqlPool.class);
  static final String NAME_PREFIX = "pvpool_";
  private static final SecureRandom RANDOM = new SecureRandom();

  interface Admin {
    Connection connect() throws SQLException;
  }

  private final Admin admin;
  private final String registry;
  private final String baseline;
  private final int size;
  private final Installation installation;
  private final String prefix;
  private final PoolRefills refills;
  private volatile Boolean statsExpiry;
  /**
   * How old an unfinished copy must be before a refill takes it for a crashed one and drops it (the
   * server's clock): a refill of another process may still be copying a younger one.
   */
  volatile Duration crashGrace = Duration.ofMinutes(10);
  /** Test seam: runs once a take has listed the members it will try, before it claims one. */
  volatile Runnable beforeClaim = () -> {};
  /** Test seam: runs inside the hand-out's transaction, after the member's pool row was deleted, before the commit. */
  volatile Runnable inTransaction = () -> {};
  /** Test seam: runs right after a member was taken (its pool row gone, the preview's registry row pointing at it). */
  volatile Runnable afterTake = () -> {};

  MysqlPool(Admin admin, String registry, String baseline, int size, Installation installation) {
    this.admin = admin;
    this.registry = registry;
    this.baseline = baseline;
    this.size = size;
    this.installation = installation;
    this.prefix = NAME_PREFIX + PoolRefills.shortHash(installation.instance() + "\0" + baseline) + "_";
    this.refills = new PoolRefills("mysql", baseline, "copy", this::refill);
  }

  int size() {
    return size;
  }

  String baseline() {
    return baseline;
  }

  long handedOut() {
    return refills.handedOutCount();
  }

  long missed() {
    return refills.missedCount();
  }

  /** The members handed out by this pool, in order (for tests and operators). */
  List<String> taken() {
    return refills.taken();
  }

  void ensureTable(Connection c) throws SQLException {
    exec(c, "CREATE DATABASE IF NOT EXISTS " + q(registry) + " CHARACTER SET utf8mb4");
    exec(c, "CREATE TABLE IF NOT EXISTS " + q(registry) + ".pool ("
        + "db_name VARCHAR(64) NOT NULL PRIMARY KEY, instance VARCHAR(255) NOT NULL, baseline VARCHAR(64) NOT NULL, "
        + "fingerprint CHAR(64) NULL, ready BOOLEAN NOT NULL DEFAULT FALSE, "
        + "created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP) CHARACTER SET utf8mb4");
  }

  /** The baseline's fingerprint now, and whether it changed within the server's current second; empty if it does not exist. */
  record Fingerprint(String digest, boolean changedThisSecond) {}

  Optional<Fingerprint> fingerprint(Connection c) throws SQLException {
    if (statsExpiry == null) {
      try {
        exec(c, "SET SESSION information_schema_stats_expiry = 0"); // MySQL 8 caches these for a day
        statsExpiry = true;
      } catch (SQLException mariadb) {
        statsExpiry = false;
      }
    } else if (statsExpiry) {
      exec(c, "SET SESSION information_schema_stats_expiry = 0");
    }
    if (!schemaExists(c, baseline)) {
      return Optional.empty();
    }
    StringBuilder all = new StringBuilder();
    boolean recent = false;
    try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, CREATE_OPTIONS,"
        + " CAST(CREATE_TIME AS CHAR), CAST(UPDATE_TIME AS CHAR), CAST(AUTO_INCREMENT AS CHAR),"
        + " GREATEST(COALESCE(CREATE_TIME, TIMESTAMP '1970-01-02 00:00:00'), COALESCE(UPDATE_TIME, TIMESTAMP '1970-01-02 00:00:00')) >= NOW()"
        + " FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'VIEW' ORDER BY TABLE_NAME")) {
      ps.setString(1, baseline);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          for (int i = 1; i <= 8; i++) {
            all.append(rs.getString(i)).append('\u0001');
          }
          all.append('\n');
          recent |= rs.getBoolean(9);
        }
      }
    }
    digestRows(c, all, "SELECT TABLE_NAME, COLUMN_NAME, CAST(ORDINAL_POSITION AS CHAR), COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,"
        + " EXTRA, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION", 8);
    digestRows(c, all, "SELECT TABLE_NAME, INDEX_NAME, CAST(SEQ_IN_INDEX AS CHAR), COLUMN_NAME, CAST(NON_UNIQUE AS CHAR), INDEX_TYPE"
        + " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", 6);
    digestRows(c, all, "SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE"
        + " FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? ORDER BY CONSTRAINT_NAME, TABLE_NAME", 5);
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(all.toString().getBytes(StandardCharsets.UTF_8));
      return Optional.of(new Fingerprint(HexFormat.of().formatHex(d), recent));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void digestRows(Connection c, StringBuilder all, String sql, int columns) throws SQLException {
    all.append("--\n");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, baseline);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          for (int i = 1; i <= columns; i++) {
            all.append(rs.getString(i)).append('\u0001');
          }
          all.append('\n');
        }
      }
    }
  }

  /** A member's row: whether it is complete, and older than {@link #crashGrace}. */
  private record Member(String name, String fingerprint, boolean ready, boolean old) {}

  /** This installation's members of this baseline. */
  private List<Member> members(Connection c) throws SQLException {
    List<Member> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT db_name, fingerprint, ready, created <= NOW() - INTERVAL ? SECOND FROM "
        + q(registry) + ".pool WHERE instance = ? AND baseline = ? ORDER BY db_name")) {
      ps.setLong(1, crashGrace.toSeconds());
      ps.setString(2, installation.instance());
      ps.setString(3, baseline);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Member(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4)));
        }
      }
    }
    return out;
  }

  /**
   * Takes a current member for the preview whose registry row names {@code previewDb}: in one
   * transaction, deletes the member's pool row (only if it is still there, ready and current: of two
   * takes at once, one deletes it and the other finds nothing) and points the preview's registry row
   * at the member's database. Returns the member's name, or empty if there is none (the caller copies
   * as before). Asks for a refill either way.
   */
  Optional<String> take(Connection c, String previewDb) throws SQLException {
    try {
      ensureTable(c);
      Optional<Fingerprint> fp = fingerprint(c);
      if (fp.isEmpty()) {
        return Optional.empty();
      }
      List<String> ready = new ArrayList<>();
      for (Member m : members(c)) {
        if (m.ready() && fp.get().digest().equals(m.fingerprint())) {
          ready.add(m.name());
        }
      }
      Collections.shuffle(ready); // two creates at once mostly try different members first
      beforeClaim.run();
      for (String member : ready) {
        c.setAutoCommit(false);
        try {
          int claimed;
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + q(registry) + ".pool WHERE db_name = ? AND ready"
              + " AND fingerprint = ?")) {
            ps.setString(1, member);
            ps.setString(2, fp.get().digest());
            claimed = ps.executeUpdate();
          }
          if (claimed != 1) {
            c.rollback();
            continue; // a concurrent take got it first
          }
          inTransaction.run();
          update(c, "UPDATE " + q(registry) + ".previews SET db_name = ? WHERE db_name = ?", member, previewDb);
          c.commit();
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
        refills.handedOut(member);
        afterTake.run();
        LOG.info("mysql: handed pool member {} out for {}", member, previewDb);
        return Optional.of(member);
      }
      refills.missed();
      return Optional.empty();
    } finally {
      refillSoon();
    }
  }

  /** Drops a member's database, then its row. */
  private void discard(Connection c, String member) throws SQLException {
    exec(c, "DROP DATABASE IF EXISTS " + q(MysqlDatabaseProvider.safe(member)));
    update(c, "DELETE FROM " + q(registry) + ".pool WHERE db_name = ?", member);
  }

  /** Asks the background thread to refill (no-op if one is already queued). */
  void refillSoon() {
    refills.soon();
  }

  /**
   * Drops members of another fingerprint, emptied or crashed ones, and databases named like a member
   * without a row; copies until {@link #size} current members exist; returns how many are ready.
   */
  synchronized int refill() throws SQLException, InterruptedException {
    try (Connection c = admin.connect()) {
      ensureTable(c);
      Optional<Fingerprint> fp = fingerprint(c);
      if (fp.isEmpty()) {
        LOG.warn("mysql: baseline {} does not exist: no pool", baseline);
        return 0;
      }
      int ready = 0;
      for (Member m : members(c)) {
        if (m.ready() && fp.get().digest().equals(m.fingerprint())) {
          ready++;
        } else if (m.ready() || m.old()) {
          discard(c, m.name());
          LOG.info("mysql: dropped pool member {} ({})", m.name(), m.ready() ? "older baseline" : "unfinished copy");
        }
      }
      int attempts = 0;
      while (ready < size && attempts++ < size + 3 && !Thread.currentThread().isInterrupted()) {
        Fingerprint before = fingerprint(c).orElse(null);
        for (int i = 0; before != null && before.changedThisSecond() && i < 12; i++) {
          Thread.sleep(100); // its update time has one-second resolution: copy once that second is over
          before = fingerprint(c).orElse(null);
        }
        if (before == null || before.changedThisSecond()) {
          return ready;
        }
        String name = prefix + HexFormat.of().formatHex(randomBytes());
        update(c, "INSERT INTO " + q(registry) + ".pool (db_name, instance, baseline) VALUES (?, ?, ?)",
            name, installation.instance(), baseline);
        MysqlDatabaseProvider.copyTables(c, baseline, name);
        Optional<Fingerprint> after = fingerprint(c);
        if (after.isEmpty() || !after.get().digest().equals(before.digest())) {
          discard(c, name); // the baseline moved during the copy
          continue;
        }
        update(c, "UPDATE " + q(registry) + ".pool SET ready = TRUE, fingerprint = ? WHERE db_name = ?", before.digest(), name);
        ready++;
      }
      return ready;
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[6];
    RANDOM.nextBytes(b);
    return b;
  }

  /** Current members now. */
  int ready() throws SQLException {
    try (Connection c = admin.connect()) {
      ensureTable(c);
      Optional<Fingerprint> fp = fingerprint(c);
      if (fp.isEmpty()) {
        return 0;
      }
      return (int) members(c).stream().filter(m -> m.ready() && fp.get().digest().equals(m.fingerprint())).count();
    }
  }

  /** Drops every member of this installation's pool of this baseline. */
  synchronized int drain() throws SQLException {
    int n = 0;
    try (Connection c = admin.connect()) {
      ensureTable(c);
      for (Member m : members(c)) {
        discard(c, m.name());
        n++;
      }
    }
    return n;
  }

  /** Stops the refill: a copy under way finishes (up to 30 s), no further one starts. */
  @Override
  public void close() {
    refills.close();
  }
}
