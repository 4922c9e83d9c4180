package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.server.HeadlessChromium;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A reviewer's browser (Debian's headless Chromium through Selenium) follows the link of the PR
 * comment to a token-protected preview behind the gateway: it lands on the app, signed in by a cookie,
 * with the token gone from the address bar; later, the preview asleep, it sees the "waking up" page,
 * which reloads itself until the app answers. Hostnames are {@code pr-N.localhost}, which Chromium
 * resolves to this machine. Screenshots: {@code target/screenshots/gateway-*.png}.
 */
class GatewayBrowserIT {
  @TempDir Path dir;

  @Test
  void theCommentsLinkOpensTheAppAndASleepingPreviewWakesUpInTheBrowser() throws Exception {
    GatewaySettings settings = GatewaySettings.builder().port(0).bind("127.0.0.1").retryAfter(Duration.ofSeconds(1))
        .access(GatewaySettings.Access.token(Secret.of("browser-test-signing-key-0123456789abcdef"))).build();
    try (HeadlessChromium browser = HeadlessChromium.start();
         GatewayRig rig = new GatewayRig(dir, Clock.systemUTC(), settings, PreviewPolicy.defaults(), p -> p, "pr-{number}.localhost")) {
      rig.open(42, "e".repeat(40));
      PreviewKey key = GatewayRig.pr(42);
      URI link = rig.scm.latest(key).orElseThrow().url();
      assertThat(link.toString()).startsWith("http://pr-42.localhost:" + rig.gateway.port() + "/?preview_token=");
      var driver = browser.driver();
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));

      // without the link: the gateway refuses
      driver.get("http://pr-42.localhost:" + rig.gateway.port() + "/");
      assertThat(driver.findElement(By.tagName("h1")).getText()).isEqualTo("This preview is private");
      browser.screenshot("gateway-refused");

      driver.get(link.toString());
      wait.until(ExpectedConditions.presenceOfElementLocated(By.id("app")));
      assertThat(driver.findElement(By.id("app")).getText()).isEqualTo("Preview app acme/shop#42");
      assertThat(driver.getCurrentUrl()).isEqualTo("http://pr-42.localhost:" + rig.gateway.port() + "/").doesNotContain("preview_token");
      Cookie cookie = driver.manage().getCookieNamed(GatewaySettings.COOKIE);
      assertThat(cookie).isNotNull();
      assertThat(cookie.isHttpOnly()).isTrue();
      assertThat(cookie.isSecure()).isTrue();
      assertThat(cookie.getSameSite()).isEqualTo("Lax");
      assertThat(cookie.getDomain()).isEqualTo("pr-42.localhost");
      browser.screenshot("gateway-app");

      // the preview goes to sleep; the next visit wakes it
      rig.local.suspend(key);
      rig.gateway.refreshNow();
      driver.navigate().refresh();
      assertThat(driver.findElement(By.id("waking")).getText()).startsWith("Waking up the preview");
      Path waking = browser.screenshot("gateway-waking");
      wait.until(ExpectedConditions.presenceOfElementLocated(By.id("app")));
      assertThat(driver.findElement(By.id("app")).getText()).isEqualTo("Preview app acme/shop#42");
      Path woken = browser.screenshot("gateway-woken");
      assertThat(Files.size(waking)).isPositive();
      assertThat(Files.size(woken)).isPositive();
    }
  }
}
