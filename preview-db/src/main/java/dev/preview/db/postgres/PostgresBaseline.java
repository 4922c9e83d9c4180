package dev.preview.db.postgres;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.LeakyLoggers;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds or refreshes the baseline that {@link PostgresDatabaseProvider} clones: Flyway migrations,
 * then seed SQL files, into a fresh {@code <name>_next}, which then replaces {@code <name>} (so the
 * previews keep cloning the old baseline until the new one is complete, and a failed build leaves
 * the old one in place).
 *
 * <ul>
 *   <li>{@link #database(String)}: a template database, marked {@code IS_TEMPLATE true,
 *       ALLOW_CONNECTIONS false} (nobody can connect to it, which {@code CREATE DATABASE .. TEMPLATE}
 *       requires) and {@code REVOKE ALL .. FROM PUBLIC}.</li>
 *   <li>{@link #schema(String)}: a schema in the admin URL's database, {@code REVOKE ALL .. FROM PUBLIC}.</li>
 * </ul>
 *
 * <pre>{@code
 * PostgresBaseline.Result r = PostgresBaseline.builder()
 *     .url("jdbc:postgresql://db:5432/postgres").username("admin").password(Secret.of(pw))
 *     .database("shop_baseline")
 *     .migrations(List.of("filesystem:src/main/resources/db/migration"))
 *     .seed(List.of(Path.of("db/seed.sql")))
 *     .build()
 *     .refresh();
 * }</pre>
 *
 * Not meant to run concurrently with itself for the same name.
 */
public final class PostgresBaseline {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresBaseline.class);
  private static final String NEXT = "_next";

  private final PgUrl admin;
  private final String username;
  private final Secret password;
  private final String database;
  private final String schema;
  private final List<String> migrations;
  private final List<Path> seed;

  private PostgresBaseline(Builder b) {
    this.admin = PgUrl.parse(b.url);
    this.username = b.username;
    this.password = b.password;
    this.database = b.database;
    this.schema = b.schema;
    this.migrations = List.copyOf(b.migrations);
    this.seed = List.copyOf(b.seed);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The builder for the baseline that a provider configured by {@code config} (the {@code database}
   * section of {@code preview.yaml}) clones: same {@code url}, {@code username}, {@code password},
   * {@code mode}, {@code baseline}, {@code database}, plus {@code build.migrations} (Flyway locations)
   * and {@code build.seed} (SQL files). Validates the section like the provider does.
   */
  public static PostgresBaseline fromConfig(ProviderConfig config) {
    config.ignore("provider", "connectionLimit", "strategy", "host", "port", "migrations", "branchMigrations");
    String url = config.requiredString("url");
    Optional<String> user = config.string("username");
    Optional<Secret> pw = config.secret("password");
    String mode = config.choice("mode", "database", "database", "schema");
    String base = config.requiredString("baseline");
    Optional<String> shared = config.string("database");
    ProviderConfig build = config.section("build");
    List<String> migrations = build.strings("migrations");
    List<String> seed = build.strings("seed");
    config.validate();
    String adminUrl = shared.map(s -> PgUrl.parse(url).withDatabase(s)).orElse(url);
    Builder b = builder().url(adminUrl).username(user.orElse(null)).password(pw.orElse(null))
        .migrations(migrations).seed(seed.stream().map(Path::of).toList());
    return (mode.equals("schema") ? b.schema(base) : b.database(base)).build();
  }

  /** What a refresh did. */
  public record Result(String name, int migrationsApplied, int seedFiles, long sizeBytes, Duration took) {}

  /** Builds the baseline anew and swaps it in. Idempotent; leftovers of a failed run are removed first. */
  public Result refresh() {
    Instant t0 = Instant.now();
    try {
      Result r = database != null ? refreshDatabase(t0) : refreshSchema(t0);
      LOG.info("postgres baseline {}: {} migration(s), {} seed file(s), {} bytes, in {} ms", r.name(),
          r.migrationsApplied(), r.seedFiles(), r.sizeBytes(), r.took().toMillis());
      return r;
    } catch (SQLException e) {
      throw new ProviderException(PostgresDatabaseProvider.NAME, "cannot build baseline "
          + (database != null ? "database " + database : "schema " + schema) + ": " + e.getMessage(), false, e);
    }
  }

  private Result refreshDatabase(Instant t0) throws SQLException {
    String next = database + NEXT;
    int applied;
    try (Connection c = connect(admin.database())) {
      dropDatabase(c, next);
      PgSql.ddl(c, "CREATE DATABASE %I TEMPLATE template0", next);
      PgSql.ddl(c, "REVOKE ALL ON DATABASE %I FROM PUBLIC", next);
      applied = migrate(admin.withDatabase(next), null);
      try (Connection n = connect(next)) {
        // the operator's seed, in a database only the admin can reach yet: PostgreSQL's usual path
        PgSql.ddl(n, "SET search_path TO \"$user\", public");
        runSeed(n);
      }
      dropDatabase(c, database);
      PgSql.ddl(c, "ALTER DATABASE %I RENAME TO %I", next, database);
      PgSql.ddl(c, "ALTER DATABASE %I WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", database);
      PgSql.ddl(c, "COMMENT ON DATABASE %I IS %L", database, "preview baseline, built " + Instant.now());
      long size = Long.parseLong(PgSql.one(c, "SELECT pg_database_size(?)::text", database).orElse("0"));
      return new Result(database, applied, seed.size(), size, Duration.between(t0, Instant.now()));
    }
  }

  private Result refreshSchema(Instant t0) throws SQLException {
    String next = schema + NEXT;
    int applied;
    try (Connection c = connect(admin.database())) {
      PgSql.ddl(c, "DROP SCHEMA IF EXISTS %I CASCADE", next);
      PgSql.ddl(c, "CREATE SCHEMA %I", next);
      applied = migrate(admin.withDatabase(admin.database()), next);
      PgSql.ddl(c, "SET search_path TO %I", next);
      runSeed(c);
      PgSql.ddl(c, "SET search_path TO " + PgSql.SAFE_SEARCH_PATH);
      c.setAutoCommit(false);
      PgSql.ddl(c, "DROP SCHEMA IF EXISTS %I CASCADE", schema);
      PgSql.ddl(c, "ALTER SCHEMA %I RENAME TO %I", next, schema);
      PgSql.ddl(c, "REVOKE ALL ON SCHEMA %I FROM PUBLIC", schema);
      PgSql.ddl(c, "COMMENT ON SCHEMA %I IS %L", schema, "preview baseline, built " + Instant.now());
      c.commit();
      c.setAutoCommit(true);
      long size = Long.parseLong(PgSql.one(c, """
          SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind IN ('r','m')""", schema)
          .orElse("0"));
      return new Result(schema, applied, seed.size(), size, Duration.between(t0, Instant.now()));
    }
  }

  private void dropDatabase(Connection c, String name) throws SQLException {
    if (PgSql.exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", name)) {
      PgSql.ddl(c, "ALTER DATABASE %I WITH IS_TEMPLATE false", name);
      PgSql.ddl(c, PgSql.serverVersion(c) >= 130000 ? "DROP DATABASE %I WITH (FORCE)" : "DROP DATABASE %I", name);
    }
  }

  private int migrate(String url, String inSchema) {
    if (migrations.isEmpty()) {
      return 0;
    }
    var conf = Flyway.configure().dataSource(url, username, password == null ? null : password.reveal())
        .locations(migrations.toArray(String[]::new)).cleanDisabled(true);
    if (inSchema != null) {
      conf.schemas(inSchema).defaultSchema(inSchema).createSchemas(false);
    }
    try {
      return conf.load().migrate().migrationsExecuted;
    } catch (RuntimeException e) {
      // FlywayException and friends: say which baseline and which locations, as a provider error
      throw new ProviderException(PostgresDatabaseProvider.NAME, "migrations from " + migrations + " failed while building baseline "
          + (database != null ? "database " + database : "schema " + schema) + ": " + e.getMessage(), false, e);
    }
  }

  private void runSeed(Connection c) throws SQLException {
    for (Path file : seed) {
      String sql;
      try {
        sql = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new ProviderException(PostgresDatabaseProvider.NAME, "cannot read seed file " + file + ": " + e, false, e);
      }
      try (Statement st = c.createStatement()) {
        st.execute(sql); // the driver splits statements itself, dollar quotes included
      } catch (SQLException e) {
        throw new SQLException("seed file " + file + ": " + e.getMessage(), e.getSQLState(), e);
      }
    }
  }

  private Connection connect(String db) throws SQLException {
    Properties p = new Properties();
    if (username != null) {
      p.setProperty("user", username);
    }
    if (password != null) {
      p.setProperty("password", password.reveal());
    }
    p.setProperty("ApplicationName", "preview-baseline");
    PgSql.pinSearchPath(p);
    return PgSql.pinned(DriverManager.getConnection(admin.withDatabase(db), p));
  }

  /** Builds a {@link PostgresBaseline}: a URL and exactly one of database or schema. */
  public static final class Builder {
    private String url;
    private String username;
    private Secret password;
    private String database;
    private String schema;
    private List<String> migrations = List.of();
    private List<Path> seed = List.of();

    private Builder() {}

    /** Admin URL; in schema mode its database is the one that holds the baseline schema. */
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

    /** Build a template database of this name (mode database). */
    public Builder database(String database) {
      this.database = database;
      return this;
    }

    /** Build a schema of this name (mode schema). */
    public Builder schema(String schema) {
      this.schema = schema;
      return this;
    }

    /** Flyway locations, e.g. {@code filesystem:db/migration} or {@code classpath:db/migration}. */
    public Builder migrations(List<String> migrations) {
      this.migrations = List.copyOf(migrations);
      return this;
    }

    /** SQL files run after the migrations, in order. */
    public Builder seed(List<Path> seed) {
      this.seed = List.copyOf(seed);
      return this;
    }

    public PostgresBaseline build() {
      List<String> problems = new ArrayList<>();
      if (url == null) {
        problems.add("postgres baseline: url is required");
      }
      if ((database == null) == (schema == null)) {
        problems.add("postgres baseline: set exactly one of database or schema");
      }
      String name = Objects.requireNonNullElse(database, Objects.requireNonNullElse(schema, ""));
      if (name.getBytes(StandardCharsets.UTF_8).length > 63 - NEXT.length()) {
        problems.add("postgres baseline: name \"" + name + "\" is too long (at most " + (63 - NEXT.length()) + " bytes)");
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      // the admin logs in here too: its md5 digest and url are what the driver would print
      LeakyLoggers.refuse("database", PostgresDatabaseProvider.LEAKY_LOGGERS, PostgresDatabaseProvider.LEAKY_LOGGERS_FIX);
      return new PostgresBaseline(this);
    }
  }
}
