package dev.preview.db.postgres;

import java.sql.SQLException;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.internal.exception.FlywayMigrateException;
import org.flywaydb.core.internal.sqlscript.FlywaySqlScriptException;

/**
 * The reason a failed migration gives on the PR: the migration's file, the SQL state (class and
 * condition) and the line of the failing statement. Never the server's message nor the statement:
 * migrations are the PR's code, and {@code RAISE EXCEPTION '%', (SELECT ..)} puts any query's result
 * into the message. Flyway's own, non-SQL failures (a checksum mismatch, a bad file name) keep their
 * text, which Flyway writes from file names and versions only; the causes' texts are dropped.
 */
final class MigrationFailure {
  private MigrationFailure() {}

  static String describe(RuntimeException e) {
    String script = null;
    int line = -1;
    SQLException sql = null;
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      // Flyway's internal classes are the only carriers of the file and line (flyway-core is pinned)
      if (t instanceof FlywayMigrateException m && m.getMigration() != null && script == null) {
        script = m.getMigration().getScript();
        line = m.getLineNumber() > 0 ? m.getLineNumber() : line;
      }
      if (t instanceof FlywaySqlScriptException s && s.getLineNumber() > 0) {
        line = s.getLineNumber();
        if (script == null && s.getResource() != null) {
          script = s.getResource().getFilename();
        }
      }
      if (t instanceof SQLException q && sql == null) {
        sql = q;
      }
    }
    if (sql == null) {
      if (e instanceof FlywayException && e.getCause() == null) {
        return "Flyway: " + firstLine(e.getMessage());
      }
      return e.getClass().getSimpleName() + (script == null ? "" : " in " + script);
    }
    StringBuilder b = new StringBuilder(script == null ? "a migration" : script).append(" failed");
    String state = sql.getSQLState();
    if (state != null) {
      b.append(": SQL state ").append(state).append(" (").append(condition(state)).append(')');
    }
    if (line > 0) {
      b.append(" in the statement at line ").append(line);
    }
    return b.append("; the server's message is not shown (it can carry anything the migration selects):"
        + " run the migration against the preview's own database to see it").toString();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).strip();
  }

  /** The condition name of a few common SQL states (PostgreSQL Appendix A), else its class. */
  static String condition(String state) {
    return switch (state) {
      case "42501" -> "insufficient_privilege";
      case "42601" -> "syntax_error";
      case "42P01" -> "undefined_table";
      case "42703" -> "undefined_column";
      case "42883" -> "undefined_function";
      case "42704" -> "undefined_object";
      case "42P07" -> "duplicate_table";
      case "42710" -> "duplicate_object";
      case "23505" -> "unique_violation";
      case "23503" -> "foreign_key_violation";
      case "23502" -> "not_null_violation";
      case "P0001" -> "raise_exception";
      case "0LP01" -> "invalid_grant_operation";
      case "0L000" -> "invalid_grantor";
      case "28000" -> "invalid_authorization_specification";
      case "57014" -> "query_canceled";
      default -> state.length() >= 2 ? "class " + state.substring(0, 2) : state;
    };
  }
}
