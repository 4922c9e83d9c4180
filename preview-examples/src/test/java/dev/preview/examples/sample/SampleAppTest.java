package dev.preview.examples.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleAppTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private SampleApp app;
  @TempDir Path dir;

  @AfterEach
  void stop() {
    if (app != null) {
      app.stop();
    }
  }

  private HttpResponse<String> post(String path, String type, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
        .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void showsRevisionUrlFlagsAndSettingsButNoSecret() throws Exception {
    app = SampleApp.start(Map.ofEntries(
        Map.entry("PREVIEW_REVISION", "abc123def456"),
        Map.entry("PREVIEW_URL", "http://127.0.0.1:5555/"),
        Map.entry("PREVIEW_KEY", "acme/shop#7"),
        Map.entry("PREVIEW_FLAGS", "{\"new-checkout\":true}"),
        Map.entry("FEATURE_NEW_CHECKOUT", "true"),
        Map.entry("GREETING", "<b>hi</b>"),
        Map.entry("PREVIEW_SECRET_NAMES", "STRIPE,DB_PASS"),
        Map.entry("STRIPE", "sk_live_named_secret"),
        Map.entry("DB_PASS", "named-db-pass"),
        Map.entry("GITHUB_TOKEN", "ghp_pattern_secret"),
        Map.entry("SESSION_SECRET", "pattern-secret-2"),
        Map.entry("API_KEY", "pattern-secret-3"),
        Map.entry("DATABASE_URL", "postgres://app:url-password-1@db:5432/shop?sslmode=disable&password=url-password-2")), 0);

    HttpResponse<String> r = get("/");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("<code id=\"revision\">abc123def456</code>")
        .contains("<code id=\"url\">http://127.0.0.1:5555/</code>")
        .contains("<code id=\"key\">acme/shop#7</code>")
        .contains("{&quot;new-checkout&quot;:true}")
        .contains("<li>FEATURE_NEW_CHECKOUT = true</li>")
        .contains("<td>GREETING</td><td><code>&lt;b&gt;hi&lt;/b&gt;</code>")
        .contains("postgres://app:******@db:5432/shop?sslmode=disable&amp;password=******")
        .contains("5 secret setting(s) not shown.")
        .doesNotContain("sk_live_named_secret", "named-db-pass", "ghp_pattern_secret", "pattern-secret-2",
            "pattern-secret-3", "url-password-1", "url-password-2", "<b>hi</b>")
        .doesNotContain("<td>STRIPE</td>", "<td>GITHUB_TOKEN</td>");
  }

  @Test
  void healthDocsAndNotFound() throws Exception {
    app = SampleApp.start(Map.of(), 0);
    assertThat(get("/health").body()).isEqualTo("ok");
    assertThat(get("/docs").body()).contains("<h1>Sample app docs</h1>");
    assertThat(get("/nope").statusCode()).isEqualTo(404);
    assertThat(get("/").body()).contains("<code id=\"revision\">unknown</code>");
  }

  @Test
  void showsTheGreetingAndTheBuildOfItsWorkingDirectoryAndNothingWithoutThem() throws Exception {
    app = SampleApp.start(Map.of(), 0, dir);
    assertThat(get("/").body()).doesNotContain("id=\"greeting\"").doesNotContain("id=\"build\"");

    Files.writeString(dir.resolve("greeting.txt"), "<i>PR 7</i>: a new cart\nsecond line\n");
    assertThat(get("/").body()).contains("<code id=\"greeting\">&lt;i&gt;PR 7&lt;/i&gt;: a new cart\nsecond line</code>")
        .doesNotContain("id=\"build\"");

    assertThat(SampleBuild.write(dir, "abc123")).isEqualTo("built abc123 greeting=<i>PR 7</i>: a new cart");
    assertThat(get("/").body()).contains("<code id=\"build\">built abc123 greeting=&lt;i&gt;PR 7&lt;/i&gt;: a new cart</code>");

    // read at each request: a new checkout in the same directory shows at once
    Files.writeString(dir.resolve("greeting.txt"), "v2");
    assertThat(get("/").body()).contains("<code id=\"greeting\">v2</code>");
  }

  @Test
  void showsTheRowsOfItsSqliteDatabaseAndAddsGreetingsWithBoundValues() throws Exception {
    Path db = dir.resolve("pr.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE greetings(id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
      st.execute("INSERT INTO greetings(text) VALUES ('hello from the baseline')");
    }
    app = SampleApp.start(Map.of("DATABASE_URL", "jdbc:sqlite:" + db, "DB_TOKEN", "tok-secret-9"), 0);

    assertThat(get("/").body()).contains("<h3>greetings</h3>").contains("<td>1</td><td>hello from the baseline</td>")
        .contains("<td>DATABASE_URL</td><td><code>jdbc:sqlite:" + db + "</code>").doesNotContain("tok-secret-9");
    HttpResponse<String> added = post("/greetings", "application/x-www-form-urlencoded", "text=it%27s+%3Cme%3E");
    assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
    assertThat(post("/greetings", "text/plain", "plain'); DROP TABLE greetings; --").statusCode()).isEqualTo(201);
    assertThat(get("/").body()).contains("<td>2</td><td>it&#39;s &lt;me&gt;</td>")
        .contains("<td>3</td><td>plain&#39;); DROP TABLE greetings; --</td>");
    assertThat(post("/greetings", "application/x-www-form-urlencoded", "other=x").statusCode()).isEqualTo(400);
    assertThat(get("/greetings").statusCode()).isEqualTo(405);
  }

  @Test
  void greetingsNeedASqliteDatabaseWithThatTable() throws Exception {
    app = SampleApp.start(Map.of(), 0);
    assertThat(post("/greetings", "text/plain", "hi").statusCode()).isEqualTo(404);
    app.stop();
    app = SampleApp.start(Map.of("DATABASE_URL", "jdbc:sqlite:" + dir.resolve("empty.db")), 0);
    assertThat(post("/greetings", "text/plain", "hi").statusCode()).isEqualTo(409);
    assertThat(get("/").body()).contains("The database has no tables.");
  }

  @Test
  void anUnreadableSqliteDatabaseIsReportedNotFatal() throws Exception {
    app = SampleApp.start(Map.of("DATABASE_URL", "jdbc:sqlite:/nonexistent/preview.db"), 0);
    HttpResponse<String> r = get("/");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("<h2>Database</h2>").contains("<p id=\"db-error\">Database not readable here: ");
  }

  @Test
  void secretNamesAndUrlMasking() {
    assertThat(SampleApp.isSecret("PREVIEW_KEY", Set.of())).isFalse();
    assertThat(SampleApp.isSecret("aws_secret_access_key", Set.of())).isTrue();
    assertThat(SampleApp.isSecret("PLAIN", Set.of("PLAIN"))).isTrue();
    assertThat(SampleApp.maskUrl("jdbc:mysql://u:p@h/db")).isEqualTo("jdbc:mysql://u:******@h/db");
    assertThat(SampleApp.maskUrl("jdbc:postgresql://h/db?user=u&password=p")).isEqualTo("jdbc:postgresql://h/db?user=u&password=******");
    assertThat(SampleApp.maskUrl("not a url: a:b@c")).isEqualTo("not a url: a:b@c");
  }
}
