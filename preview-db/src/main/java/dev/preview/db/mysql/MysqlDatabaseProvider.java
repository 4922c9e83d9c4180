package dev.preview.db.mysql;

import dev.preview.db.internal.OwnerMark;
import dev.preview.db.internal.Passwords;
import dev.preview.db.internal.WideHash;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.LeakyLoggers;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MySQL or MariaDB database per preview, with its own user ({@link #userName}) that has
 * {@code ALL} on that database only (a grant pattern with every wildcard escaped) and
 * {@code MAX_USER_CONNECTIONS} from config.
 *
 * <h2>Baseline copy</h2>
 * Neither server can clone a database, so the copy replays {@code SHOW CREATE TABLE} of every
 * baseline table in the new database (indexes, foreign keys, {@code AUTO_INCREMENT} counters,
 * charsets and engines come along), copies the rows with {@code INSERT .. SELECT} (foreign key checks
 * off), then recreates routines, views, triggers and events with their references re-pointed to the
 * new database and the preview's own user as {@code DEFINER} (views {@code SQL SECURITY INVOKER}), so
 * nothing in a preview's database runs with the admin's rights. MariaDB sequences are not copied. No
 * client binary ({@code mariadb-dump}) is needed on the orchestrator's host.
 *
 * <h2>Warm pool</h2>
 * With {@link Builder#pool} ({@code pool: {size: N}}) copies of the baseline's tables are made ahead
 * of time and a new preview takes one as its database, in one transaction with its registry row; see
 * {@link MysqlPool}. Off by default.
 *
 * <h2>Ownership</h2>
 * MySQL has no comments on databases or users that both servers share, so ownership is kept in a
 * small registry table on the server ({@code <registry>.previews}, default {@code preview_registry}):
 * its row (whose mark records the key and the installation's instance) is written before the database
 * and deleted after it, and a {@code ready} flag is set only
 * once the copy is complete, so a copy cut short by a crash is dropped and redone by the next
 * {@link #create}. {@link #list()} reads that table and returns only this installation's keys (see
 * {@link OwnerMark} for rows written before instances existed). Several installations may share one
 * server and one registry: a named installation's databases and users hold its instance
 * ({@link #dbName}), so previews of the same key in two installations never meet.
 *
 * <p>Identifiers are generated ({@code [a-z0-9_]}) and checked again before they are quoted into
 * DDL (MySQL cannot bind identifiers or {@code CREATE USER} arguments); values are bound elsewhere.
 * Thread-safe: every call opens its own connection.
 */
public final class MysqlDatabaseProvider implements DatabaseProvider {
  /** {@code database.provider: mysql}. */
  public static final String NAME = "mysql";
  private static final Logger LOG = LoggerFactory.getLogger(MysqlDatabaseProvider.class);
  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_$]{1,64}");
  private static final Pattern AUTO_INCREMENT = Pattern.compile("\\) [^\n]*\\bAUTO_INCREMENT=(\\d+)");
  private static final Pattern SAFE_HOST = Pattern.compile("[A-Za-z0-9_.%:-]{1,255}");

  private final String adminUrl;
  private final String scheme;
  private final String username;
  private final Secret password;
  private final String baseline;
  private final String registry;
  private final String userHost;
  private final int maxConnections;
  private final String appHost;
  private final int appPort;
  private final Installation installation;
  /**
   * MariaDB Connector/J loggers that print secrets (checked in 3.5.11's classes): {@code StandardClient}
   * logs every statement at DEBUG ({@code execute query: CREATE USER .. IDENTIFIED BY '<password>'});
   * the socket {@code Writer} and {@code Reader} hex-dump every packet at TRACE (the same statements, and
   * result rows); {@code ErrorPacket} logs server errors at DEBUG, whose text quotes the statement near
   * the error. The password has to be in the statement (MariaDB has no client-side hashing API), so
   * these loggers must stay above DEBUG.
   */
  static final List<String> LEAKY_LOGGERS = List.of(
      "org.mariadb.jdbc.client.impl.StandardClient",
      "org.mariadb.jdbc.client.socket.Writer",
      "org.mariadb.jdbc.client.socket.Reader",
      "org.mariadb.jdbc.message.server.ErrorPacket");

  static final String LEAKY_LOGGERS_FIX = "MariaDB Connector/J writes the statements sent (CREATE USER .. IDENTIFIED BY"
      + " '<password>') and the packets; set org.mariadb.jdbc to INFO or above in the logging config (slf4j-simple:"
      + " -Dorg.slf4j.simpleLogger.log.org.mariadb.jdbc=info; logback: <logger name=\"org.mariadb.jdbc\" level=\"INFO\"/>;"
      + " java.util.logging: org.mariadb.jdbc.level=INFO)";

  /** The warm pool ({@code pool: {size: N}}), or null when off (the default). */
  private final MysqlPool pool;

  private MysqlDatabaseProvider(Builder b, String scheme, String hostPortPath) {
    this.installation = b.installation;
    this.scheme = scheme;
    this.adminUrl = "jdbc:mariadb://" + hostPortPath;
    this.username = b.username;
    this.password = b.password;
    this.baseline = b.baseline;
    this.registry = b.registry;
    this.userHost = b.userHost;
    this.maxConnections = b.maxConnections;
    String hostPort = hostPortPath.split("[/?]", 2)[0].split(",")[0];
    int colon = hostPort.lastIndexOf(':');
    this.appHost = b.appHost != null ? b.appHost : colon < 0 ? hostPort : hostPort.substring(0, colon);
    this.appPort = b.appPort > 0 ? b.appPort : colon < 0 ? 3306 : Integer.parseInt(hostPort.substring(colon + 1));
    this.pool = b.poolSize > 0 ? new MysqlPool(this::connect, registry, baseline, b.poolSize, installation) : null;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
    Objects.requireNonNull(key, "key");
    DatabaseSpec s = spec == null ? DatabaseSpec.empty() : spec;
    String source = s.baseline() != null ? safe(s.baseline()) : baseline;
    Secret pw = Passwords.generate();
    String db = dbName(installation, key);
    try (Connection c = connect()) {
      ensureRegistry(c);
      Target t = target(c, key);
      db = t.db();
      String user = t.user();
      Optional<Row> row = t.row();
      if (row.isPresent() && !row.get().isOf(installation, key)) {
        throw new ProviderException(NAME, "database " + db + " is registered to " + row.get().owner()
            + ", not to " + key + " of installation " + installation.instance() + "; refusing to adopt it", false);
      }
      String pattern = grantPattern(db); // before anything is written: a name that cannot be granted exactly fails here
      boolean exists = schemaExists(c, db);
      if (row.isEmpty()) {
        if (exists) {
          throw new ProviderException(NAME, "database " + db + " exists but is not managed by preview; refusing to adopt it for "
              + key + ". Drop or rename it by hand.", false);
        }
        if (userExists(c, user)) {
          throw new ProviderException(NAME, "user " + user + " exists but is not managed by preview; refusing to adopt it for "
              + key + ". Drop or rename it by hand.", false);
        }
        update(c, "INSERT INTO " + q(registry) + ".previews (db_name, user_name, preview_key, mark, ready) VALUES (?, ?, ?, ?, FALSE)",
            db, user, key.id(), OwnerMark.encode(installation, key, s.labels()));
      } else {
        update(c, "UPDATE " + q(registry) + ".previews SET mark = ? WHERE db_name = ?", OwnerMark.encode(installation, key, s.labels()), db);
      }
      String account = account(user);
      exec(c, "CREATE USER IF NOT EXISTS " + account + " IDENTIFIED BY " + lit(pw.reveal())
          + " WITH MAX_USER_CONNECTIONS " + maxConnections);
      // passwords are never stored: a repeated create rotates it
      exec(c, "ALTER USER " + account + " IDENTIFIED BY " + lit(pw.reveal()) + " WITH MAX_USER_CONNECTIONS " + maxConnections);
      if (row.isEmpty() || !row.get().ready()) {
        // nobody knows the new password yet: ending the old sessions leaves the copy to the admin alone
        killSessions(c, user);
        exec(c, "DROP DATABASE IF EXISTS " + q(db)); // a copy cut short
        long t0 = System.nanoTime();
        Optional<String> member = pool != null && source != null && source.equals(pool.baseline()) ? pool.take(c, db) : Optional.empty();
        if (member.isPresent()) {
          // a pool member (the baseline's tables and rows), now registered as this preview's database in the same
          // transaction that took it from the pool; what has a definer is made for this preview's user now
          db = member.get();
          pattern = grantPattern(db);
          copyCode(c, source, db, account);
        } else {
          copy(c, source, db, account);
        }
        update(c, "UPDATE " + q(registry) + ".previews SET ready = TRUE WHERE db_name = ?", db);
        LOG.info("mysql: created database {} for {} from {} in {} ms", db, key, source == null ? "nothing" : source,
            (System.nanoTime() - t0) / 1_000_000);
      }
      exec(c, "GRANT ALL PRIVILEGES ON " + q(pattern) + ".* TO " + account);
      return connection(db, user, pw);
    } catch (SQLException e) {
      throw failure("cannot create the database of " + key + " (" + db + ")", e);
    }
  }

  /**
   * The database name this version gives {@code key}: {@code pv_<readable>_<16 hex digits of the
   * installation and the full key>}, cut so that its grant pattern ({@link #grantPattern}, every
   * {@code _} escaped) fits the server's 64 characters.
   */
  static String dbName(Installation installation, PreviewKey key) {
    return WideHash.name("pv", installation, key, '_', Names.MYSQL_MAX, n -> escape(n).length());
  }

  /** The user name this version gives {@code key}: {@code pv_<readable>_<16 hex digits>}, at most 32. */
  static String userName(Installation installation, PreviewKey key) {
    return WideHash.name("pv", installation, key, '_', Names.MYSQL_USER_MAX, String::length);
  }

  /** The names of {@code key}'s database and user: its registry row's (an earlier version's names stay), else this version's. */
  private record Target(String db, String user, Optional<Row> row) {}

  private Target target(Connection c, PreviewKey key) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT db_name, user_name, preview_key, mark, ready FROM " + q(registry) + ".previews WHERE preview_key = ? ORDER BY db_name")) {
      ps.setString(1, key.id());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Row r = new Row(rs.getString(3), rs.getString(4), rs.getBoolean(5));
          if (r.isOf(installation, key)) {
            return new Target(safe(rs.getString(1)), safe(rs.getString(2)), Optional.of(r));
          }
        }
      }
    }
    String db = dbName(installation, key);
    return new Target(db, userName(installation, key), row(c, db));
  }

  private boolean userExists(Connection c, String user) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?")) {
      ps.setString(1, user);
      ps.setString(2, userHost);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * Copies the baseline into the new database {@code db}: tables with their rows, then routines,
   * views, triggers and events, each recreated with the preview's own account as its
   * {@code DEFINER} (views also {@code SQL SECURITY INVOKER}), so nothing in a preview's database
   * ever runs with the admin's rights, whatever the preview later swaps underneath it.
   */
  private void copy(Connection c, String source, String db, String account) throws SQLException {
    if (source == null) {
      exec(c, "CREATE DATABASE " + q(db) + " CHARACTER SET utf8mb4");
      return;
    }
    copyTables(c, source, db);
    copyCode(c, source, db, account);
  }

  /** {@code CREATE DATABASE db} with the baseline's character set and collation. */
  static void createLike(Connection c, String source, String db) throws SQLException {
    if (!schemaExists(c, source)) {
      throw new ProviderException(NAME, "baseline database " + source + " does not exist; create it or fix database.baseline", false);
    }
    String charset = one(c, "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", source);
    String collation = one(c, "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", source);
    exec(c, "CREATE DATABASE " + q(db) + " CHARACTER SET " + safe(charset) + " COLLATE " + safe(collation));
  }

  /** The tables of {@code schema} (everything but views), by name. */
  static List<String> tables(Connection c, String schema) throws SQLException {
    List<String> tables = new ArrayList<>();
    for (String[] t : names(c, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?"
        + " AND TABLE_TYPE <> 'VIEW' ORDER BY TABLE_NAME", schema)) {
      tables.add(t[0]);
    }
    return tables;
  }

  /**
   * The new database {@code db} with the baseline's tables and rows, and nothing that has a definer
   * (a warm pool member is exactly this: {@link MysqlPool}).
   */
  static void copyTables(Connection c, String source, String db) throws SQLException {
    createLike(c, source, db);
    List<String> tables = tables(c, source);
    exec(c, "USE " + q(db));
    exec(c, "SET SESSION foreign_key_checks = 0");
    try {
      for (String t : tables) {
        String ddl = showCreate(c, "SHOW CREATE TABLE " + q(source) + "." + q(t), 2);
        exec(c, ddl);
        exec(c, "INSERT INTO " + q(db) + "." + q(t) + " SELECT * FROM " + q(source) + "." + q(t));
        // a bulk INSERT .. SELECT reserves AUTO_INCREMENT values in batches: put the baseline's counter back
        Matcher m = AUTO_INCREMENT.matcher(ddl);
        if (m.find()) {
          exec(c, "ALTER TABLE " + q(db) + "." + q(t) + " AUTO_INCREMENT = " + Long.parseLong(m.group(1)));
        }
      }
    } finally {
      exec(c, "SET SESSION foreign_key_checks = 1");
    }
  }

  /**
   * The baseline's routines, views, triggers and events, recreated in {@code db} (which has the
   * baseline's tables already) with {@code account} as their {@code DEFINER}.
   */
  private void copyCode(Connection c, String source, String db, String account) throws SQLException {
    List<String> views = new ArrayList<>();
    for (String[] v : names(c, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?"
        + " AND TABLE_TYPE = 'VIEW' ORDER BY TABLE_NAME", source)) {
      views.add(v[0]);
    }
    exec(c, "USE " + q(db));
    String sqlMode = one(c, "SELECT @@SESSION.sql_mode");
    String timeZone = one(c, "SELECT @@SESSION.time_zone");
    exec(c, "SET SESSION foreign_key_checks = 0");
    try {
      String fromRef = q(source) + ".";
      String toRef = q(db) + ".";
      // routines first: a view may call a function, and a routine's body is not resolved until it runs
      for (String[] r : names(c, "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?"
          + " AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION') ORDER BY ROUTINE_TYPE, ROUTINE_NAME", source)) {
        String kind = r[1].equals("FUNCTION") ? "FUNCTION" : "PROCEDURE";
        String[] show = showCreateRow(c, "SHOW CREATE " + kind + " " + q(source) + "." + q(r[0]));
        createAs(c, show[1], null, asDefiner(show[2], account, false).replace(fromRef, toRef));
      }
      createViews(c, source, views, account, fromRef, toRef);
      // triggers after the rows: the copy itself fires none
      for (String[] t : names(c, "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?"
          + " ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER", source)) {
        String[] show = showCreateRow(c, "SHOW CREATE TRIGGER " + q(source) + "." + q(t[0]));
        createAs(c, show[1], null, asDefiner(show[2], account, false).replace(fromRef, toRef));
      }
      for (String[] e : names(c, "SELECT EVENT_NAME, EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME",
          source)) {
        String[] show = showCreateRow(c, "SHOW CREATE EVENT " + q(source) + "." + q(e[0]));
        createAs(c, show[1], show[2], asDefiner(show[3], account, false).replace(fromRef, toRef));
      }
    } finally {
      exec(c, "SET SESSION foreign_key_checks = 1");
      set(c, "sql_mode", sqlMode);
      set(c, "time_zone", timeZone);
    }
  }

  /** Views in passes, so that a view over another view is created after it, whatever their names. */
  private void createViews(Connection c, String source, List<String> views, String account, String fromRef, String toRef)
      throws SQLException {
    List<String> pending = new ArrayList<>(views);
    while (!pending.isEmpty()) {
      List<String> failed = new ArrayList<>();
      SQLException last = null;
      for (String v : pending) {
        String def = asDefiner(showCreate(c, "SHOW CREATE VIEW " + q(source) + "." + q(v), 2), account, true).replace(fromRef, toRef);
        try {
          exec(c, def);
        } catch (SQLException e) {
          failed.add(v);
          last = e;
        }
      }
      if (failed.size() == pending.size()) {
        throw last;
      }
      pending = failed;
    }
  }

  private static final String ACCOUNT_PART = "(?:`(?:[^`]|``)*`|'(?:[^'\\\\]|\\\\.|'')*'|[^\\s@`']+)";
  private static final Pattern HEADER = Pattern.compile("^(CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:ALGORITHM\\s*=\\s*\\w+\\s+)?)"
      + "(?:DEFINER\\s*=\\s*" + ACCOUNT_PART + "(?:@" + ACCOUNT_PART + ")?\\s+)?"
      + "(SQL\\s+SECURITY\\s+\\w+\\s+)?", Pattern.CASE_INSENSITIVE);

  /**
   * {@code create} (a {@code SHOW CREATE} of the server, so its header is the server's own) with
   * {@code DEFINER=account}, and for a view {@code SQL SECURITY INVOKER}.
   */
  static String asDefiner(String create, String account, boolean view) {
    Matcher m = HEADER.matcher(create);
    if (!m.lookingAt()) {
      throw new IllegalStateException("not a CREATE statement of the server: " + create.substring(0, Math.min(60, create.length())));
    }
    String head = m.group(1) + "DEFINER=" + account + " " + (view ? "SQL SECURITY INVOKER " : m.group(2) == null ? "" : m.group(2));
    return head + create.substring(m.end());
  }

  /** Runs {@code create} under the object's own sql_mode (and time zone, for events), as the server recorded them. */
  private static void createAs(Connection c, String sqlMode, String timeZone, String create) throws SQLException {
    set(c, "sql_mode", sqlMode);
    if (timeZone != null) {
      set(c, "time_zone", timeZone);
    }
    exec(c, create);
  }

  private static void set(Connection c, String variable, String value) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SET SESSION " + variable + " = ?")) {
      ps.setString(1, value);
      ps.execute();
    }
  }

  static List<String[]> names(Connection c, String sql, String arg) throws SQLException {
    List<String[]> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new String[] {rs.getString(1), rs.getString(2)});
        }
      }
    }
    return out;
  }

  /**
   * The database-level grant pattern that names {@code db} and nothing else: {@code _} and
   * {@code %} are wildcards there, so every one is escaped, whatever the length. The server keeps
   * patterns to 64 characters, escapes included; a name whose pattern would not fit is refused
   * (never granted unescaped, where {@code _} would let the preview create other databases that
   * match). Names this version generates always fit ({@link #dbName}).
   */
  static String grantPattern(String db) {
    String escaped = escape(db);
    if (escaped.length() > Names.MYSQL_MAX) {
      throw new ProviderException(NAME, "database " + db + " cannot be granted exactly: its grant pattern " + escaped
          + " has " + escaped.length() + " characters, the server keeps 64. It was named by an earlier version; drop that"
          + " preview (preview down) and create it again, which gives it a name that fits.", false);
    }
    return escaped;
  }

  private static String escape(String name) {
    return name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%");
  }

  private static String showCreate(Connection c, String sql, int column) throws SQLException {
    return showCreateRow(c, sql)[column - 1];
  }

  /** The first row of a {@code SHOW CREATE}, its columns from index 0. */
  private static String[] showCreateRow(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      String[] row = new String[rs.getMetaData().getColumnCount()];
      for (int i = 0; i < row.length; i++) {
        row[i] = rs.getString(i + 1);
      }
      return row;
    }
  }

  private DatabaseConnection connection(String db, String user, Secret pw) {
    String hostPort = appHost + ":" + appPort;
    String jdbc = "jdbc:" + scheme + "://" + hostPort + "/" + db;
    Map<String, String> env = new LinkedHashMap<>();
    env.put("MYSQL_HOST", appHost);
    env.put("MYSQL_PORT", Integer.toString(appPort));
    env.put("MYSQL_DATABASE", db);
    env.put("MYSQL_USER", user);
    env.put("JDBC_DATABASE_URL", jdbc);
    env.put("JDBC_DATABASE_USERNAME", user);
    Map<String, Secret> secrets = new LinkedHashMap<>();
    secrets.put("DATABASE_URL", Secret.of(scheme + "://" + user + ":" + pw.reveal() + "@" + hostPort + "/" + db));
    secrets.put("MYSQL_PASSWORD", pw);
    secrets.put("JDBC_DATABASE_PASSWORD", pw);
    return new DatabaseConnection(db, jdbc, user, pw, env, secrets);
  }

  /**
   * Fills the warm pool now (drops members of another baseline fingerprint, copies until
   * {@code pool.size} are ready) and returns how many are ready; 0 when the pool is off.
   * {@code create} refills in the background by itself: this is for start-up and for tests.
   */
  public int warmPool() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.refill();
    } catch (SQLException e) {
      throw failure("cannot fill the pool of " + baseline, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException(NAME, "interrupted while filling the pool of " + baseline, true, e);
    }
  }

  /** The pool, for tests; null when off. */
  MysqlPool pool() {
    return pool;
  }

  /** Pool members ready now (of the baseline as it is now); 0 when the pool is off. */
  public int poolReady() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.ready();
    } catch (SQLException e) {
      throw failure("cannot read the pool of " + baseline, e);
    }
  }

  /** Drops every member of this installation's pool; returns how many. */
  public int drainPool() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.drain();
    } catch (SQLException e) {
      throw failure("cannot drain the pool of " + baseline, e);
    }
  }

  /** Stops the pool's background refill (the pool's databases stay, for the next start). */
  @Override
  public void close() {
    if (pool != null) {
      pool.close();
    }
  }

  @Override
  public void drop(PreviewKey key) {
    String db = dbName(installation, key);
    try (Connection c = connect()) {
      ensureRegistry(c);
      Target t = target(c, key);
      db = t.db();
      String user = t.user();
      Optional<Row> row = t.row();
      if (row.isEmpty()) {
        if (schemaExists(c, db)) {
          throw new ProviderException(NAME, "database " + db + " is not registered to preview " + key + "; not dropping it", false);
        }
        return;
      }
      if (!row.get().isOf(installation, key)) {
        throw new ProviderException(NAME, "database " + db + " is registered to " + row.get().owner() + ", not to "
            + key + " of installation " + installation.instance() + "; not dropping it", false);
      }
      warnAboutWildcardLeftovers(c, db);
      killSessions(c, user);
      exec(c, "DROP DATABASE IF EXISTS " + q(db));
      exec(c, "DROP USER IF EXISTS " + account(user));
      update(c, "DELETE FROM " + q(registry) + ".previews WHERE db_name = ?", db);
      LOG.info("mysql: dropped database {} and user {} of {}", db, user, key);
    } catch (SQLException e) {
      throw failure("cannot drop the database of " + key + " (" + db + ")", e);
    }
  }

  /**
   * Earlier versions granted a name whose escaped pattern exceeded 64 characters unescaped, so its
   * preview could create other databases that the pattern matches: named here, for someone to
   * check and drop (they are not registered, so this provider does not drop them itself).
   */
  private void warnAboutWildcardLeftovers(Connection c, String db) throws SQLException {
    if (escape(db).length() <= Names.MYSQL_MAX) {
      return;
    }
    List<String> others = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? AND SCHEMA_NAME <> ?")) {
      ps.setString(1, db);
      ps.setString(2, db);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          others.add(rs.getString(1));
        }
      }
    }
    if (!others.isEmpty()) {
      LOG.warn("mysql: databases {} match the unescaped grant an earlier version gave the user of {}: the preview may have "
          + "created them; they are not registered and are left alone, check and drop them by hand", others, db);
    }
  }

  private static void killSessions(Connection c, String user) throws SQLException {
    List<Long> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?")) {
      ps.setString(1, user);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
        }
      }
    }
    for (long id : ids) {
      try {
        exec(c, "KILL " + id);
      } catch (SQLException gone) {
        // it ended on its own
      }
    }
  }

  @Override
  public List<PreviewKey> list() {
    TreeSet<PreviewKey> keys = new TreeSet<>();
    try (Connection c = connect()) {
      if (!schemaExists(c, registry)) {
        return List.of();
      }
      try (Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT mark FROM " + q(registry) + ".previews")) {
        while (rs.next()) {
          OwnerMark.owner(installation, rs.getString(1)).ifPresent(keys::add);
        }
      }
    } catch (SQLException e) {
      throw failure("cannot list databases", e);
    }
    return new ArrayList<>(keys);
  }

  /** A registry row; the instance is in its mark (a mark without one is the default installation's). */
  private record Row(String key, String mark, boolean ready) {
    boolean isOf(Installation installation, PreviewKey k) {
      return key.equals(k.id()) && OwnerMark.owner(installation, mark).map(k::equals).orElse(false);
    }

    String owner() {
      return "preview " + key + OwnerMark.instance(mark).map(i -> " of installation " + i).orElse("");
    }
  }

  private Optional<Row> row(Connection c, String db) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT preview_key, mark, ready FROM " + q(registry) + ".previews WHERE db_name = ?")) {
      ps.setString(1, db);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Row(rs.getString(1), rs.getString(2), rs.getBoolean(3))) : Optional.empty();
      }
    }
  }

  private void ensureRegistry(Connection c) throws SQLException {
    exec(c, "CREATE DATABASE IF NOT EXISTS " + q(registry) + " CHARACTER SET utf8mb4");
    exec(c, "CREATE TABLE IF NOT EXISTS " + q(registry) + ".previews ("
        + "db_name VARCHAR(64) NOT NULL PRIMARY KEY, user_name VARCHAR(32) NOT NULL, preview_key TEXT NOT NULL, "
        + "mark TEXT NOT NULL, ready BOOLEAN NOT NULL DEFAULT FALSE, created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
        + ") CHARACTER SET utf8mb4");
  }

  static boolean schemaExists(Connection c, String db) throws SQLException {
    return one(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db) != null;
  }

  static String one(Connection c, String sql, String... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  static void update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  static void exec(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private String account(String user) {
    return lit(user) + "@" + lit(userHost);
  }

  /** Backtick-quoted identifier (doubling is the escape in every sql_mode). */
  static String q(String identifier) {
    return "`" + identifier.replace("`", "``") + "`";
  }

  /**
   * A string literal of a value already restricted to letters, digits and {@code _.%:-} (so neither
   * quotes nor backslashes need escaping, whatever the sql_mode).
   */
  private static String lit(String value) {
    if (!SAFE_HOST.matcher(value).matches()) {
      throw new IllegalArgumentException("refusing to put \"" + value + "\" into SQL");
    }
    return "'" + value + "'";
  }

  static String safe(String name) {
    if (name == null || !SAFE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a safe MySQL name (letters, digits, _ and $, at most 64): \"" + name + "\"");
    }
    return name;
  }

  Connection connect() throws SQLException {
    Properties p = new Properties();
    if (username != null) {
      p.setProperty("user", username);
    }
    if (password != null) {
      p.setProperty("password", password.reveal());
    }
    return DriverManager.getConnection(adminUrl, p);
  }

  private static ProviderException failure(String what, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    boolean retryable = state.startsWith("08") || state.startsWith("40") || e.getErrorCode() == 1205 || e.getErrorCode() == 1213;
    String hint = switch (e.getErrorCode()) {
      case 1045 -> " (check database.username/password)";
      case 1044, 1227, 1410 -> " (the admin user needs CREATE, DROP, CREATE USER, GRANT OPTION and SET USER (MySQL: SET_USER_ID) on *.*)";
      default -> "";
    };
    return new ProviderException(NAME, what + ": " + e.getMessage() + hint, retryable, e);
  }

  @Override
  public String toString() {
    return "MysqlDatabaseProvider{" + appHost + ":" + appPort + (baseline == null ? "" : ", baseline=" + baseline) + "}";
  }

  /** Builds a provider; only {@link #url} is required. */
  public static final class Builder {
    private String url;
    private String username;
    private Secret password;
    private String baseline;
    private String registry = "preview_registry";
    private String userHost = "%";
    private int maxConnections = 10;
    private String appHost;
    private int appPort;
    private Installation installation = Installation.defaults();
    private int poolSize;

    private Builder() {}

    /**
     * Keeps {@code size} copies of the baseline's tables ready, handed out by {@code RENAME TABLE}
     * (0, the default: off). Needs a {@link #baseline}.
     */
    public Builder pool(int size) {
      this.poolSize = size;
      return this;
    }

    /**
     * The installation this provider belongs to (default {@link Installation#defaults()}): its
     * instance is recorded in every registry row's mark and is part of every generated name, and
     * {@link #list()} and {@link #drop} see only its databases.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** Admin connection: {@code jdbc:mariadb://host:3306/} or {@code jdbc:mysql://host:3306/}. */
    public Builder url(String url) {
      this.url = url;
      return this;
    }

    public Builder username(String username) {
      this.username = username;
      return this;
    }

    public Builder password(Secret password) {
      this.password = password;
      return this;
    }

    /** The database each preview's is copied from; null: empty databases. */
    public Builder baseline(String baseline) {
      this.baseline = baseline;
      return this;
    }

    /** The database holding the ownership registry (default {@code preview_registry}). */
    public Builder registry(String registry) {
      this.registry = registry;
      return this;
    }

    /** The host part of the previews' accounts (default {@code %}). */
    public Builder userHost(String userHost) {
      this.userHost = userHost;
      return this;
    }

    public Builder maxConnections(int maxConnections) {
      this.maxConnections = maxConnections;
      return this;
    }

    /** Host and port the apps use (default: the admin URL's). */
    public Builder appAddress(String host, int port) {
      this.appHost = host;
      this.appPort = port;
      return this;
    }

    public MysqlDatabaseProvider build() {
      List<String> problems = new ArrayList<>();
      String scheme = null;
      String rest = null;
      if (url == null) {
        problems.add("mysql: url is required");
      } else if (url.startsWith("jdbc:mariadb://") || url.startsWith("jdbc:mysql://")) {
        scheme = url.startsWith("jdbc:mariadb://") ? "mariadb" : "mysql";
        rest = url.substring(("jdbc:" + scheme + "://").length());
      } else {
        problems.add("mysql: url must start with jdbc:mariadb:// or jdbc:mysql://, got \"" + url + "\"");
      }
      if (baseline != null && !SAFE_NAME.matcher(baseline).matches()) {
        problems.add("mysql: baseline must be a database name of letters, digits, _ and $, got \"" + baseline + "\"");
      }
      if (!SAFE_NAME.matcher(registry).matches()) {
        problems.add("mysql: registry must be a database name of letters, digits, _ and $, got \"" + registry + "\"");
      }
      if (!SAFE_HOST.matcher(userHost).matches()) {
        problems.add("mysql: userHost must be a host pattern like % or 10.0.%, got \"" + userHost + "\"");
      }
      if (maxConnections < 1) {
        problems.add("mysql: maxConnections must be at least 1, got " + maxConnections);
      }
      if (poolSize < 0 || poolSize > 100) {
        problems.add("mysql: pool.size must be 0-100, got " + poolSize);
      } else if (poolSize > 0 && baseline == null) {
        problems.add("mysql: pool needs a baseline to copy (set baseline: <database>)");
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      LeakyLoggers.refuse("database", LEAKY_LOGGERS, LEAKY_LOGGERS_FIX);
      return new MysqlDatabaseProvider(this, scheme, rest);
    }
  }

  /** {@code database.provider: mysql}; see the module README for the keys. */
  public static final class Factory implements DatabaseProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public DatabaseProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      String url = config.requiredString("url");
      if (url != null && !url.startsWith("jdbc:mariadb://") && !url.startsWith("jdbc:mysql://")) {
        config.problem("url", "must start with jdbc:mariadb:// or jdbc:mysql://, got \"" + url + "\"");
      }
      Optional<String> user = config.string("username");
      Optional<Secret> pw = config.secret("password");
      Optional<String> base = config.string("baseline");
      base.filter(b -> !SAFE_NAME.matcher(b).matches())
          .ifPresent(b -> config.problem("baseline", "must be a database name of letters, digits, _ and $"));
      String registry = config.string("registry", "preview_registry");
      if (!SAFE_NAME.matcher(registry).matches()) {
        config.problem("registry", "must be a database name of letters, digits, _ and $");
      }
      String userHost = config.string("userHost", "%");
      if (!SAFE_HOST.matcher(userHost).matches()) {
        config.problem("userHost", "must be a host pattern like % or 10.0.%");
      }
      int max = config.integer("maxConnections", 10, 1, 100_000);
      Optional<String> host = config.string("host");
      int port = config.integer("port", 0, 0, 65535);
      int poolSize = 0;
      if (config.has("pool")) {
        ProviderConfig p = config.section("pool");
        poolSize = p.integer("size", 3, 0, 100);
        if (poolSize > 0 && base.isEmpty()) {
          config.problem("pool", "needs a baseline to copy: set baseline: <database>");
        }
      }
      config.validate();
      return builder().url(url).username(user.orElse(null)).password(pw.orElse(null)).baseline(base.orElse(null))
          .registry(registry).userHost(userHost).maxConnections(max).appAddress(host.orElse(null), port)
          .installation(context.installation()).pool(poolSize).build();
    }
  }
}
