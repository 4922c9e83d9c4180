package dev.preview.examples.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SampleAppTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private SampleApp app;

  @AfterEach
  void stop() {
    if (app != null) {
      app.stop();
    }
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
  void aSqliteDatabaseWithoutItsDriverIsReportedNotFatal() throws Exception {
    app = SampleApp.start(Map.of("DATABASE_URL", "jdbc:sqlite:/nonexistent/preview.db"), 0);
    HttpResponse<String> r = get("/");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("<h2>Database</h2>").contains("SQLite JDBC driver must be on the classpath");
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
