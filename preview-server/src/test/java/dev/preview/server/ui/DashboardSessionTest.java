package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Stateless sessions: a login on one server is honoured by another with the same config (a restart,
 * another replica), with its CSRF token; a tampered, expired or logged-out cookie, a changed password
 * and a cookie of another key are refused.
 */
class DashboardSessionTest {
  private static final PreviewKey ONE = PreviewKey.pr("acme/shop", 1);
  private static final String PASSWORD = "ana-password-123";
  private final HttpClient http = HttpClient.newHttpClient();
  private DashboardFixture a;
  private DashboardFixture b;

  @AfterEach
  void stop() {
    for (DashboardFixture f : new DashboardFixture[] {a, b}) {
      if (f != null) {
        f.close();
      }
    }
  }

  private static DashboardSettings settings(String password) {
    return DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), null)
        .withUser("ana", Secret.of(password), DashboardSettings.Role.ADMIN).withRefresh(Duration.ofSeconds(1));
  }

  private HttpResponse<String> send(HttpRequest.Builder r) throws Exception {
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String own(DashboardFixture f) {
    return "http://127.0.0.1:" + f.server.port();
  }

  private String login(DashboardFixture f) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(f.url("/ui/login")).header("Origin", own(f))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("user=ana&secret=" + PASSWORD)));
    assertThat(r.statusCode()).isEqualTo(303);
    String c = r.headers().firstValue("Set-Cookie").orElseThrow();
    return c.substring(0, c.indexOf(';'));
  }

  private HttpResponse<String> page(DashboardFixture f, String cookie) throws Exception {
    return send(HttpRequest.newBuilder(f.url("/ui/previews/acme/shop/1")).header("Cookie", cookie));
  }

  private static String csrf(String page) {
    Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page);
    assertThat(m.find()).as("a form with a CSRF token").isTrue();
    return m.group(1);
  }

  private HttpResponse<String> extend(DashboardFixture f, String cookie, String csrf) throws Exception {
    return send(HttpRequest.newBuilder(f.url("/ui/previews/acme/shop/1/extend")).header("Cookie", cookie).header("Origin", own(f))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf)));
  }

  @Test
  void aLoginOnOneServerWorksOnAnotherWithTheSameConfig() throws Exception {
    a = new DashboardFixture(settings(PASSWORD));
    b = new DashboardFixture(settings(PASSWORD));
    a.deploy(DashboardFixture.pr(1));
    b.deploy(DashboardFixture.pr(1));
    String cookie = login(a);
    String csrf = csrf(page(a, cookie).body());

    HttpResponse<String> there = page(b, cookie);
    assertThat(there.statusCode()).as("the other replica knows the login").isEqualTo(200);
    assertThat(csrf(there.body())).as("the CSRF token is bound to the cookie, not to a server").isEqualTo(csrf);
    HttpResponse<String> acted = extend(b, cookie, csrf);
    assertThat(acted.statusCode()).isEqualTo(303);
    assertThat(b.env.find(ONE).orElseThrow().labels()).containsEntry(Labels.EXPIRES, "2026-12-09T10:00:00Z");
    String flash = acted.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(DashboardAuth.FLASH_COOKIE + "="))
        .findFirst().orElseThrow();
    String shown = page(a, cookie + "; " + flash.substring(0, flash.indexOf(';'))).body();
    assertThat(shown).as("the action's outcome, shown by the other server").contains("class=\"flash\"", "extend: extended by 1d: expires 2026-12-09T10:00:00Z");
    assertThat(page(a, cookie + "; " + DashboardAuth.FLASH_COOKIE + "=" + Base64.getUrlEncoder().withoutPadding()
        .encodeToString("planted".getBytes(StandardCharsets.UTF_8)) + ".AAAA").body()).doesNotContain("planted");

    // a CSRF token of another login is refused
    String other = login(a);
    assertThat(extend(b, cookie, csrf(page(a, other).body())).statusCode()).isEqualTo(403);
    // a tampered cookie (its role or name changed) is not a login
    String[] parts = cookie.substring(cookie.indexOf('=') + 1).split("\\.");
    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("ana", "bob");
    String forged = DashboardAuth.COOKIE + "=v1." + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    assertThat(page(b, forged).statusCode()).isEqualTo(303);
    assertThat(page(b, DashboardAuth.COOKIE + "=garbage").statusCode()).isEqualTo(303);

    // expired
    b.clock.advance(Duration.ofHours(12).plusSeconds(1));
    assertThat(page(b, cookie).statusCode()).as("expired").isEqualTo(303);
    assertThat(page(b, cookie).headers().firstValue("Location")).hasValue("/ui/login");
  }

  @Test
  void aChangedPasswordOrKeyEndsTheSessionAndLogoutEndsItHere() throws Exception {
    a = new DashboardFixture(settings(PASSWORD));
    a.deploy(DashboardFixture.pr(1));
    String cookie = login(a);
    b = new DashboardFixture(settings("a-new-password-456"));
    b.deploy(DashboardFixture.pr(1));
    assertThat(page(b, cookie).statusCode()).as("the password changed").isEqualTo(303);
    b.close();
    b = new DashboardFixture(settings(PASSWORD).withSessionKey(Secret.of("k".repeat(40))));
    assertThat(page(b, cookie).statusCode()).as("another key").isEqualTo(303);

    String csrf = csrf(page(a, cookie).body());
    HttpResponse<String> out = send(HttpRequest.newBuilder(a.url("/ui/logout")).header("Cookie", cookie).header("Origin", own(a))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf)));
    assertThat(out.statusCode()).isEqualTo(303);
    assertThat(out.headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
    assertThat(page(a, cookie).statusCode()).as("logged out here").isEqualTo(303);
  }

  @Test
  void aShortSessionKeyIsReported() {
    ProviderConfig c = ProviderConfig.of("dashboard", Map.of("adminToken", DashboardFixture.ADMIN, "sessionKey", "too-short-key"));
    assertThatThrownBy(() -> DashboardSettings.read(c)).isInstanceOfSatisfying(ConfigurationException.class, e ->
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).startsWith("dashboard.sessionKey: must be at least 32"))
            .noneMatch(p -> p.contains("too-short-key")));
  }
}
