package dev.preview.examples.sample;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

/**
 * A small web app to preview: what {@code preview demo} runs for each PR. Only the JDK.
 *
 * <p>Listens on {@code PORT} (default 8080) and answers:
 * <ul>
 *   <li>{@code /health}: 200 {@code ok};</li>
 *   <li>{@code /}: a page with its revision ({@code PREVIEW_REVISION}), its URL ({@code PREVIEW_URL}),
 *       its key ({@code PREVIEW_KEY}), its feature flags ({@code PREVIEW_FLAGS} and {@code FEATURE_*}),
 *       its settings (the env vars it was given, without secrets), and, if {@code DATABASE_URL} is a
 *       {@code jdbc:sqlite:} URL and a SQLite JDBC driver is on the classpath, rows of its database;
 *       and what its working directory (the PR's checkout, with {@code build.from: source}) holds:
 *       the text of {@code greeting.txt} and of {@code build.txt} (what {@link SampleBuild} wrote), if present;</li>
 *   <li>{@code POST /greetings} (form field {@code text}, or the plain body): adds a row to the
 *       table {@code greetings(text)} of that SQLite database; 201, 400 without text, 404 without a
 *       SQLite database, 409 if it has no such table;</li>
 *   <li>{@code /docs}: a tiny documentation page.</li>
 * </ul>
 * Secrets are never shown: variables named in {@code PREVIEW_SECRET_NAMES} (comma-separated), or whose
 * names contain PASSWORD, SECRET, TOKEN, KEY, CREDENTIAL or PRIVATE, are left out (only their count is
 * shown); credentials inside URLs ({@code DATABASE_URL} and any other URL value) are masked.
 */
public final class SampleApp {
  private static final String MASK = "******";
  private static final Pattern SECRET_NAME = Pattern.compile(".*(PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE).*");
  /** Ours, and plainly not secret though their names match the pattern. */
  private static final Set<String> NOT_SECRET = Set.of("PREVIEW_KEY", "PREVIEW_SECRET_NAMES");
  private static final Pattern URL_USERINFO = Pattern.compile("(?<=://)([^/@:]*):([^/@]*)@");
  private static final Pattern URL_PASSWORD_PARAM = Pattern.compile("(?i)([?&;](password|pass|pwd)=)[^&;]*");
  private static final int MAX_ROWS = 10;
  private static final int MAX_GREETING_BYTES = 1024;

  /** The file of the working directory whose text the page shows: what a PR changes in the demo. */
  public static final String GREETING_FILE = "greeting.txt";
  private static final int MAX_FILE_CHARS = 4096;

  private final Map<String, String> env;
  private final Path dir;
  private final HttpServer server;

  private SampleApp(Map<String, String> env, int port, Path dir) throws IOException {
    this.env = Map.copyOf(env);
    this.dir = dir;
    this.server = HttpServer.create(new InetSocketAddress(port), 0);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/health", x -> send(x, 200, "text/plain", "ok"));
    server.createContext("/docs", x -> send(x, 200, "text/html", docs()));
    server.createContext("/greetings", this::greetings);
    server.createContext("/", x -> {
      if (!x.getRequestURI().getPath().equals("/")) {
        send(x, 404, "text/plain", "not found");
      } else {
        send(x, 200, "text/html", home());
      }
    });
  }

  /** Starts the app on {@code port} (0: any free port) with the given environment. */
  public static SampleApp start(Map<String, String> env, int port) throws IOException {
    return start(env, port, Path.of(""));
  }

  /** Starts the app on {@code port} with the given environment, reading {@code greeting.txt} and {@code build.txt} in {@code dir}. */
  public static SampleApp start(Map<String, String> env, int port, Path dir) throws IOException {
    SampleApp app = new SampleApp(env, port, dir);
    app.server.start();
    return app;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public void stop() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }

  public static void main(String[] args) throws IOException {
    String p = System.getenv().getOrDefault("PORT", "8080");
    SampleApp app = start(System.getenv(), Integer.parseInt(p.trim()));
    Runtime.getRuntime().addShutdownHook(new Thread(app::stop, "sample-app-stop"));
    System.out.println("sample app of " + System.getenv().getOrDefault("PREVIEW_KEY", "?") + " at revision "
        + System.getenv().getOrDefault("PREVIEW_REVISION", "?") + " listening on port " + app.port());
  }

