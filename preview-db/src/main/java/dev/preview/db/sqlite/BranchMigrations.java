package dev.preview.db.sqlite;

import dev.preview.spi.ProviderException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteLimits;
import org.sqlite.SQLiteDataSource;

/**
 * Applies a PR's own Flyway migrations to its preview's SQLite file.
 *
 * <p>The SQL is the PR's, so it is hostile, and it runs inside the orchestrator's process (often as
 * root). SQLite has no users, so the only boundary is what a connection may reach: every connection
 * handed to Flyway has {@code SQLITE_LIMIT_ATTACHED} set to 0, so neither {@code ATTACH DATABASE}
 * (which would open another preview's file, or any file of the host) nor {@code VACUUM INTO} (which
 * writes a file anywhere; SQLite attaches its target internally) can run, and extension loading stays
 * off (the driver's default). What is left is the preview's own file.
 */
final class BranchMigrations {
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(BranchMigrations.class);
  private static final int MAX_REASON = 600;

  private BranchMigrations() {}

  /** Applies the migrations in {@code dir} that {@code db} lacks; returns how many ran. */
  static int apply(Path db, Path dir) {
    MigrateResult r;
    try {
      r = Flyway.configure()
          .dataSource(new Confined(db))
          .locations("filesystem:" + dir)
          .outOfOrder(true)
          .ignoreMigrationPatterns("*:missing", "*:future")
          .cleanDisabled(true)
          .load()
          .migrate();
    } catch (RuntimeException e) {
      throw new ProviderException(SqliteDatabaseProvider.NAME, "the branch's migrations in " + dir.getFileName()
          + " failed on " + db.getFileName() + ": " + reason(e), false, e);
    }
    LOG.info("sqlite: applied {} branch migration(s) from {} to {}", r.migrationsExecuted, dir, db);
    return r.migrationsExecuted;
  }

  /**
   * Flyway's message without its banner, its {@code Location} (a path of this host) and its
   * {@code Statement} (the SQL text, which runs to the end), cut to a size a PR comment can carry.
   */
  private static String reason(RuntimeException e) {
    String m = String.valueOf(e.getMessage());
    int statement = m.indexOf("\nStatement");
    if (statement >= 0) {
      m = m.substring(0, statement);
    }
    m = m.replaceAll("(?m)^Location\\s*:.*$", "").replaceAll("-{5,}", "").replaceAll("\\s*\\R\\s*", "; ")
        .replaceAll("(; )+", "; ").strip();
    return m.length() > MAX_REASON ? m.substring(0, MAX_REASON) + "..." : m;
  }

  /** Connections to one file that can attach nothing. */
  private static final class Confined implements DataSource {
    private final SQLiteDataSource target = new SQLiteDataSource();

    Confined(Path db) {
      target.setUrl("jdbc:sqlite:" + db);
      target.setLoadExtension(false);
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection c = target.getConnection();
      try {
        c.unwrap(SQLiteConnection.class).setLimit(SQLiteLimits.SQLITE_LIMIT_ATTACHED, 0);
      } catch (SQLException | RuntimeException e) {
        c.close();
        throw e;
      }
      return c;
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      if (iface.isInstance(this)) {
        return iface.cast(this);
      }
      throw new SQLException("not a wrapper of " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return iface.isInstance(this);
    }
  }
}
