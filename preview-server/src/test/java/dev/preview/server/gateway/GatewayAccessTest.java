package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import dev.preview.testkit.MutableClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gateway.access}: token links and cookies, basic auth, the bypass header; accepted and refused. */
class GatewayAccessTest {
  static final Secret KEY = Secret.of("0123456789abcdef0123456789abcdef-signing");
  static final Secret BYPASS = Secret.of("automation-bypass-secret-1");

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
  GatewayRig rig;

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  private void start(GatewaySettings.Access access) throws Exception {
    rig = new GatewayRig(dir, clock, b -> b.access(access), PreviewPolicy.defaults(), p -> p);
    rig.open(41, "a".repeat(40));
    rig.open(42, "b".repeat(40));
  }

  private static String query(URI url) {
    return url.getRawPath() + "?" + url.getRawQuery();
  }

  private String cookieFrom(GatewayRig.Reply r) {
    String set = r.header("Set-Cookie");
    return set.substring(0, set.indexOf(';'));
  }

  @Test
  void thePullRequestsLinkSetsAScopedCookieRedirectsToTheCleanUrlAndOpensOnlyItsPreview() throws Exception {
    start(GatewaySettings.Access.builder().mode(GatewaySettings.Mode.TOKEN).signingKey(KEY).bypassSecret(BYPASS).build());
    PreviewStatus status = rig.scm.latest(GatewayRig.pr(42)).orElseThrow();
    URI link = status.url();
    assertThat(link.toString()).startsWith("http://pr-42.preview.test:" + rig.gateway.port() + "/?preview_token=");
    assertThat(rig.scm.comment(GatewayRig.pr(42))).hasValueSatisfying(c -> assertThat(c).contains("preview_token="));

    // no credentials: refused, and nothing of the app is shown
    GatewayRig.Reply none = rig.get("pr-42.preview.test", "/echo");
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.body()).doesNotContain("key=");
    assertThat(none.header("X-Robots-Tag")).isEqualTo("noindex, nofollow");

    GatewayRig.Reply signIn = rig.get("pr-42.preview.test", query(link) + "&keep=1");
    assertThat(signIn.status()).isEqualTo(303);
    assertThat(signIn.header("Location")).isEqualTo("/?keep=1");
    assertThat(signIn.header("Set-Cookie")).startsWith("preview_access=").contains("Path=/", "HttpOnly", "Secure", "SameSite=Lax")
        .containsIgnoringCase("Max-Age=43200").doesNotContain("Domain");
    String cookie = cookieFrom(signIn);

    GatewayRig.Reply in = rig.get("pr-42.preview.test", "/echo", "Cookie: other=1; " + cookie);
    assertThat(in.status()).isEqualTo(200);
    assertThat(in.body()).contains("key=acme/shop#42\n", "cookie=other=1\n"); // the app never sees the gateway's cookie

    // one preview's cookie and link never open another
    assertThat(rig.get("pr-41.preview.test", "/echo", "Cookie: " + cookie).status()).isEqualTo(401);
    assertThat(rig.get("pr-41.preview.test", query(link)).status()).isEqualTo(401);
    assertThat(rig.get("previews.example.com", "/pr/41/echo", "Cookie: " + cookie).status()).isEqualTo(401);
    // a link token is not a cookie
    String linkToken = link.getRawQuery().substring("preview_token=".length());
    assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: preview_access=" + linkToken).status()).isEqualTo(401);
    // a tampered cookie: another expiry with the same MAC, or a changed MAC
    String value = cookie.substring("preview_access=".length());
    String[] parts = value.split("\\.");
    String laterExpiry = (Long.parseLong(parts[0]) + 86_400) + "." + parts[1];
    assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: preview_access=" + laterExpiry).status()).isEqualTo(401);
    char last = parts[1].charAt(parts[1].length() - 2);
    String flipped = parts[0] + "." + parts[1].substring(0, parts[1].length() - 2) + (last == 'A' ? 'B' : 'A') + parts[1].charAt(parts[1].length() - 1);
    assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: preview_access=" + flipped).status()).isEqualTo(401);
    assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: preview_access=garbage").status()).isEqualTo(401);

    // the cookie expires after cookieTtl, the link after tokenTtl
    clock.advance(Duration.ofHours(13));
    assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: " + cookie).status()).isEqualTo(401);
    assertThat(rig.get("pr-42.preview.test", query(link)).status()).isEqualTo(303);
    clock.advance(Duration.ofDays(7));
    GatewayRig.Reply expired = rig.get("pr-42.preview.test", query(link), "Accept: text/html");
    assertThat(expired.status()).isEqualTo(401);
    assertThat(expired.body()).contains("expired");

