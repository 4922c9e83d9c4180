package dev.preview.db.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies a baseline schema into a new, empty schema of the same database: tables (with their
 * columns, defaults, constraints, indexes, identity and comments, via {@code LIKE .. INCLUDING ALL}),
 * their rows, sequences (with their current values, re-pointed column defaults and ownership),
 * foreign keys and views. Functions, triggers and types are not copied; use the migrations mode for
 * schemas that need them.
 *
 * <p>Definitions are read with {@code search_path} set to the baseline schema, so that the server
 * prints references to it unqualified, and replayed with {@code search_path} set to the new schema,
 * so that the same text now names the copies (both schemas are the admin's or brand new in this
 * transaction: no preview has written into either). Runs inside the caller's transaction.
 */
final class SchemaCloner {
  private final Connection c;
  private final String base;
  private final String target;

  SchemaCloner(Connection c, String base, String target) {
    this.c = c;
    this.base = base;
    this.target = target;
  }

  void run() throws SQLException {
    if (!PgSql.exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", base)) {
      throw new SQLException("baseline schema \"" + base + "\" does not exist", "3F000");
    }
    searchPath(base);
    List<String> tables = PgSql.column(c, """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND c.relkind IN ('r','p') AND NOT c.relispartition ORDER BY c.oid""", base);
    for (String t : tables) {
      PgSql.ddl(c, "CREATE TABLE %I.%I (LIKE %I.%I INCLUDING ALL EXCLUDING INDEXES)", target, t, base, t);
    }
    copySequences();
    for (String t : tables) {
      copyRows(t);
    }
    // keys and indexes after the rows (faster), under their baseline names
    List<String[]> keys = rows("""
        SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid) FROM pg_constraint co
        JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = ? AND co.contype IN ('p','u','x') AND co.conparentid = 0 ORDER BY co.oid""", 3);
    List<String[]> indexes = rows("""
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = ? AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.oid)
          AND NOT t.relispartition ORDER BY i.oid""", 2);
    List<String[]> fks = rows("""
        SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid) FROM pg_constraint co
        JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = ? AND co.contype = 'f' AND co.conparentid = 0 ORDER BY co.oid""", 3);
    List<String[]> views = rows("""
        SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND c.relkind = 'v' ORDER BY c.oid""", 2);
    searchPath(target);
    for (String[] k : keys) {
      exec(PgSql.format(c, "ALTER TABLE %I.%I ADD CONSTRAINT %I ", target, k[0], k[1]) + k[2]);
    }
    // pg_get_indexdef always qualifies the table (unlike the other deparsers): re-point it
    String from = PgSql.format(c, "%I.", base);
    String to = PgSql.format(c, "%I.", target);
    for (String[] i : indexes) {
      String def = i[1];
      int on = def.indexOf(" ON ONLY " + from) >= 0 ? def.indexOf(" ON ONLY " + from) + 9 : def.indexOf(" ON " + from) + 4;
      if (on < 4) {
        throw new SQLException("unexpected index definition: " + def);
      }
      exec(def.substring(0, on) + to + def.substring(on + from.length()));
    }
    for (String[] fk : fks) {
      exec(PgSql.format(c, "ALTER TABLE %I.%I ADD CONSTRAINT %I ", target, fk[0], fk[1]) + fk[2]);
    }
    for (String[] v : views) {
      exec(PgSql.format(c, "CREATE VIEW %I.%I AS ", target, v[0]) + v[1]);
    }
    // back to the admin's pinned path, not to a default a preview could have influenced
    PgSql.ddl(c, "SET LOCAL search_path TO " + PgSql.SAFE_SEARCH_PATH);
  }

  private void copySequences() throws SQLException {
    // identity sequences were made by LIKE: only their position is copied
    for (String[] s : rows("""
        SELECT c.relname, t.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'i' JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE n.nspname = ? AND c.relkind = 'S'""", 3)) {
      String copy = PgSql.one(c, "SELECT pg_get_serial_sequence(?, ?)",
          PgSql.format(c, "%I.%I", target, s[1]), s[2]).orElseThrow();
      setPosition(PgSql.format(c, "%I.%I", base, s[0]), copy);
    }
    for (String[] s : rows("""
        SELECT s.sequencename, format_type(s.data_type, NULL), s.increment_by, s.min_value, s.max_value,
               s.start_value, s.cache_size, s.cycle
        FROM pg_sequences s JOIN pg_class c ON c.relname = s.sequencename
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
        WHERE s.schemaname = ? AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i')""", 8)) {
      PgSql.ddl(c, "CREATE SEQUENCE %I.%I AS " + s[1] + " INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s "
          + ("t".equals(s[7]) || "true".equals(s[7]) ? "CYCLE" : "NO CYCLE"),
          target, s[0], s[2], s[3], s[4], s[5], s[6]);
      String from = PgSql.format(c, "%I.%I", base, s[0]);
      String to = PgSql.format(c, "%I.%I", target, s[0]);
      setPosition(from, to);
    }
    // serial columns: LIKE copied defaults that still call the baseline's sequences
    for (String[] d : rows("""
        SELECT t.relname, a.attname, s.relname FROM pg_attrdef ad
        JOIN pg_class t ON t.oid = ad.adrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ad.adnum
        JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = ad.oid AND dep.refclassid = 'pg_class'::regclass
        JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
        WHERE tn.nspname = ? AND sn.nspname = ?""", 3, target, base)) {
      PgSql.ddl(c, "ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)",
          target, d[0], d[1], PgSql.format(c, "%I.%I", target, d[2]));
    }
    for (String[] o : rows("""
        SELECT s.relname, t.relname, a.attname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
        JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' AND d.refclassid = 'pg_class'::regclass
        JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE n.nspname = ? AND s.relkind = 'S'""", 3)) {
      PgSql.ddl(c, "ALTER SEQUENCE %I.%I OWNED BY %I.%I.%I", target, o[0], target, o[1], o[2]);
    }
  }

  private void setPosition(String from, String to) throws SQLException {
    String[] pos = rows(PgSql.format(c, "SELECT last_value::text, is_called::text FROM %s", from), 2).get(0);
    try (PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?::bigint, ?::boolean)")) {
      ps.setString(1, to);
      ps.setString(2, pos[0]);
      ps.setString(3, pos[1]);
      ps.execute();
    }
  }

  private void copyRows(String table) throws SQLException {
    List<String> cols = PgSql.column(c, """
        SELECT quote_ident(a.attname) FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = ? AND t.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum""", base, table);
    String list = String.join(", ", cols);
    exec(PgSql.format(c, "INSERT INTO %I.%I (", target, table) + list + ") OVERRIDING SYSTEM VALUE SELECT " + list
        + PgSql.format(c, " FROM %I.%I", base, table));
  }

  private void searchPath(String schema) throws SQLException {
    PgSql.ddl(c, "SET LOCAL search_path TO %I", schema);
  }

  private void exec(String sql) throws SQLException {
    try (var st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private List<String[]> rows(String sql, int n, Object... args) throws SQLException {
    Object[] a = args.length == 0 && sql.contains("?") ? new Object[] {base} : args;
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < a.length; i++) {
        ps.setObject(i + 1, a[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        List<String[]> out = new ArrayList<>();
        while (rs.next()) {
          String[] r = new String[n];
          for (int i = 0; i < n; i++) {
            r[i] = rs.getString(i + 1);
          }
          out.add(r);
        }
        return out;
      }
    }
  }
}
