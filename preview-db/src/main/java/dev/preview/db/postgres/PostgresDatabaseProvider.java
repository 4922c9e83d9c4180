package dev.preview.db.postgres;

import dev.preview.db.internal.BranchMigrationsDir;
import dev.preview.db.internal.OwnerMark;
import dev.preview.db.internal.Passwords;
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
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL database (mode {@code database}) or schema (mode {@code schema}) per preview, with its
 * own login role.
 *
 * <h2>What {@link #create} does</h2>
 * <ul>
 *   <li>A role named {@link Names#postgres(PreviewKey)} (in a named installation, a name that holds
 *       the instance: see {@link Names#postgres(dev.preview.spi.Installation, dev.preview.spi.PreviewKey)}), {@code LOGIN NOINHERIT}, no other attributes,
 *       {@code CONNECTION LIMIT} from config (so 20 previews with 20-connection pools cannot exhaust the
 *       server), with a fresh generated password (set through the driver's SCRAM helper, so the
 *       clear text never appears in SQL or server logs). An existing role gets a new password:
 *       passwords are never stored, so facts returned twice differ only in the password.</li>
 *   <li>Mode {@code database}: {@code CREATE DATABASE <name> TEMPLATE <baseline> [STRATEGY ..]
 *       ALLOW_CONNECTIONS false}, {@code REVOKE ALL .. FROM PUBLIC}, then (connections allowed again)
 *       every object cloned from the template is handed to the role, and last the database itself,
 *       with {@code CONNECT}: so no other role can connect, and the role only once the admin is done.</li>
 *   <li>Mode {@code schema}: one schema per preview in a shared database, created and cloned from a
 *       baseline schema (see {@link SchemaCloner}) in one transaction; the shared database loses
 *       PUBLIC's CONNECT and each preview role gets CONNECT and a default {@code search_path}.</li>
 *   <li>Ownership marks ({@code COMMENT ON ROLE/DATABASE/SCHEMA} with the key, the installation's
 *       instance and labels) make {@link #list()} work from the server alone, after any restart;
 *       it returns only this installation's keys (see {@link OwnerMark} for marks without instance).</li>
 *   <li>Optionally, Flyway migrations (config {@code migrations}, or {@link #migrate}) run on the clone,
 *       then the branch's own ones (config {@code branchMigrations}, a directory relative to
 *       {@link DatabaseSpec#buildContext()}), so the preview shows the branch's own schema. They log
 *       in as the preview's role, never as the admin.</li>
 * </ul>
 * {@link #drop} terminates the preview's sessions ({@code DROP DATABASE .. WITH (FORCE)} on 13+) and
 * drops the database or schema and the role. Objects that carry a mark for another key or another
 * installation, or that exist without any mark, are never adopted nor dropped.
 *
 * <h2>PR code is hostile</h2>
 * Every admin session runs with {@code search_path = pg_catalog, pg_temp} and calls
 * {@code pg_catalog.}-qualified functions; in mode database the admin enters a preview's database
 * only once, before the preview's role can connect to it; migrations log in as the preview's own
 * role and their failures never carry the server's text; mode schema's lock is a table only the
 * admin can lock. See the module README ("PR code is hostile") for what mode schema cannot isolate.
 *
 * <p>The admin user needs {@code CREATEDB} and {@code CREATEROLE} (or superuser); in mode schema it
 * must also own (or have {@code CREATE} on) the shared database. Thread-safe: every call opens its
 * own connections.
 */
public final class PostgresDatabaseProvider implements DatabaseProvider {
  /** {@code database.provider: postgres}. */
  public static final String NAME = "postgres";
  /** Label in our marks telling which mode (and shared database) a role or object belongs to. */
  static final String MODE_LABEL = "preview.dev/postgres";
  /** Mode schema: the admin's own schema in the shared database, holding {@link #LOCK_TABLE}. */
  static final String LOCK_SCHEMA = "preview_dev_admin";
  /** Mode schema: the table whose {@code LOCK TABLE} serialises the GRANTs on the shared database. */
  static final String LOCK_TABLE = "provision_lock";
  private static final Logger LOG = LoggerFactory.getLogger(PostgresDatabaseProvider.class);

  /** One database per preview, or one schema per preview in a shared database. */
  public enum Mode { DATABASE, SCHEMA }

  private final PgUrl admin;
  private final String username;
  private final Secret password;
  private final Mode mode;
  private final String baseline;
  private final String sharedDatabase;
  private final String strategy;
  private final int connectionLimit;
  private final String appHost;
  private final int appPort;
  private final List<String> migrations;
  private final String branchMigrations;
  private final Installation installation;
  /**
   * PostgreSQL JDBC driver loggers (java.util.logging) that print secrets (checked in 42.7.14's classes):
   * {@code QueryExecutorImpl} logs every message sent at FINEST ({@code FE=> SimpleQuery(query="ALTER USER ..
   * PASSWORD 'SCRAM-SHA-256$..'")}: the preview role's verifier, which lets a reader test guessed
   * passwords offline, and {@code Bind} parameter values); {@code ConnectionFactoryImpl} logs
   * {@code FE=> Password(md5digest=..)} at FINEST; {@code Driver} logs {@code Connecting with URL} at FINE,
   * the admin url, which may carry {@code password=}.
   */
  static final List<String> LEAKY_LOGGERS = List.of(
      "org.postgresql.core.v3.QueryExecutorImpl",
      "org.postgresql.core.v3.ConnectionFactoryImpl",
      "org.postgresql.Driver");

  static final String LEAKY_LOGGERS_FIX = "the PostgreSQL JDBC driver writes the statements and parameters sent (the"
      + " roles' password verifiers), md5 password digests and the admin url; set org.postgresql to INFO or above"
      + " (java.util.logging: org.postgresql.level=INFO;"
      + " through jul-to-slf4j, logback: <logger name=\"org.postgresql\" level=\"INFO\"/>)";

  /** The warm pool ({@code pool: {size: N}}), or null when off (the default). */
  private final PgPool pool;

  private PostgresDatabaseProvider(Builder b) {
    this.admin = PgUrl.parse(b.url);
    this.username = b.username;
    this.password = b.password;
    this.mode = b.mode;
    this.baseline = b.baseline;
    this.sharedDatabase = b.sharedDatabase != null ? b.sharedDatabase : admin.database();
    this.strategy = b.strategy;
    this.connectionLimit = b.connectionLimit;
    this.appHost = b.appHost != null ? b.appHost : admin.host();
    this.appPort = b.appPort > 0 ? b.appPort : admin.port();
    this.migrations = List.copyOf(b.migrations);
    this.branchMigrations = b.branchMigrations;
    this.installation = b.installation;
    this.pool = b.poolSize > 0 ? new PgPool(() -> connect(admin.database()), b.baseline, b.poolSize, b.strategy, b.installation) : null;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  public Mode mode() {
    return mode;
  }

  private String modeTag() {
    return mode == Mode.DATABASE ? "database" : "schema:" + sharedDatabase;
  }

  @Override
  public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
    Objects.requireNonNull(key, "key");
    DatabaseSpec s = spec == null ? DatabaseSpec.empty() : spec;
    if (mode == Mode.SCHEMA && s.fromFork()) {
      // Before anything exists: nothing to clean up.
      throw new ProviderException(NAME, key + " is a fork PR, and mode schema cannot keep its code apart from the"
          + " other previews: they share one database (" + sharedDatabase + "), whose LISTEN/NOTIFY channels and"
          + " advisory locks no grant can split, so a fork's code could read another preview's notifications or"
          + " block its migrations. Use mode: database (a database per preview), or keep fork PRs out"
          + " (policy.forks)", false);
    }
    String name = Names.postgres(installation, key);
    Map<String, String> labels = new LinkedHashMap<>(s.labels());
    labels.put(MODE_LABEL, modeTag());
    String mark = OwnerMark.encode(installation, key, labels);
    String source = s.baseline() != null ? s.baseline() : baseline;
    Secret pw = Passwords.generate();
    try {
      try (Connection c = connect(admin.database())) {
        boolean roleExisted = upsertRole(c, key, name, mark, pw);
        if (mode == Mode.DATABASE) {
          createDatabase(c, key, name, mark, source, roleExisted);
        }
      }
      if (mode == Mode.SCHEMA) {
        try (Connection c = connect(sharedDatabase)) {
          createSchema(c, key, name, mark, source);
        }
      }
      runMigrations(name, pw, migrations);
      Optional<Path> branch = BranchMigrationsDir.resolve(NAME, key, branchMigrations, s.buildContext());
      if (branch.isPresent()) {
        runMigrations(name, pw, List.of("filesystem:" + branch.get()));
      }
      return connection(name, pw);
    } catch (SQLException e) {
      throw failure("cannot create the database of " + key + " (" + name + ")", e);
    }
  }

  /** Creates or updates the role; returns whether it existed (with our mark) before this call. */
  private boolean upsertRole(Connection c, PreviewKey key, String role, String mark, Secret pw) throws SQLException {
    Optional<String> existing = roleComment(c, role);
    c.setAutoCommit(false);
    try {
      if (existing.isEmpty()) {
        // role and mark in one transaction: a role with our name never exists without its mark
        PgSql.ddl(c, "CREATE ROLE %I LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION CONNECTION LIMIT %s",
            role, connectionLimit);
      } else {
        requireOwner("role", role, existing.get(), key);
        PgSql.ddl(c, "ALTER ROLE %I CONNECTION LIMIT %s", role, connectionLimit);
      }
      PgSql.ddl(c, "COMMENT ON ROLE %I IS %L", role, mark);
      if (!isSuperuser(c)) {
        // a CREATEROLE admin (managed servers have no superuser) must be able to SET ROLE to hand objects
        // over (CREATE DATABASE .. OWNER, ALTER .. OWNER) and hold the role's privileges to drop what it
        // owns and end its sessions later (DROP DATABASE .. WITH (FORCE) checks ownership by inheritance)
        PgSql.ddl(c, PgSql.serverVersion(c) >= 160000 ? "GRANT %I TO CURRENT_USER WITH INHERIT TRUE, SET TRUE"
            : "GRANT %I TO CURRENT_USER", role);
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
    c.unwrap(PGConnection.class).alterUserPassword(role, pw.reveal().toCharArray(), "scram-sha-256");
    return existing.isPresent();
  }

  /**
   * Mode database. A new clone is created closed ({@code ALLOW_CONNECTIONS false}, then PUBLIC's rights
   * revoked) and owned by the admin; only then does the admin connect to it, once, to hand the
   * cloned objects to the role; last, the role becomes its owner and gets {@code CONNECT}. So the
   * admin's only session in a preview's database happens before the preview could ever log in to
   * it: on every later create (each push) the admin works from its own database only, and nothing
   * the preview planted (a schema named after the admin, a {@code format(varchar,..)} of its own,
   * {@code ALTER DATABASE .. SET search_path}) is ever run by it.
   */
  private void createDatabase(Connection c, PreviewKey key, String name, String mark, String template,
      boolean roleExisted) throws SQLException {
    Optional<Optional<String>> db = databaseComment(c, name);
    if (db.isEmpty()) {
      if (pool != null && pool.baseline().equals(template) && pool.take(c, name, mark).isPresent()) {
        // a warm clone of the baseline, renamed to the preview's name with its mark (one transaction);
        // it is handed over below exactly as a fresh clone would be
        handOver(c, name, mark);
        return;
      }
      StringBuilder sql = new StringBuilder("CREATE DATABASE %I");
      List<Object> args = new ArrayList<>(List.of(name));
      if (template != null) {
        sql.append(" TEMPLATE %I");
        args.add(template);
      }
      if (strategy != null && PgSql.serverVersion(c) >= 150000) {
        sql.append(" STRATEGY ").append(strategy); // validated: wal_log or file_copy
      }
      sql.append(" ALLOW_CONNECTIONS false");
      long t0 = System.nanoTime();
      PgSql.ddl(c, sql.toString(), args.toArray());
      LOG.info("postgres: created database {} for {} from {} in {} ms", name, key,
          template == null ? "the default template" : template, (System.nanoTime() - t0) / 1_000_000);
    } else if (db.get().isPresent()) {
      requireOwner("database", name, db.get().get(), key);
    } else if (!roleExisted) {
      // no mark and no earlier role of ours: somebody else's database that happens to have our name
      requireOwner("database", name, "", key);
    }
    // else: created by an earlier call that died before its comment; the role (marked in the same
    // transaction as its creation, before the database) proves it is ours, so finish the job
    handOver(c, name, mark);
  }

  /** The handover of a clone that the role does not own yet (a fresh one, a pool member, one an earlier call left). */
  private void handOver(Connection c, String name, String mark) throws SQLException {
    if (!PgSql.exists(c, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = ? AND datdba = "
        + "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ?)", name, name)) {
      // not handed over yet: the role has never had CONNECT on it (it comes with the ownership, below)
      PgSql.ddl(c, "REVOKE ALL ON DATABASE %I FROM PUBLIC", name);
      PgSql.ddl(c, "COMMENT ON DATABASE %I IS %L", name, mark);
      PgSql.ddl(c, "ALTER DATABASE %I WITH ALLOW_CONNECTIONS true", name);
      try (Connection d = connect(name)) {
        PgSql.transferOwnership(d, name, null);
      }
      PgSql.ddl(c, "ALTER DATABASE %I OWNER TO %I", name, name);
    }
    PgSql.ddl(c, "REVOKE ALL ON DATABASE %I FROM PUBLIC", name);
    PgSql.ddl(c, "GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I", name, name);
    PgSql.ddl(c, "COMMENT ON DATABASE %I IS %L", name, mark);
  }

  /**
   * Mode schema. Concurrent GRANTs on the shared database's row fail with "tuple concurrently
   * updated", so they are serialised by {@code LOCK TABLE} of {@link #LOCK_TABLE}, a table of the
   * admin's own schema that no preview has any right on: a preview cannot take that lock (an advisory
   * lock could be, with a guessable key, by any role connected to the database) and so cannot block
   * another's provisioning. The schema is created, cloned and handed to the role in one transaction;
   * later creates never run an admin statement inside it.
   */
  private void createSchema(Connection c, PreviewKey key, String name, String mark, String base) throws SQLException {
    ensureLockTable(c);
    c.setAutoCommit(false);
    try {
      PgSql.ddl(c, "LOCK TABLE %I.%I IN EXCLUSIVE MODE", LOCK_SCHEMA, LOCK_TABLE);
      PgSql.ddl(c, "REVOKE ALL ON DATABASE %I FROM PUBLIC", sharedDatabase);
      PgSql.ddl(c, "GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I", sharedDatabase, name);
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
    Optional<Optional<String>> existing = schemaComment(c, name);
    if (existing.isPresent()) {
      requireOwner("schema", name, existing.get().orElse(""), key);
    } else {
      c.setAutoCommit(false);
      try {
        long t0 = System.nanoTime();
        PgSql.ddl(c, "CREATE SCHEMA %I AUTHORIZATION %I", name, name);
        PgSql.ddl(c, "COMMENT ON SCHEMA %I IS %L", name, mark);
        PgSql.ddl(c, "REVOKE ALL ON SCHEMA %I FROM PUBLIC", name);
        if (base != null) {
          new SchemaCloner(c, base, name).run();
        }
        PgSql.transferOwnership(c, name, name);
        c.commit();
        LOG.info("postgres: created schema {} in {} for {} from {} in {} ms", name, sharedDatabase, key,
            base == null ? "nothing" : base, (System.nanoTime() - t0) / 1_000_000);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
    PgSql.ddl(c, "COMMENT ON SCHEMA %I IS %L", name, mark);
    PgSql.ddl(c, "ALTER ROLE %I IN DATABASE %I SET search_path TO %I", name, sharedDatabase, name);
  }

  /**
   * The admin-only schema {@link #LOCK_SCHEMA} with the table {@link #LOCK_TABLE}, made on first use.
   * An existing one must be the admin's (previews cannot create schemas in the shared database;
   * someone with {@code CREATE} on it could).
   */
  private void ensureLockTable(Connection c) throws SQLException {
    for (int attempt = 0; ; attempt++) {
      Optional<String> owner = PgSql.one(c, "SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = ?",
          LOCK_SCHEMA);
      String me = PgSql.one(c, "SELECT CAST(current_user AS pg_catalog.text)").orElseThrow();
      if (owner.isPresent() && !owner.get().equals(me)) {
        throw new ProviderException(NAME, "schema " + LOCK_SCHEMA + " in database " + sharedDatabase + " belongs to " + owner.get()
            + ", not to the admin " + me + "; it holds the provider's lock and must be the admin's alone."
            + " Drop it, or let its owner run the provider", false);
      }
      if (owner.isPresent() && PgSql.exists(c, "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
          + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind = 'r' AND pg_catalog.pg_get_userbyid(c.relowner) = ?",
          LOCK_SCHEMA, LOCK_TABLE, me)) {
        return;
      }
      try {
        c.setAutoCommit(false);
        PgSql.ddl(c, "CREATE SCHEMA IF NOT EXISTS %I", LOCK_SCHEMA);
        PgSql.ddl(c, "REVOKE ALL ON SCHEMA %I FROM PUBLIC", LOCK_SCHEMA);
        PgSql.ddl(c, "CREATE TABLE IF NOT EXISTS %I.%I ()", LOCK_SCHEMA, LOCK_TABLE);
        PgSql.ddl(c, "REVOKE ALL ON TABLE %I.%I FROM PUBLIC", LOCK_SCHEMA, LOCK_TABLE);
        PgSql.ddl(c, "COMMENT ON SCHEMA %I IS %L", LOCK_SCHEMA, "preview.dev: the postgres provider's lock (admin only)");
        c.commit();
        return;
      } catch (SQLException e) {
        c.rollback();
        // two creates making it at once: one wins, the other sees a unique violation and looks again
        if (!"23505".equals(e.getSQLState()) || attempt > 2) {
          throw e;
        }
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  /**
   * Runs Flyway migrations from {@code locations} (e.g. {@code filesystem:/checkout/src/main/resources/db/migration},
   * the branch's own) on the database or schema of {@code key}, logged in as the preview's own role
   * with the credentials {@code db} that {@link #create} returned (never as the admin: migrations are
   * the PR's code). Migrations already applied in the baseline are skipped; the baseline's migrations
   * that the branch does not have are ignored, and the branch's older-numbered ones run out of order.
   *
   * @return the number of migrations applied
   * @throws ProviderException naming the failed migration's file, SQL state and line, never the
   *     server's error text (a migration can put anything there, e.g. with {@code RAISE})
   */
  public int migrate(PreviewKey key, DatabaseConnection db, List<String> locations) {
    String name = Names.postgres(installation, key);
    Objects.requireNonNull(db, "db");
    if (!name.equals(db.username())) {
      throw new IllegalArgumentException("the connection is " + db.username() + "'s, not " + key + "'s (" + name + ")");
    }
    return runMigrations(name, db.password(), locations);
  }

  private int runMigrations(String name, Secret rolePassword, List<String> locations) {
    if (locations.isEmpty()) {
      return 0;
    }
    String db = mode == Mode.DATABASE ? name : sharedDatabase;
    var conf = Flyway.configure()
        .dataSource(admin.withDatabase(db), name, rolePassword.reveal())
        .locations(locations.toArray(String[]::new))
        .outOfOrder(true)
        .ignoreMigrationPatterns("*:missing", "*:future")
        .cleanDisabled(true);
    if (mode == Mode.SCHEMA) {
      conf.schemas(name).defaultSchema(name).createSchemas(false);
    }
    MigrateResult r;
    try {
      r = conf.load().migrate();
    } catch (RuntimeException e) {
      String reason = MigrationFailure.describe(e);
      LOG.warn("postgres: migrations from {} failed on {}: {}", locations, name, reason);
      throw new ProviderException(NAME, "migrations from " + locations + " failed on " + name + ": " + reason, false);
    }
    LOG.info("postgres: applied {} migration(s) from {} to {} as {}", r.migrationsExecuted, locations, name, name);
    return r.migrationsExecuted;
  }

  private DatabaseConnection connection(String name, Secret pw) {
    String db = mode == Mode.DATABASE ? name : sharedDatabase;
    String hostPort = appHost + ":" + appPort;
    String jdbc = PgUrl.PREFIX + hostPort + "/" + db + (mode == Mode.SCHEMA ? "?currentSchema=" + name : "");
    String url = "postgresql://" + name + ":" + pw.reveal() + "@" + hostPort + "/" + db
        + (mode == Mode.SCHEMA ? "?options=" + URLEncoder.encode("-c search_path=" + name, StandardCharsets.UTF_8) : "");
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PGHOST", appHost);
    env.put("PGPORT", Integer.toString(appPort));
    env.put("PGDATABASE", db);
    env.put("PGUSER", name);
    env.put("JDBC_DATABASE_URL", jdbc);
    env.put("JDBC_DATABASE_USERNAME", name);
    if (mode == Mode.SCHEMA) {
      env.put("DATABASE_SCHEMA", name);
    }
    Map<String, Secret> secrets = new LinkedHashMap<>();
    secrets.put("DATABASE_URL", Secret.of(url));
    secrets.put("PGPASSWORD", pw);
    secrets.put("JDBC_DATABASE_PASSWORD", pw);
    return new DatabaseConnection(name, jdbc, name, pw, env, secrets);
  }

  /**
   * Fills the warm pool now (drops members of an older baseline, clones until {@code pool.size} are
   * ready) and returns how many are ready; 0 when the pool is off. {@code create} refills in the
   * background by itself: this is for start-up and for tests.
   */
  public int warmPool() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.refill();
    } catch (SQLException e) {
      throw failure("cannot fill the pool of " + baseline, e);
    }
  }

  /** The pool, for tests; null when off. */
  PgPool pool() {
    return pool;
  }

  /** Pool members ready now (of the current baseline); 0 when the pool is off. */
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
    String name = Names.postgres(installation, key);
    try (Connection c = connect(admin.database())) {
      Optional<String> role = roleComment(c, name);
      boolean roleOurs = role.isPresent() && isOwner(role.get(), key);
      if (role.isPresent() && !roleOurs) {
        throw new ProviderException(NAME, "role " + name + " is not marked as preview " + key
            + "'s; not dropping anything (check COMMENT ON ROLE)", false);
      }
      if (mode == Mode.DATABASE) {
        Optional<Optional<String>> db = databaseComment(c, name);
        if (db.isPresent()) {
          boolean ours = db.get().map(m -> isOwner(m, key)).orElse(roleOurs);
          if (!ours) {
            throw new ProviderException(NAME, "database " + name + " is not marked as preview " + key + "'s; not dropping it", false);
          }
          if (PgSql.serverVersion(c) >= 130000) {
            PgSql.ddl(c, "DROP DATABASE IF EXISTS %I WITH (FORCE)", name);
          } else {
            PgSql.column(c, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = ?", name);
            PgSql.ddl(c, "DROP DATABASE IF EXISTS %I", name);
          }
          LOG.info("postgres: dropped database {} of {}", name, key);
        }
      } else {
        try (Connection s = connect(sharedDatabase)) {
          Optional<Optional<String>> schema = schemaComment(s, name);
          if (schema.isPresent()) {
            if (!schema.get().map(m -> isOwner(m, key)).orElse(false)) {
              throw new ProviderException(NAME, "schema " + name + " is not marked as preview " + key + "'s; not dropping it", false);
            }
            PgSql.column(s, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE usename = ?", name);
            PgSql.ddl(s, "DROP SCHEMA IF EXISTS %I CASCADE", name);
            LOG.info("postgres: dropped schema {} of {}", name, key);
          }
          if (roleOurs) {
            PgSql.ddl(s, "DROP OWNED BY %I", name); // its grants on the shared database
          }
        }
      }
      if (roleOurs) {
        PgSql.column(c, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE usename = ?", name);
        PgSql.ddl(c, "DROP ROLE IF EXISTS %I", name);
      }
    } catch (SQLException e) {
      throw failure("cannot drop the database of " + key + " (" + name + ")", e);
    }
  }

  /**
   * The keys whose role, database or schema carries this installation's mark. A mark counts only on
   * the object named after its own key: a preview owns its database (or schema) and can rewrite that
   * comment, so a mark claiming another key on it is ignored (a role's comment only the admin can write).
   */
  @Override
  public List<PreviewKey> list() {
    TreeSet<PreviewKey> keys = new TreeSet<>();
    try (Connection c = connect(admin.database())) {
      List<String[]> marks = new ArrayList<>(PgSql.pairs(c,
          "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE ?",
          OwnerMark.PREFIX + "%"));
      if (mode == Mode.DATABASE) {
        marks.addAll(PgSql.pairs(c,
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE ?",
            OwnerMark.PREFIX + "%"));
      } else {
        try (Connection s = connect(sharedDatabase)) {
          marks.addAll(PgSql.pairs(s,
              "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE obj_description(oid, 'pg_namespace') LIKE ?",
              OwnerMark.PREFIX + "%"));
        }
      }
      for (String[] m : marks) {
        OwnerMark.labels(m[1]).filter(l -> modeTag().equals(l.get(MODE_LABEL)) && OwnerMark.ownedBy(installation, l))
            .flatMap(dev.preview.spi.Labels::key)
            .filter(k -> Names.postgres(installation, k).equals(m[0]))
            .ifPresent(keys::add);
      }
    } catch (SQLException e) {
      throw failure("cannot list databases", e);
    }
    return new ArrayList<>(keys);
  }

  private void requireOwner(String what, String name, String mark, PreviewKey key) {
    if (!isOwner(mark, key)) {
      Optional<PreviewKey> other = OwnerMark.key(mark);
      String instance = OwnerMark.instance(mark).orElse(installation.instance());
      throw new ProviderException(NAME, what + " " + name + " already exists and "
          + (other.isPresent() ? "belongs to preview " + other.get()
              + (instance.equals(installation.instance()) ? "" : " of installation " + instance)
              : "is not managed by preview")
          + "; refusing to adopt it for " + key + ". Drop or rename it by hand.", false);
    }
  }

  /** Whether {@code mark} is {@code key}'s in this installation (a mark without instance: see {@link OwnerMark}). */
  private boolean isOwner(String mark, PreviewKey key) {
    return OwnerMark.owner(installation, mark).map(key::equals).orElse(false);
  }

  /** The role's comment ("" if none), or empty if the role does not exist. */
  private static Optional<String> roleComment(Connection c, String role) throws SQLException {
    List<String> r = PgSql.column(c, "SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = ?", role);
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
  }

  private static Optional<Optional<String>> databaseComment(Connection c, String db) throws SQLException {
    List<String> r = PgSql.column(c, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ?", db);
    return r.isEmpty() ? Optional.empty() : Optional.of(Optional.ofNullable(r.get(0)));
  }

  private static Optional<Optional<String>> schemaComment(Connection c, String schema) throws SQLException {
    List<String> r = PgSql.column(c, "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = ?", schema);
    return r.isEmpty() ? Optional.empty() : Optional.of(Optional.ofNullable(r.get(0)));
  }

  private static boolean isSuperuser(Connection c) throws SQLException {
    return PgSql.exists(c, "SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper");
  }

  /** An admin connection, its search path pinned to {@link PgSql#SAFE_SEARCH_PATH}. */
  Connection connect(String database) throws SQLException {
    Properties p = new Properties();
    PgSql.pinSearchPath(p);
    if (username != null) {
      p.setProperty("user", username);
    }
    if (password != null) {
      p.setProperty("password", password.reveal());
    }
    p.setProperty("ApplicationName", "preview");
    return PgSql.pinned(DriverManager.getConnection(admin.withDatabase(database), p));
  }

  private static ProviderException failure(String what, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    // class 08 = connection problems, 40 = serialization/deadlock, 55006 = template in use, 53 = resources
    boolean retryable = state.startsWith("08") || state.startsWith("40") || state.startsWith("53") || state.equals("55006");
    String hint = switch (state) {
      case "28P01", "28000" -> " (check database.username/password)";
      case "42501" -> " (the admin user needs CREATEDB and CREATEROLE, or superuser; in mode schema it must also own,"
          + " or have CREATE on, the shared database)";
      case "3D000" -> " (does the baseline/template database exist? build it with PostgresBaseline)";
      case "55006" -> " (someone is connected to the template database; templates must have no sessions)";
      default -> "";
    };
    return new ProviderException(NAME, what + ": " + e.getMessage() + hint, retryable, e);
  }

  @Override
  public String toString() {
    return "PostgresDatabaseProvider{" + admin.hosts() + ", mode=" + mode.name().toLowerCase(Locale.ROOT)
        + (baseline == null ? "" : ", baseline=" + baseline) + "}";
  }

  /** Builds a provider; only {@link #url} is required. */
  public static final class Builder {
    private String url;
    private String username;
    private Secret password;
    private Mode mode = Mode.DATABASE;
    private String baseline;
    private String sharedDatabase;
    private String strategy;
    private int connectionLimit = 10;
    private String appHost;
    private int appPort;
    private List<String> migrations = List.of();
    private String branchMigrations;
    private Installation installation = Installation.defaults();
    private int poolSize;

    private Builder() {}

    /**
     * Keeps {@code size} clones of the baseline ready (mode database; 0, the default, turns it off):
     * {@code create} renames one instead of cloning, and a background thread clones the next.
     */
    public Builder pool(int size) {
      this.poolSize = size;
      return this;
    }

    /**
     * The installation this provider belongs to (default {@link Installation#defaults()}): its
     * instance is recorded in every mark and is part of every generated name, and {@link #list()}
     * and {@link #drop} see only its objects.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** The admin connection, e.g. {@code jdbc:postgresql://db:5432/postgres}. */
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

    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** The template database (mode database) or schema (mode schema) to clone; null: empty. */
    public Builder baseline(String baseline) {
      this.baseline = baseline;
      return this;
    }

    /** Mode schema: the database holding the previews' schemas (default: the URL's database). */
    public Builder sharedDatabase(String sharedDatabase) {
      this.sharedDatabase = sharedDatabase;
      return this;
    }

    /** {@code wal_log} or {@code file_copy} (PostgreSQL 15+; ignored before); null: server default. */
    public Builder strategy(String strategy) {
      this.strategy = strategy == null ? null : strategy.toLowerCase(Locale.ROOT);
      return this;
    }

    public Builder connectionLimit(int connectionLimit) {
      this.connectionLimit = connectionLimit;
      return this;
    }

    /** Host and port the apps use (default: the admin URL's), e.g. a Docker network alias. */
    public Builder appAddress(String host, int port) {
      this.appHost = host;
      this.appPort = port;
      return this;
    }

    /** Flyway locations to apply after every create (e.g. the branch's migrations). */
    public Builder migrations(List<String> migrations) {
      this.migrations = List.copyOf(migrations);
      return this;
    }

    /**
     * The branch's migrations directory, relative to {@link DatabaseSpec#buildContext()} (e.g.
     * {@code src/main/resources/db/migration}): after cloning, the migrations found there that the
     * baseline lacks are applied, so the preview shows the branch's own schema. Nothing happens for a
     * spec without a build context. Null (the default): no branch migrations.
     */
    public Builder branchMigrations(String directory) {
      this.branchMigrations = directory;
      return this;
    }

    public PostgresDatabaseProvider build() {
      List<String> problems = new ArrayList<>();
      if (url == null) {
        problems.add("postgres: url is required");
      } else {
        try {
          PgUrl.parse(url);
        } catch (IllegalArgumentException e) {
          problems.add("postgres: url " + e.getMessage());
        }
      }
      if (strategy != null && !strategy.equals("wal_log") && !strategy.equals("file_copy")) {
        problems.add("postgres: strategy must be wal_log or file_copy, got \"" + strategy + "\"");
      }
      if (connectionLimit < 1) {
        problems.add("postgres: connectionLimit must be at least 1, got " + connectionLimit);
      }
      if (branchMigrations != null && branchMigrations.isBlank()) {
        problems.add("postgres: branchMigrations must not be empty");
      }
      if (poolSize < 0 || poolSize > 100) {
        problems.add("postgres: pool.size must be 0-100, got " + poolSize);
      } else if (poolSize > 0 && mode != Mode.DATABASE) {
        problems.add("postgres: pool only applies to mode: database (schema mode clones in one transaction, no pool)");
      } else if (poolSize > 0 && baseline == null) {
        problems.add("postgres: pool needs a baseline to clone (set baseline: <template database>)");
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      LeakyLoggers.refuse("database", LEAKY_LOGGERS, LEAKY_LOGGERS_FIX);
      if (mode == Mode.SCHEMA) {
        LOG.warn("postgres: mode schema: the previews share one database, so they share its LISTEN/NOTIFY channels and"
            + " advisory locks (no grant can split them): a preview can listen to and notify another's channels and hold"
            + " its advisory lock keys. Fork PRs are refused a database in this mode; use mode database for PR code"
            + " you do not trust");
      }
      return new PostgresDatabaseProvider(this);
    }
  }

  /** {@code database.provider: postgres}; see the module README for the keys. */
  public static final class Factory implements DatabaseProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public DatabaseProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider", "build"); // build: read by PostgresBaseline.fromConfig
      String url = config.requiredString("url");
      if (url != null) {
        try {
          PgUrl.parse(url);
        } catch (IllegalArgumentException e) {
          config.problem("url", e.getMessage());
        }
      }
      Optional<String> user = config.string("username");
      Optional<Secret> pw = config.secret("password");
      String mode = config.choice("mode", "database", "database", "schema");
      Optional<String> base = config.string("baseline");
      Optional<String> shared = config.string("database");
      Optional<String> strategy = config.string("strategy");
      strategy.ifPresent(st -> {
        if (!st.equalsIgnoreCase("wal_log") && !st.equalsIgnoreCase("file_copy")) {
          config.problem("strategy", "must be wal_log or file_copy, got \"" + st + "\"");
        }
      });
      int limit = config.integer("connectionLimit", 10, 1, 10_000);
      Optional<String> host = config.string("host");
      int port = config.integer("port", 0, 0, 65535);
      List<String> migrations = config.strings("migrations");
      Optional<String> branch = config.string("branchMigrations");
      branch.filter(String::isBlank).ifPresent(b -> config.problem("branchMigrations", "must not be empty"));
      if (mode.equals("database") && shared.isPresent()) {
        config.problem("database", "only applies to mode: schema");
      }
      int poolSize = 0;
      if (config.has("pool")) {
        ProviderConfig p = config.section("pool");
        poolSize = p.integer("size", 3, 0, 100);
        if (poolSize > 0 && mode.equals("schema")) {
          config.problem("pool", "only applies to mode: database; remove it, or use mode: database");
        }
        if (poolSize > 0 && base.isEmpty()) {
          config.problem("pool", "needs a baseline to clone: set baseline: <template database>");
        }
      }
      config.validate();
      return builder().url(url).username(user.orElse(null)).password(pw.orElse(null))
          .mode(mode.equals("schema") ? Mode.SCHEMA : Mode.DATABASE).baseline(base.orElse(null))
          .sharedDatabase(shared.orElse(null)).strategy(strategy.orElse(null)).connectionLimit(limit)
          .appAddress(host.orElse(null), port).migrations(migrations).branchMigrations(branch.orElse(null))
          .installation(context.installation()).pool(poolSize).build();
    }
  }
}