  String home() {
    StringBuilder h = new StringBuilder();
    String revision = env.getOrDefault("PREVIEW_REVISION", "unknown");
    h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Sample app - ")
        .append(esc(env.getOrDefault("PREVIEW_KEY", "preview"))).append("</title></head><body>\n");
    h.append("<h1>Sample app</h1>\n");
    h.append("<p>Revision: <code id=\"revision\">").append(esc(revision)).append("</code></p>\n");
    h.append("<p>URL: <code id=\"url\">").append(esc(env.getOrDefault("PREVIEW_URL", "unknown"))).append("</code></p>\n");
    h.append("<p>Preview: <code id=\"key\">").append(esc(env.getOrDefault("PREVIEW_KEY", "none"))).append("</code></p>\n");
    fileText(GREETING_FILE).ifPresent(t -> h.append("<p>Greeting: <code id=\"greeting\">").append(esc(t))
        .append("</code></p>\n"));
    fileText(SampleBuild.OUTPUT).ifPresent(t -> h.append("<p>Build: <code id=\"build\">").append(esc(t))
        .append("</code></p>\n"));
    h.append("<h2>Feature flags</h2>\n<p>PREVIEW_FLAGS: <code id=\"flags\">")
        .append(esc(env.getOrDefault("PREVIEW_FLAGS", "{}"))).append("</code></p>\n<ul>\n");
    new TreeMap<>(env).forEach((k, v) -> {
      if (k.startsWith("FEATURE_")) {
        h.append("<li>").append(esc(k)).append(" = ").append(esc(v)).append("</li>\n");
      }
    });
    h.append("</ul>\n<h2>Settings</h2>\n<table id=\"settings\">\n");
    settings().forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td><code>").append(esc(v))
        .append("</code></td></tr>\n"));
    h.append("</table>\n<p id=\"hidden\">").append(env.size() - settings().size())
        .append(" secret setting(s) not shown.</p>\n");
    String db = env.get("DATABASE_URL");
    if (db != null && db.startsWith("jdbc:sqlite:")) {
      h.append("<h2>Database</h2>\n").append(sqlite(db));
    }
    h.append("<p><a href=\"docs\">docs</a></p>\n</body></html>\n");
    return h.toString();
  }

  /** The trimmed text of {@code name} in the working directory (at most 4096 chars), if it is a readable file. */
  private Optional<String> fileText(String name) {
    Path f = dir.resolve(name);
    if (!Files.isRegularFile(f)) {
      return Optional.empty();
    }
    try {
      String t = Files.readString(f, StandardCharsets.UTF_8).trim();
      return Optional.of(t.length() > MAX_FILE_CHARS ? t.substring(0, MAX_FILE_CHARS) + "..." : t);
    } catch (IOException | RuntimeException e) {
      return Optional.of("(" + name + " not readable: " + e.getMessage() + ")");
    }
  }

  /** The env vars it was given, sorted by name, without the secret ones; credentials in URLs masked. */
  Map<String, String> settings() {
    Set<String> secretNames = secretNames();
    Map<String, String> out = new TreeMap<>();
    env.forEach((k, v) -> {
      if (!isSecret(k, secretNames)) {
        out.put(k, maskUrl(v));
      }
    });
    return out;
  }

  private Set<String> secretNames() {
    Set<String> names = new TreeSet<>();
    for (String n : env.getOrDefault("PREVIEW_SECRET_NAMES", "").split(",")) {
      if (!n.isBlank()) {
        names.add(n.trim());
      }
    }
    return names;
  }

  static boolean isSecret(String name, Set<String> secretNames) {
    if (secretNames.contains(name)) {
      return true;
    }
    return !NOT_SECRET.contains(name) && SECRET_NAME.matcher(name.toUpperCase(Locale.ROOT)).matches();
  }

  /** {@code postgres://app:pw@db/x} -> {@code postgres://app:******@db/x}; {@code ?password=pw} -> {@code ?password=******}. */
  static String maskUrl(String value) {
    if (!value.contains("://") && !value.startsWith("jdbc:")) {
      return value;
    }
    String v = URL_USERINFO.matcher(value).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(m.group(1) + ":" + MASK + "@"));
    return URL_PASSWORD_PARAM.matcher(v).replaceAll("$1" + MASK);
  }

  /** Up to 10 rows of each table of a SQLite database, if a driver is on the classpath. */
  private String sqlite(String url) {
    StringBuilder h = new StringBuilder();
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = st.executeQuery(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      if (tables.isEmpty()) {
        return "<p>The database has no tables.</p>\n";
      }
      for (String t : tables) {
        h.append("<h3>").append(esc(t)).append("</h3>\n<table class=\"rows\">\n");
        try (ResultSet rs = st.executeQuery("SELECT * FROM \"" + t.replace("\"", "\"\"") + "\" LIMIT " + MAX_ROWS)) {
          ResultSetMetaData md = rs.getMetaData();
          h.append("<tr>");
          for (int i = 1; i <= md.getColumnCount(); i++) {
            h.append("<th>").append(esc(md.getColumnName(i))).append("</th>");
          }
          h.append("</tr>\n");
          while (rs.next()) {
            h.append("<tr>");
            for (int i = 1; i <= md.getColumnCount(); i++) {
              h.append("<td>").append(esc(String.valueOf(rs.getObject(i)))).append("</td>");
            }
            h.append("</tr>\n");
          }
        }
        h.append("</table>\n");
      }
      return h.toString();
    } catch (SQLException e) {
      String why = String.valueOf(e.getMessage());
      return "<p id=\"db-error\">Database not readable here: " + esc(why)
          + (why.contains("No suitable driver") ? " (a SQLite JDBC driver must be on the classpath)" : "") + "</p>\n";
    }
  }

  private void greetings(HttpExchange x) throws IOException {
    if (!x.getRequestMethod().equals("POST")) {
      x.getResponseHeaders().set("Allow", "POST");
      send(x, 405, "text/plain", "POST a greeting (form field text)");
      return;
    }
    String db = env.get("DATABASE_URL");
    if (db == null || !db.startsWith("jdbc:sqlite:")) {
      send(x, 404, "text/plain", "no SQLite database (DATABASE_URL is not a jdbc:sqlite: URL)");
      return;
    }
    byte[] body = x.getRequestBody().readNBytes(MAX_GREETING_BYTES + 1);
    if (body.length > MAX_GREETING_BYTES) {
      send(x, 413, "text/plain", "a greeting is at most " + MAX_GREETING_BYTES + " bytes");
      return;
    }
    String text = greetingText(x.getRequestHeaders().getFirst("Content-Type"), new String(body, StandardCharsets.UTF_8));
    if (text.isBlank()) {
      send(x, 400, "text/plain", "no text: POST text=<greeting>");
      return;
    }
    try (Connection c = DriverManager.getConnection(db);
         PreparedStatement st = c.prepareStatement("INSERT INTO greetings(text) VALUES (?)")) {
      st.setString(1, text);
      st.executeUpdate();
      send(x, 201, "text/plain", "added");
    } catch (SQLException e) {
      boolean noTable = String.valueOf(e.getMessage()).contains("no such table");
      send(x, noTable ? 409 : 500, "text/plain", noTable ? "the database has no table greetings(text)"
          : "cannot write the greeting: " + e.getMessage());
    }
  }

  /** The {@code text} field of a form body, or the whole body as plain text. */
  static String greetingText(String contentType, String body) {
    if (contentType != null && contentType.startsWith("application/x-www-form-urlencoded")) {
      for (String pair : body.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0 && pair.substring(0, eq).equals("text")) {
          return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8).trim();
        }
      }
      return "";
    }
    return body.trim();
  }

  private static String docs() {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>Docs</title></head><body>\n"
        + "<h1>Sample app docs</h1>\n<p>GET / shows the revision, URL, flags and settings of this preview;"
        + " GET /health answers ok; POST /greetings (text=...) adds a row to its database.</p>\n<p><a href=\"./\">home</a></p>\n</body></html>\n";
  }

  /** {@code s} escaped for HTML text and attributes, as the page shows it. */
  public static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static void send(HttpExchange x, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    x.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }
}
