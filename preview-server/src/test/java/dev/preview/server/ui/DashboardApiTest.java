package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The JSON API and the dashboard's checks over plain HTTP: authentication, roles, CSRF and Origin, redaction. */
class DashboardApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PreviewKey ONE = PreviewKey.pr("acme/shop", 1);
  private DashboardFixture f;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    f = new DashboardFixture(DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), Secret.of(DashboardFixture.READ))
        .withUser("ana", Secret.of("ana-password-123"), DashboardSettings.Role.ADMIN));
    f.threePreviews();
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder get(String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(f.url(path));
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }

  @Test
  void theApiNeedsACredentialAndListsEveryPreviewInOneShape() throws Exception {
    HttpResponse<String> anonymous = send(get("/api/previews", null));
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"preview\"");
    assertThat(send(get("/api/previews", "wrong-token-0123456789")).statusCode()).isEqualTo(401);
    assertThat(send(get("/ui/", null)).statusCode()).as("pages send to the login form").isEqualTo(303);

    HttpResponse<String> list = send(get("/api/previews", DashboardFixture.READ));
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.headers().firstValue("Content-Security-Policy").orElse("")).contains("script-src 'self'");
    JsonNode all = JSON.readTree(list.body());
    assertThat(all).hasSize(3);
    Map<String, JsonNode> byKey = new java.util.HashMap<>();
    all.forEach(n -> byKey.put(n.get("key").asText(), n));
    assertThat(byKey.get("acme/shop#1").get("state").asText()).isEqualTo("READY");
    assertThat(byKey.get("acme/shop#1").get("expires").asText()).isEqualTo("2026-12-08T10:00:00Z");
    assertThat(byKey.get("acme/shop#1").get("pullRequest").asText()).isEqualTo("https://github.com/acme/shop/pull/1");
    assertThat(byKey.get("acme/shop#2").get("state").asText()).isEqualTo("FAILED");
    assertThat(byKey.get("acme/shop#2").get("failedStep").asText()).isEqualTo("environment");
    assertThat(byKey.get("acme/shop#2").get("reason").asText()).contains("injected failure: environment.apply");
    assertThat(byKey.get("acme/shop#3").get("sleeping").asBoolean()).isTrue();

    // preview list -o json writes the same object (PreviewJson), with what the infrastructure alone knows
    List<String> apiKeys = new ArrayList<>();
    byKey.get("acme/shop#1").fieldNames().forEachRemaining(apiKeys::add);
    List<String> listKeys = new ArrayList<>();
    PreviewJson.object(PreviewRow.observed(f.env.find(ONE).orElseThrow(), null)).fieldNames().forEachRemaining(listKeys::add);
    assertThat(apiKeys).isEqualTo(listKeys);
  }

  @Test
  void aPreviewsDetailCarriesItsLogTailRedacted() throws Exception {
    f.env.setLogs(ONE, List.of("starting", "token is " + DashboardFixture.SECRET, "listening on 8080"));
    JsonNode one = JSON.readTree(send(get("/api/previews/acme/shop/1", DashboardFixture.READ)).body());
    assertThat(one.get("key").asText()).isEqualTo("acme/shop#1");
    assertThat(one.get("logTail").toString()).contains("starting", "listening on 8080").doesNotContain(DashboardFixture.SECRET);
    HttpResponse<String> page = send(get("/ui/previews/acme/shop/1", DashboardFixture.READ));
    assertThat(page.body()).contains("listening on 8080").doesNotContain(DashboardFixture.SECRET);
    assertThat(send(get("/api/previews/acme/shop/99", DashboardFixture.READ)).statusCode()).isEqualTo(404);
  }

  @Test
  void anAdminTokenActsAndAReadTokenIsRefused() throws Exception {
    HttpResponse<String> read = send(get("/api/previews/acme/shop/1/pin", DashboardFixture.READ).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(read.statusCode()).isEqualTo(403);
    HttpResponse<String> pin = send(get("/api/previews/acme/shop/1/pin", DashboardFixture.ADMIN).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(pin.statusCode()).as(pin.body()).isEqualTo(200);
    assertThat(f.env.find(ONE).orElseThrow().labels()).containsEntry(Labels.PINNED, "operator");
    assertThat(JSON.readTree(send(get("/api/previews/acme/shop/1", DashboardFixture.ADMIN)).body()).get("pinned").asText())
        .isEqualTo("operator");
    HttpResponse<String> wake = send(get("/api/previews/acme/shop/3/wake", DashboardFixture.ADMIN).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(wake.statusCode()).as(wake.body()).isEqualTo(202);
    org.awaitility.Awaitility.await().until(() -> f.env.find(PreviewKey.pr("acme/shop", 3)).orElseThrow().phase()
        == dev.preview.spi.Environment.Phase.RUNNING);
  }

  private String login(String user, String secret, String origin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(f.url("/ui/login")).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("user=" + user + "&secret=" + secret));
    if (origin != null) {
      b.header("Origin", origin);
    }
    HttpResponse<String> r = send(b);
    if (r.statusCode() != 303) {
      return null;
    }
    String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).contains("HttpOnly", "SameSite=Strict");
    return cookie.substring(0, cookie.indexOf(';'));
  }

  private String own() {
    return "http://127.0.0.1:" + f.server.port();
  }

  @Test
  void aSessionsPostsNeedItsCsrfTokenAndThisOrigin() throws Exception {
    assertThat(login("ana", "wrong-password-1", own())).isNull();
    assertThat(login("", DashboardFixture.ADMIN, "https://evil.example")).as("a login posted from another site").isNull();
    String cookie = login("ana", "ana-password-123", own());
    assertThat(cookie).startsWith(DashboardAuth.COOKIE + "=");
    String page = send(HttpRequest.newBuilder(f.url("/ui/previews/acme/shop/1")).header("Cookie", cookie)).body();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page);
    assertThat(m.find()).isTrue();
    String csrf = m.group(1);

    HttpRequest.Builder post = HttpRequest.newBuilder(f.url("/ui/previews/acme/shop/1/extend")).header("Cookie", cookie)
        .header("Content-Type", "application/x-www-form-urlencoded");
    assertThat(send(post.copy().POST(HttpRequest.BodyPublishers.ofString(""))).statusCode()).as("no token").isEqualTo(403);
    assertThat(send(post.copy().POST(HttpRequest.BodyPublishers.ofString("csrf=forged"))).statusCode()).isEqualTo(403);
    assertThat(send(post.copy().header("Origin", "https://evil.example").POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf)))
        .statusCode()).as("right token, other site").isEqualTo(403);
    assertThat(f.env.find(ONE).orElseThrow().labels()).containsEntry(Labels.EXPIRES, "2026-12-08T10:00:00Z");

    HttpResponse<String> ok = send(post.copy().header("Origin", own()).POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf)));
    assertThat(ok.statusCode()).isEqualTo(303);
    assertThat(ok.headers().firstValue("Location")).hasValue("/ui/previews/acme/shop/1");
    assertThat(f.env.find(ONE).orElseThrow().labels()).containsEntry(Labels.EXPIRES, "2026-12-09T10:00:00Z");

    // basic auth, as a browser remembers it: cross-site POSTs are refused too
    String basic = "Basic " + Base64.getEncoder().encodeToString("ana:ana-password-123".getBytes(StandardCharsets.UTF_8));
    assertThat(send(HttpRequest.newBuilder(f.url("/api/previews/acme/shop/1/unpin")).header("Authorization", basic)
        .header("Origin", "https://evil.example").POST(HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(403);
  }

  @Test
  void aWrongDashboardSectionIsReportedAllAtOnce() {
    ProviderConfig c = ProviderConfig.of("dashboard", Map.of("adminToken", "short", "refresh", "0s", "colour", "red",
        "users", Map.of("bob", Map.of("password", "tiny", "role", "root"))));
    assertThatThrownBy(() -> DashboardSettings.read(c)).isInstanceOfSatisfying(ConfigurationException.class, e ->
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).startsWith("dashboard.adminToken: must be at least 16"))
            .anySatisfy(p -> assertThat(p).startsWith("dashboard.refresh: must be between"))
            .anySatisfy(p -> assertThat(p).startsWith("dashboard.colour: unknown key"))
            .anySatisfy(p -> assertThat(p).startsWith("dashboard.users.bob.role"))
            .anySatisfy(p -> assertThat(p).startsWith("dashboard.users.bob.password: must be at least 12"))
            .noneMatch(p -> p.contains("short") || p.contains("tiny")));
    assertThatThrownBy(() -> DashboardSettings.read(ProviderConfig.of("dashboard", Map.of("refresh", "5s"))))
        .hasMessageContaining("the dashboard needs a credential");
  }
}
