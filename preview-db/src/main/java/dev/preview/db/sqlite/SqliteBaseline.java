package dev.preview.db.sqlite;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Builds (or rebuilds) the baseline file that {@link SqliteDatabaseProvider} copies: runs SQL scripts
 * in order into a fresh temporary file, then moves it over the baseline atomically, so previews
 * created meanwhile copy either the old baseline or the new one, never half of one.
 *
 * <pre>{@code
 * SqliteBaseline.builder().file(Path.of(".preview/baseline.db"))
 *     .script(Path.of("db/schema.sql")).script(Path.of("db/seed.sql"))
 *     .build().refresh();
 * }</pre>
 */
public final class SqliteBaseline {
  private final Path file;
  private final List<Source> sources;

  private record Source(String name, String sql) {}

  private SqliteBaseline(Builder b) {
    this.file = b.file.toAbsolutePath().normalize();
    this.sources = List.copyOf(b.sources);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds the baseline anew; returns its path. */
  public Path refresh() {
    Path dir = file.getParent();
    Path tmp = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.createDirectories(dir);
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp); Statement st = c.createStatement()) {
        st.execute("PRAGMA journal_mode = DELETE"); // a single self-contained file, nothing in a -wal beside it
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
      return file;
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

  /** Builds a {@link SqliteBaseline}. */
  public static final class Builder {
    private Path file;
    private final List<Source> sources = new ArrayList<>();

    private Builder() {}

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
