package dev.preview.db.sqlite;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.flywaydb.core.Flyway;

/**
 * Builds (or rebuilds) the baseline file that {@link SqliteDatabaseProvider} copies: applies Flyway
 * migrations (if any), then runs SQL scripts in order, into a fresh temporary file, then moves it over
 * the baseline atomically, so previews created meanwhile copy either the old baseline or the new one,
 * never half of one.
 *
 * <pre>{@code
 * SqliteBaseline.builder().file(Path.of(".preview/baseline.db"))
 *     .migrations(List.of("filesystem:db/migration"))
 *     .script(Path.of("db/seed.sql"))
 *     .build().refresh();
 * }</pre>
 */
public final class SqliteBaseline {
  private final Path file;
  private final List<String> migrations;
  private final List<Source> sources;

  private record Source(String name, String sql) {}

  /**
   * What a rebuild did.
   *
   * @param file the baseline file (absolute)
   * @param migrationsApplied how many Flyway migrations ran
   * @param seedFiles how many SQL scripts ran after them
   * @param sizeBytes the size of the new baseline file
   * @param took how long the whole build took
   */
  public record Result(Path file, int migrationsApplied, int seedFiles, long sizeBytes, Duration took) {}

  private SqliteBaseline(Builder b) {
    this.file = b.file.toAbsolutePath().normalize();
    this.migrations = List.copyOf(b.migrations);
    this.sources = List.copyOf(b.sources);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The builder for the baseline that a provider configured by {@code config} (the {@code database}
   * section of {@code preview.yaml}, provider {@code sqlite}) copies: {@code baseline} (the file to
   * build, required here), {@code build.migrations} (Flyway locations) and {@code build.seed} (SQL
   * files, run after the migrations). Relative paths are relative to the working directory, as the
   * provider's are. Every problem (unknown keys, missing seed files) is reported at once.
   */
  public static SqliteBaseline fromConfig(ProviderConfig config) {
    config.ignore("provider", "directory");
    String base = config.requiredString("baseline");
    ProviderConfig build = config.section("build");
    List<String> migrations = build.strings("migrations");
    List<String> seed = build.strings("seed");
    for (String s : seed) {
      if (!Files.isRegularFile(Path.of(s))) {
        build.problem("seed", "no such file: " + Path.of(s).toAbsolutePath());
      }
    }
    config.validate();
    Builder b = builder().file(Path.of(base)).migrations(migrations);
    seed.forEach(s -> b.script(Path.of(s)));
    return b.build();
  }

  /** Builds the baseline anew; returns its path. Same as {@link #rebuild()}{@code .file()}. */
  public Path refresh() {
    return rebuild().file();
  }

  /**
   * Builds the baseline anew into a temporary file, then moves it over the baseline. Idempotent: a
   * second call builds the same baseline again. A failure leaves the old baseline as it was.
   *
   * @throws ProviderException naming the migration or script that failed
   */
  public Result rebuild() {
    long t0 = System.nanoTime();
    Path dir = file.getParent();
    Path tmp = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.createDirectories(dir);
      int applied = migrate(tmp);
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp); Statement st = c.createStatement()) {
        try (Statement pragma = c.createStatement()) {
          // a single self-contained file, nothing in a -wal beside it; closed at once: the PRAGMA's open
          // result would otherwise make the commit below fail when there is no script (SQLITE_BUSY)
          pragma.execute("PRAGMA journal_mode = DELETE");
        }
        c.setAutoCommit(false);
        for (Source s : sources) {
          try {
            // executeUpdate runs every statement of the script (sqlite-jdbc steps through them all)
            st.executeUpdate(s.sql());
          } catch (SQLException e) {
            throw new ProviderException(SqliteDatabaseProvider.NAME, "baseline script " + s.name() + " failed: "
                + e.getMessage(), false, e);
          }
        }
        c.commit();
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return new Result(file, applied, sources.size(), Files.size(file), Duration.ofNanos(System.nanoTime() - t0));
    } catch (IOException | SQLException e) {
      throw new ProviderException(SqliteDatabaseProvider.NAME, "cannot build baseline " + file + ": " + e.getMessage(), false, e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort: a leftover temp file is harmless and hidden
      }
    }
  }

  private int migrate(Path tmp) {
    if (migrations.isEmpty()) {
      return 0;
    }
    try {
      return Flyway.configure().dataSource("jdbc:sqlite:" + tmp, null, null)
          .locations(migrations.toArray(String[]::new)).cleanDisabled(true).load().migrate().migrationsExecuted;
    } catch (RuntimeException e) {
      throw new ProviderException(SqliteDatabaseProvider.NAME, "migrations from " + migrations
          + " failed while building baseline " + file + ": " + e.getMessage(), false, e);
    }
  }

  /** Builds a {@link SqliteBaseline}. */
  public static final class Builder {
    private Path file;
    private List<String> migrations = List.of();
    private final List<Source> sources = new ArrayList<>();

    private Builder() {}

    /**
     * Flyway locations applied first, e.g. {@code filesystem:src/main/resources/db/migration} or
     * {@code classpath:db/migration}; the baseline keeps Flyway's history table.
     */
    public Builder migrations(List<String> migrations) {
      this.migrations = List.copyOf(migrations);
      return this;
    }

    /** The baseline file to (re)build. */
    public Builder file(Path file) {
      this.file = Objects.requireNonNull(file, "file");
      return this;
    }

    /** A SQL file, run after the ones added before it. */
    public Builder script(Path script) {
      try {
        sources.add(new Source(script.toString(), Files.readString(script, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new ProviderException(SqliteDatabaseProvider.NAME, "cannot read baseline script " + script + ": " + e, false, e);
      }
      return this;
    }

    /** SQL text (one or more statements), e.g. from the classpath. */
    public Builder sql(String name, String sql) {
      sources.add(new Source(Objects.requireNonNull(name, "name"), Objects.requireNonNull(sql, "sql")));
      return this;
    }

    public SqliteBaseline build() {
      Objects.requireNonNull(file, "file");
      return new SqliteBaseline(this);
    }
  }
}
