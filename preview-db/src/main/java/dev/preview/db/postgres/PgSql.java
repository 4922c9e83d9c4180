package dev.preview.db.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs DDL whose identifiers and literals are quoted by the server itself: the statement text is
 * produced by {@code format()} with {@code %I} (identifier) and {@code %L} (literal) from bound
 * parameters, then executed. Nothing is spliced into SQL on the client.
 *
 * <p>Every function this class calls is {@code pg_catalog.}-qualified, and every admin connection
 * the provider opens runs with {@link #SAFE_SEARCH_PATH} (see {@link #pinSearchPath}): a preview can
 * own a database or write a schema, and an admin session must never resolve a name (a function, an
 * operator, a table) through a schema it can write (CVE-2018-1058 and its successors).
 */
final class PgSql {
  /** The only search path an admin session runs with: nothing a preview can create objects in. */
  static final String SAFE_SEARCH_PATH = "pg_catalog, pg_temp";

  private PgSql() {}

  /**
   * Pins the admin session's search path: as a startup option ({@code options=-c search_path=..},
   * which outranks {@code ALTER DATABASE/ROLE .. SET} and is what {@code SET .. TO DEFAULT} returns
   * to) and again with {@code SET} once connected, in case the URL carried options of its own.
   */
  static void pinSearchPath(java.util.Properties p) {
    p.setProperty("options", "-c search_path=pg_catalog,pg_temp");
  }

  static Connection pinned(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + SAFE_SEARCH_PATH);
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** {@code format(template, args...)} on the server, then executes the result. */
  static void ddl(Connection c, String template, Object... args) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(format(c, template, args));
    }
  }

  static String format(Connection c, String template, Object... args) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT pg_catalog.format(?");
    for (int i = 0; i < args.length; i++) {
      sql.append(", ?");
    }
    sql.append(')');
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      ps.setString(1, template);
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 2, String.valueOf(args[i]));
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** The first column of the first row, if any. */
  static Optional<String> one(Connection c, String sql, Object... args) throws SQLException {
    List<String> all = column(c, sql, args);
    return all.isEmpty() ? Optional.empty() : Optional.ofNullable(all.get(0));
  }

  static boolean exists(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /** The first column of every row. */
  static List<String> column(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }

  /** The first two columns of every row. */
  static List<String[]> pairs(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
      List<String[]> out = new ArrayList<>();
      while (rs.next()) {
        out.add(new String[] {rs.getString(1), rs.getString(2)});
      }
      return out;
    }
  }

  private static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
    return ps;
  }

  static int serverVersion(Connection c) throws SQLException {
    return Integer.parseInt(one(c, "SELECT pg_catalog.current_setting('server_version_num')").orElse("0"));
  }

  /**
   * Gives {@code role} every object of the current database that sits in a non-system schema and
   * is not owned by it already (tables, with their owned sequences, plus views, free sequences,
   * functions, types and the schemas themselves). Objects that belong to an extension are left
   * alone. Needed because a clone keeps the template's owners, and the preview's app (or its own
   * Flyway) must be able to alter its tables. A schema owned by {@code pg_database_owner} (the
   * {@code public} schema since PostgreSQL 15) is handed over too: a {@code NOINHERIT} database owner
   * does not inherit that role's rights on 15, so it could not create anything in {@code public}.
   *
   * <p>Runs in admin sessions only on objects no preview has touched yet (a fresh clone before the
   * preview may connect, a schema inside the transaction that creates it).
   */
  static void transferOwnership(Connection c, String role, String onlySchema) throws SQLException {
    String sql = """
        DO $$
        DECLARE r record; target pg_catalog.text := %L; only_schema pg_catalog.text := %L;
        BEGIN
          FOR r IN SELECT n.nspname FROM pg_catalog.pg_namespace n
                   WHERE n.nspname NOT IN ('pg_catalog','information_schema','pg_toast')
                     AND n.nspname NOT LIKE 'pg_temp_%%' AND n.nspname NOT LIKE 'pg_toast_temp_%%'
                     AND (only_schema = '' OR n.nspname = only_schema)
                     AND pg_catalog.pg_get_userbyid(n.nspowner) <> target
                     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = n.oid AND d.deptype = 'e')
          LOOP EXECUTE pg_catalog.format('ALTER SCHEMA %%I OWNER TO %%I', r.nspname, target); END LOOP;
          FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind IN ('r','p','v','m','f','S')
                     AND n.nspname NOT IN ('pg_catalog','information_schema','pg_toast')
                     AND n.nspname NOT LIKE 'pg_temp_%%'
                     AND (only_schema = '' OR n.nspname = only_schema)
                     AND pg_catalog.pg_get_userbyid(c.relowner) <> target
                     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e','a','i'))
          LOOP
            EXECUTE pg_catalog.format(CASE r.relkind WHEN 'v' THEN 'ALTER VIEW %%I.%%I OWNER TO %%I'
                                          WHEN 'm' THEN 'ALTER MATERIALIZED VIEW %%I.%%I OWNER TO %%I'
                                          WHEN 'f' THEN 'ALTER FOREIGN TABLE %%I.%%I OWNER TO %%I'
                                          WHEN 'S' THEN 'ALTER SEQUENCE %%I.%%I OWNER TO %%I'
                                          ELSE 'ALTER TABLE %%I.%%I OWNER TO %%I' END,
                           r.nspname, r.relname, target);
          END LOOP;
          FOR r IN SELECT p.oid::regprocedure AS sig, p.prokind FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname NOT IN ('pg_catalog','information_schema')
                     AND (only_schema = '' OR n.nspname = only_schema)
                     AND pg_catalog.pg_get_userbyid(p.proowner) <> target
                     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
          LOOP
            EXECUTE pg_catalog.format(CASE r.prokind WHEN 'p' THEN 'ALTER PROCEDURE %%s OWNER TO %%I'
                                          WHEN 'a' THEN 'ALTER AGGREGATE %%s OWNER TO %%I'
                                          ELSE 'ALTER FUNCTION %%s OWNER TO %%I' END, r.sig, target);
          END LOOP;
          FOR r IN SELECT t.oid::regtype AS typ FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                   WHERE t.typtype IN ('e','d','c','r') AND n.nspname NOT IN ('pg_catalog','information_schema')
                     AND (only_schema = '' OR n.nspname = only_schema)
                     AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')
                     AND pg_catalog.pg_get_userbyid(t.typowner) <> target
                     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = t.oid AND d.deptype IN ('e','i'))
          LOOP EXECUTE pg_catalog.format('ALTER TYPE %%s OWNER TO %%I', r.typ, target); END LOOP;
        END $$""";
    String schema = onlySchema == null ? "" : onlySchema;
    if (role.contains("$") || schema.contains("$")) {
      // the names go into a dollar-quoted block; ours are [a-z0-9_] anyway
      throw new IllegalArgumentException("unexpected '$' in " + role + " / " + schema);
    }
    ddl(c, sql, role, schema);
  }
}
