package dev.preview.db.postgres;

import dev.preview.db.internal.PoolRefills;
import dev.preview.spi.Installation;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm pool of mode {@code database}: databases cloned from the baseline ahead of time, so that
 * a preview's {@code create} renames one instead of waiting for {@code CREATE DATABASE}, whose fixed
 * cost (a checkpoint, the file copy) is most of the time a small baseline takes to clone.
 *
 * <h2>What a pool member is</h2>
 * A database named {@code pvpool_<installation hash>_<random>}, created {@code TEMPLATE <baseline>
 * ALLOW_CONNECTIONS false}, closed to PUBLIC, owned by the admin, with the comment
 * {@code preview.dev/pool {"instance":..,"baseline":..,"baselineOid":..}}. Nobody can connect to it
 * (not even the admin), so it holds exactly the baseline's contents. The comment is not an ownership
 * mark ({@code list()} reads only comments starting {@code "preview.dev "}), so members are never
 * previews; the name is never a preview's ({@code Names.postgres} never starts {@code pvpool_}).
 *
 * <h2>Hand-out</h2>
 * {@link #take} renames a member to the preview's name and writes the preview's mark in one
 * transaction: a crash leaves either a pool member or the preview's marked (not yet handed over)
 * database, which the next {@code create} finishes and {@code list}/{@code drop} (so reconcile) see.
 * Two {@code take}s at once never get one member: a rename of a database that a concurrent rename
 * already moved fails, and the loser tries the next member.
 *
 * <h2>Refill and baseline changes</h2>
 * One background thread refills after each hand-out. A member records its baseline's oid; a rebuilt
 * baseline ({@code PostgresBaseline.refresh()} swaps in a new database) has a new oid, and members of
 * the old one are dropped by the next refill and never handed out meanwhile. A member without a comment
 * (a refill that died between {@code CREATE DATABASE} and {@code COMMENT}) is dropped by the next refill.
 */
final class PgPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgPool.class);
  static final String NAME_PREFIX = "pvpool_";
  static final String MARK_PREFIX = "preview.dev/pool ";
  private static final SecureRandom RANDOM = new SecureRandom();

  interface Admin {
    Connection connect() throws SQLException;
  }

  private final Admin admin;
  private final String baseline;
  private final int size;
  private final String strategy;
  private final Installation installation;
  private final String prefix;
  private final PoolRefills refills;
  /** Test seam: runs right after a member was renamed and marked (a crash there is what the tests inject). */
  volatile Runnable afterTake = () -> {};

  PgPool(Admin admin, String baseline, int size, String strategy, Installation installation) {
    this.admin = admin;
    this.baseline = baseline;
    this.size = size;
    this.strategy = strategy;
    this.installation = installation;
    this.prefix = NAME_PREFIX + PoolRefills.shortHash(installation.instance() + "\0" + baseline) + "_";
    this.refills = new PoolRefills("postgres", baseline, "clone", this::refill);
  }

  int size() {
    return size;
  }

  String baseline() {
    return baseline;
  }

  /** Members handed out so far, and creates that found the pool empty (or stale) and cloned instead. */
  long handedOut() {
    return refills.handedOutCount();
  }

  long missed() {
    return refills.missedCount();
  }

  List<String> taken() {
    return refills.taken();
  }

  private String mark(long baselineOid) {
    // not JSON-escaped by hand: the three values are [a-z0-9_-] (instance, identifier) and digits
    return MARK_PREFIX + "{\"instance\":\"" + installation.instance().replace("\"", "") + "\",\"baseline\":\""
        + baseline.replace("\"", "") + "\",\"baselineOid\":\"" + baselineOid + "\"}";
  }

  private Optional<Long> baselineOid(Connection c) throws SQLException {
    return PgSql.one(c, "SELECT CAST(oid AS pg_catalog.text) FROM pg_catalog.pg_database WHERE datname = ?", baseline).map(Long::parseLong);
  }

  /** This installation's members: name and comment ("" if none). */
  private List<String[]> members(Connection c) throws SQLException {
    return PgSql.pairs(c, "SELECT datname, COALESCE(pg_catalog.shobj_description(oid, 'pg_database'), '') FROM pg_catalog.pg_database"
        + " WHERE pg_catalog.starts_with(datname, ?) ORDER BY datname", prefix);
  }

  /**
   * Renames a current member to {@code target} and marks it with {@code mark}, in one transaction;
   * empty if there is none (the caller clones as before). Asks for a refill either way.
   */
  Optional<String> take(Connection c, String target, String targetMark) throws SQLException {
    try {
      Optional<Long> oid = baselineOid(c);
      if (oid.isEmpty()) {
        return Optional.empty();
      }
      String current = mark(oid.get());
      List<String> ready = new ArrayList<>();
      for (String[] m : members(c)) {
        if (m[1].equals(current)) {
          ready.add(m[0]);
        }
      }
      Collections.shuffle(ready); // two creates at once mostly try different members first
      for (String member : ready) {
        c.setAutoCommit(false);
        try {
          PgSql.ddl(c, "ALTER DATABASE %I RENAME TO %I", member, target);
          PgSql.ddl(c, "COMMENT ON DATABASE %I IS %L", target, targetMark);
          c.commit();
          refills.handedOut(member);
          afterTake.run();
          LOG.info("postgres: handed pool member {} out as {}", member, target);
          return Optional.of(member);
        } catch (SQLException e) {
          c.rollback();
          // gone meanwhile (3D000), renamed by a concurrent take (XX000 tuple concurrently updated,
          // 40001/40P01), or being dropped (55006): the next member
          LOG.debug("postgres: pool member {} not taken ({}): {}", member, e.getSQLState(), e.getMessage());
        } finally {
          c.setAutoCommit(true);
        }
      }
      refills.missed();
      return Optional.empty();
    } finally {
      refillSoon();
    }
  }

  /** Asks the background thread to refill (no-op if one is already queued). */
  void refillSoon() {
    refills.soon();
  }

  /**
   * Drops stale members (another baseline, or no comment) and clones until {@link #size} current
   * ones exist; returns how many are ready. Synchronous (the background refill calls it too).
   */
  synchronized int refill() throws SQLException {
    try (Connection c = admin.connect()) {
      Optional<Long> oid = baselineOid(c);
      if (oid.isEmpty()) {
        LOG.warn("postgres: baseline {} does not exist: no pool", baseline);
        return 0;
      }
      String current = mark(oid.get());
      int ready = 0;
      for (String[] m : members(c)) {
        if (m[1].equals(current)) {
          ready++;
        } else {
          try {
            PgSql.ddl(c, "DROP DATABASE IF EXISTS %I", m[0]);
            LOG.info("postgres: dropped stale pool member {} ({})", m[0], m[1].isEmpty() ? "unfinished" : "older baseline");
          } catch (SQLException e) {
            LOG.debug("postgres: stale pool member {} not dropped now: {}", m[0], e.getSQLState());
          }
        }
      }
      while (ready < size) {
        String name = prefix + HexFormat.of().formatHex(randomBytes());
        StringBuilder sql = new StringBuilder("CREATE DATABASE %I TEMPLATE %I");
        if (strategy != null && PgSql.serverVersion(c) >= 150000) {
          sql.append(" STRATEGY ").append(strategy); // validated: wal_log or file_copy
        }
        sql.append(" ALLOW_CONNECTIONS false");
        PgSql.ddl(c, sql.toString(), name, baseline);
        PgSql.ddl(c, "REVOKE ALL ON DATABASE %I FROM PUBLIC", name);
        PgSql.ddl(c, "COMMENT ON DATABASE %I IS %L", name, current);
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
      Optional<Long> oid = baselineOid(c);
      if (oid.isEmpty()) {
        return 0;
      }
      String current = mark(oid.get());
      return (int) members(c).stream().filter(m -> m[1].equals(current)).count();
    }
  }

  /** Drops every member of this installation's pool (e.g. before the pool is turned off). */
  synchronized int drain() throws SQLException {
    int n = 0;
    try (Connection c = admin.connect()) {
      for (String[] m : members(c)) {
        PgSql.ddl(c, "DROP DATABASE IF EXISTS %I", m[0]);
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {
    refills.close();
  }
}
