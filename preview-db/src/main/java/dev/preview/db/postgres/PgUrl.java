package dev.preview.db.postgres;

import java.util.Objects;

/**
 * The parts of a {@code jdbc:postgresql://host[:port][,host2...]/database[?params]} URL that the
 * provider rewrites (the database) or hands over (host and port).
 */
record PgUrl(String hosts, String database, String query) {
  static final String PREFIX = "jdbc:postgresql://";

  static PgUrl parse(String url) {
    Objects.requireNonNull(url, "url");
    if (!url.startsWith(PREFIX)) {
      throw new IllegalArgumentException("must start with " + PREFIX + ", got \"" + url + "\"");
    }
    String rest = url.substring(PREFIX.length());
    int q = rest.indexOf('?');
    String query = q < 0 ? "" : rest.substring(q + 1);
    String hostAndDb = q < 0 ? rest : rest.substring(0, q);
    int slash = hostAndDb.indexOf('/');
    String hosts = slash < 0 ? hostAndDb : hostAndDb.substring(0, slash);
    String db = slash < 0 ? "" : hostAndDb.substring(slash + 1);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("has no host: \"" + url + "\"");
    }
    return new PgUrl(hosts, db.isEmpty() ? "postgres" : db, query);
  }

  /** The same server, another database, same parameters. */
  String withDatabase(String db) {
    return PREFIX + hosts + "/" + db + (query.isEmpty() ? "" : "?" + query);
  }

  /** The first host, without port. */
  String host() {
    String first = hosts.split(",")[0];
    if (first.startsWith("[")) {
      return first.substring(0, first.indexOf(']') + 1);
    }
    int colon = first.lastIndexOf(':');
    return colon < 0 ? first : first.substring(0, colon);
  }

  /** The first host's port (5432 when absent). */
  int port() {
    String first = hosts.split(",")[0];
    int bracket = first.lastIndexOf(']');
    int colon = first.lastIndexOf(':');
    if (colon < 0 || colon < bracket) {
      return 5432;
    }
    return Integer.parseInt(first.substring(colon + 1));
  }
}