    // automation passes with the bypass header, which the app never sees; a wrong one is refused
    GatewayRig.Reply bot = rig.get("pr-42.preview.test", "/echo", "X-Preview-Bypass: " + BYPASS.reveal());
    assertThat(bot.status()).isEqualTo(200);
    assertThat(bot.body()).contains("x-preview-bypass=null\n");
    assertThat(rig.get("pr-42.preview.test", "/echo", "X-Preview-Bypass: wrong-" + BYPASS.reveal()).status()).isEqualTo(401);
    // and it is not a visit: an uptime check does not keep a preview alive
    assertThat(rig.get("pr-41.preview.test", "/echo", "X-Preview-Bypass: " + BYPASS.reveal()).status()).isEqualTo(200);
    assertThat(rig.gateway.lastVisit(GatewayRig.pr(41))).isEmpty();
    assertThat(rig.gateway.lastVisit(GatewayRig.pr(42))).isPresent();
  }

  @Test
  void noTokenCookieOrSigningKeyEverReachesTheLog() throws Exception {
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    java.io.PrintStream out = System.out;
    // slf4j-simple writes to System.err as it is at each call; keep showing it, and keep a copy
    System.setErr(new java.io.PrintStream(new TeeStream(err, captured), true, StandardCharsets.UTF_8));
    System.setOut(new java.io.PrintStream(new TeeStream(out, captured), true, StandardCharsets.UTF_8));
    List<String> tokens = new java.util.ArrayList<>();
    try {
      rig = new GatewayRig(dir, clock, b -> b.access(GatewaySettings.Access.builder().mode(GatewaySettings.Mode.TOKEN).signingKey(KEY)
          .bypassSecret(BYPASS).build()), PreviewPolicy.defaults(), p -> p);
      rig.scm.faults().failNext("scm.publish"); // a failed publish of a status whose link carries a token is logged
      rig.open(41, "a".repeat(40));
      rig.open(42, "b".repeat(40));
      await().atMost(Duration.ofSeconds(20)).until(() -> rig.scm.latest(GatewayRig.pr(41)).map(st -> st.url() != null).orElse(false));
      for (PreviewStatus st : rig.scm.all()) {
        if (st.url() != null && st.url().getRawQuery() != null) {
          tokens.add(st.url().getRawQuery().substring("preview_token=".length()));
        }
      }
      assertThat(tokens).isNotEmpty();
      URI link = rig.scm.latest(GatewayRig.pr(42)).orElseThrow().url();
      GatewayRig.Reply signIn = rig.get("pr-42.preview.test", query(link));
      assertThat(signIn.status()).isEqualTo(303);
      String cookie = cookieFrom(signIn);
      tokens.add(cookie.substring("preview_access=".length()));
      assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: " + cookie).status()).isEqualTo(200);
      // refusals: another preview's link and cookie, a tampered cookie, an expired link, a wrong bypass secret
      assertThat(rig.get("pr-41.preview.test", query(link)).status()).isEqualTo(401);
      assertThat(rig.get("pr-41.preview.test", "/echo", "Cookie: " + cookie).status()).isEqualTo(401);
      assertThat(rig.get("pr-42.preview.test", "/echo", "Cookie: " + cookie + "x").status()).isEqualTo(401);
      assertThat(rig.get("pr-42.preview.test", "/echo", "X-Preview-Bypass: " + BYPASS.reveal() + "x").status()).isEqualTo(401);
      clock.advance(Duration.ofDays(8));
      assertThat(rig.get("pr-42.preview.test", query(link)).status()).isEqualTo(401);
      rig.close();
      rig = null;
    } finally {
      System.setErr(err);
      System.setOut(out);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).as("the capture works").contains("gateway: listening on");
    for (String token : tokens) {
      String mac = token.substring(token.indexOf('.') + 1);
      assertThat(log).as("a token's MAC in the log").doesNotContain(mac);
    }
    assertThat(log).doesNotContain(KEY.reveal()).doesNotContain(BYPASS.reveal()).doesNotContain("preview_token=");
  }

  /** Writes to both streams. */
  static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public synchronized void write(byte[] bytes, int off, int len) throws java.io.IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }

    @Override
    public void flush() throws java.io.IOException {
      a.flush();
    }
  }

  @Test
  void onAPathRouteTheCookieIsScopedToThePreviewsPrefix() throws Exception {
    start(GatewaySettings.Access.token(KEY));
    // the notifier links by host here; sign in on the path route with a link token of #41
    String token = new AccessTokens(KEY).issue(AccessTokens.LINK, GatewayRig.pr(41), clock.instant().plusSeconds(60));
    GatewayRig.Reply signIn = rig.get("previews.example.com", "/pr/41/echo?preview_token=" + token);
    assertThat(signIn.status()).isEqualTo(303);
    assertThat(signIn.header("Location")).isEqualTo("/pr/41/echo");
    assertThat(signIn.header("Set-Cookie")).contains("Path=/pr/41/");
    String cookie = cookieFrom(signIn);
    assertThat(rig.get("previews.example.com", "/pr/41/echo", "Cookie: " + cookie).status()).isEqualTo(200);
    assertThat(rig.get("previews.example.com", "/pr/42/echo", "Cookie: " + cookie).status()).isEqualTo(401);
  }

  @Test
  void basicAuthAcceptsTheUserAndPasswordOnlyAndKeepsThemFromTheApp() throws Exception {
    start(GatewaySettings.Access.builder().mode(GatewaySettings.Mode.BASIC).basic("reviewer", Secret.of("pa55-word!")).build());
    String good = "Authorization: Basic " + Base64.getEncoder().encodeToString("reviewer:pa55-word!".getBytes(StandardCharsets.UTF_8));
    GatewayRig.Reply ok = rig.get("pr-41.preview.test", "/echo", good);
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body()).contains("authorization=null\n");
    for (String bad : List.of("reviewer:wrong", "other:pa55-word!", "reviewer:", "reviewer")) {
      GatewayRig.Reply r = rig.get("pr-41.preview.test", "/echo",
          "Authorization: Basic " + Base64.getEncoder().encodeToString(bad.getBytes(StandardCharsets.UTF_8)));
      assertThat(r.status()).as(bad).isEqualTo(401);
      assertThat(r.header("WWW-Authenticate")).isEqualTo("Basic realm=\"preview\", charset=\"UTF-8\"");
    }
    assertThat(rig.get("pr-41.preview.test", "/echo").status()).isEqualTo(401);
    assertThat(rig.get("pr-41.preview.test", "/echo", "Authorization: Bearer x").status()).isEqualTo(401);
    // basic mode issues no tokens: the PR's link is the plain gateway URL
    assertThat(rig.scm.latest(GatewayRig.pr(41)).orElseThrow().url().getRawQuery()).isNull();
  }

  @Test
  void aGatewaySectionWithSeveralMistakesReportsThemAllAtOnceWithoutItsSecrets() {
    Map<String, Object> access = new LinkedHashMap<>();
    access.put("mode", "token");
    access.put("signingKey", "short-key");
    access.put("user", "someone");
    access.put("bypass", Map.of("header", "X Bad", "secret", "tiny"));
    Map<String, Object> gateway = new LinkedHashMap<>();
    gateway.put("port", 70000);
    gateway.put("pathPrefix", "pr/{number}");
    gateway.put("access", access);
    gateway.put("wake", Map.of("hold", "-1s", "maxHeld", -2));
    gateway.put("colour", "blue");
    assertThatThrownBy(() -> GatewaySettings.from(ProviderConfig.of("gateway", gateway)))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> {
          List<String> p = ((ConfigurationException) e).problems();
          assertThat(String.join("\n", p)).contains("gateway.port", "gateway.pathPrefix", "gateway.access.signingKey: must be at least 32",
              "gateway.access.user/password: only used with mode: basic", "gateway.access.bypass.header",
              "gateway.access.bypass.secret: must be at least 16", "gateway.wake.hold", "gateway.wake.maxHeld", "gateway.colour: unknown key")
              .doesNotContain("short-key", "tiny");
        });
    assertThatThrownBy(() -> GatewaySettings.from(ProviderConfig.of("gateway", Map.of("access", Map.of("mode", "token")))))
        .hasMessageContaining("gateway.access.signingKey: is required with mode: token");
    assertThatThrownBy(() -> GatewaySettings.from(ProviderConfig.of("gateway", Map.of("access", Map.of("mode", "basic")))))
        .hasMessageContaining("gateway.access.user: is required").hasMessageContaining("gateway.access.password: is required");
    GatewaySettings fine = GatewaySettings.from(ProviderConfig.of("gateway", Map.of("port", 9000, "pathPrefix", "/previews/{number}/",
        "access", Map.of("mode", "token", "signingKey", KEY.reveal()))));
    assertThat(fine.toString()).doesNotContain(KEY.reveal());
    assertThat(fine.redactor().redact("key " + KEY.reveal())).doesNotContain(KEY.reveal());
  }
}
