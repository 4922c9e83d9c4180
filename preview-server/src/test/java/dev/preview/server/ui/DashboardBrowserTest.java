package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.server.HeadlessChromium;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in Debian's headless Chromium: log in, three previews in their states, a failed one's
 * reason, extend, delete; the read-only role sees no actions and its POSTs are refused. Screenshots
 * of the list and the detail page go to {@code target/screenshots}.
 */
class DashboardBrowserTest {
  private DashboardFixture f;
  private HeadlessChromium browser;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    f = new DashboardFixture();
    f.threePreviews();
    browser = HeadlessChromium.start();
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.close();
    }
    f.close();
  }

  private WebDriver logIn(String token) {
    WebDriver d = browser.driver();
    d.get(f.url("/ui/").toString());
    assertThat(d.getCurrentUrl()).as("not logged in: the login form").endsWith("/ui/login");
    d.findElement(By.id("secret")).sendKeys(token);
    d.findElement(By.cssSelector("form.login button[type=submit]")).click();
    new WebDriverWait(d, Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(By.id("rows")));
    return d;
  }

  private static Map<String, String> states(WebDriver d) {
    for (int attempt = 0; ; attempt++) {
      try {
        return statesOnce(d);
      } catch (org.openqa.selenium.StaleElementReferenceException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }

  private static Map<String, String> statesOnce(WebDriver d) {
    return d.findElements(By.cssSelector("#rows tr")).stream()
        .collect(Collectors.toMap(tr -> tr.getAttribute("data-key"), tr -> tr.getAttribute("data-state")));
  }

  @Test
  void anAdminSeesThePreviewsReadsAFailureExtendsAndDeletes() throws Exception {
    WebDriver d = logIn(DashboardFixture.ADMIN);
    assertThat(states(d)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "acme/shop#1", "READY", "acme/shop#2", "FAILED", "acme/shop#3", "SLEEPING"));
    assertThat(d.findElement(By.cssSelector(".summary")).getText()).contains("ready 1", "failed 1", "sleeping 1");
    Path list = browser.screenshot("dashboard-list");
    assertThat(Files.size(list)).isPositive();

    // live refresh: a preview deployed meanwhile appears without a reload
    String url = d.getCurrentUrl();
    f.deploy(DashboardFixture.pr(4));
    new WebDriverWait(d, Duration.ofSeconds(10)).until(w -> "READY".equals(states(w).get("acme/shop#4")));
    assertThat(d.getCurrentUrl()).isEqualTo(url);

    // the failed one: its step and reason
    d.findElement(By.linkText("acme/shop#2")).click();
    assertThat(fact(d, "Failed step")).isEqualTo("environment");
    assertThat(fact(d, "Reason")).contains("injected failure: environment.apply");
    browser.screenshot("dashboard-detail-failed");

    // extend #1 by 24 h: 7 days from the deploy, plus one
    d.get(f.url("/ui/previews/acme/shop/1").toString());
    assertThat(fact(d, "Expires")).isEqualTo("2026-12-08 10:00Z");
    d.findElement(By.cssSelector("button[value=extend]")).click();
    // the form's POST and redirect reload the page: while it loads, the facts may not be there yet
    new WebDriverWait(d, Duration.ofSeconds(10)).until(w -> "2026-12-09 10:00Z".equals(factOrNull(w, "Expires")));
    assertThat(d.findElement(By.cssSelector(".flash")).getText()).contains("extended by 1d");
    assertThat(f.env.find(PreviewKey.pr("acme/shop", 1)).orElseThrow().labels())
        .containsEntry(Labels.EXPIRES, "2026-12-09T10:00:00Z");
    browser.screenshot("dashboard-detail");

    // delete #1: confirmed, then it goes from the list
    d.findElement(By.cssSelector("button[value=delete]")).click();
    d.switchTo().alert().accept();
    new WebDriverWait(d, Duration.ofSeconds(15)).until(w -> w.getCurrentUrl().endsWith("/ui/")
        && !states(w).containsKey("acme/shop#1"));
    assertThat(states(d)).containsOnlyKeys("acme/shop#2", "acme/shop#3", "acme/shop#4");
    assertThat(f.env.find(PreviewKey.pr("acme/shop", 1))).isEmpty();
  }

  @Test
  void theReadOnlyRoleSeesNoActionsAndItsPostsAreRefused() throws Exception {
    WebDriver d = logIn(DashboardFixture.READ);
    assertThat(states(d)).hasSize(3);
    d.get(f.url("/ui/previews/acme/shop/1").toString());
    assertThat(fact(d, "State")).contains("ready");
    assertThat(d.findElements(By.cssSelector("section.actions"))).isEmpty();
    assertThat(d.findElements(By.cssSelector("button[value]"))).isEmpty();

    // on a phone's width the table becomes cards: nothing wider than the screen
    d.manage().window().setSize(new org.openqa.selenium.Dimension(390, 844));
    d.get(f.url("/ui/").toString());
    Object overflow = ((org.openqa.selenium.JavascriptExecutor) d).executeScript(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
    assertThat(((Number) overflow).intValue()).as("horizontal overflow in px").isLessThanOrEqualTo(0);
    browser.screenshot("dashboard-phone");

    // the session's own CSRF token (of its logout form) does not make the read-only role an admin
    String csrf = d.findElement(By.cssSelector("form[action='/ui/logout'] input[name=csrf]")).getAttribute("value");
    Cookie session = d.manage().getCookieNamed(DashboardAuth.COOKIE);
    assertThat(session.isHttpOnly()).isTrue();
    assertThat(session.getSameSite()).isEqualTo("Strict");
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(f.url("/ui/previews/acme/shop/1/delete"))
        .header("Cookie", DashboardAuth.COOKIE + "=" + session.getValue())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(403);
    HttpResponse<String> api = http.send(HttpRequest.newBuilder(f.url("/api/previews/acme/shop/1/extend"))
        .header("Authorization", "Bearer " + DashboardFixture.READ).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(api.statusCode()).isEqualTo(403);
    assertThat(f.env.find(PreviewKey.pr("acme/shop", 1)).orElseThrow().labels())
        .as("nothing changed").containsEntry(Labels.EXPIRES, "2026-12-08T10:00:00Z");
  }

  /** The value of a fact of the detail page; live refresh may replace the list while it is read: read again then. */
  private static String fact(WebDriver d, String name) {
    for (int attempt = 0; ; attempt++) {
      try {
        return factOnce(d, name);
      } catch (org.openqa.selenium.StaleElementReferenceException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }

  /** The fact's value, or null while the page (being loaded) does not show it. */
  private static String factOrNull(WebDriver d, String name) {
    try {
      return fact(d, name);
    } catch (AssertionError | org.openqa.selenium.StaleElementReferenceException e) {
      return null;
    }
  }

  private static String factOnce(WebDriver d, String name) {
    List<WebElement> dts = d.findElements(By.cssSelector("dl.facts dt"));
    for (WebElement dt : dts) {
      if (dt.getText().equals(name)) {
        return dt.findElement(By.xpath("following-sibling::dd[1]")).getText();
      }
    }
    throw new AssertionError("no fact " + name + " on " + d.getCurrentUrl());
  }

  @Test
  void pagesThroughManyPreviewsAndAReplicaThatDoesNotLeadShowsWhoDoes() throws Exception {
    for (int i = 10; i < 130; i++) {
      PreviewKey key = PreviewKey.pr("acme/shop", i);
      f.env.plant(new dev.preview.spi.Environment(key, "e".repeat(40), URI.create("http://pr-" + i + ".fake.test/"),
          dev.preview.spi.Environment.Phase.RUNNING, Map.of(Labels.MANAGED, "true", Labels.KEY, key.id(),
          Labels.LAST_PUSH, "2026-12-01T09:00:00Z", Labels.LAST_VISIT, "2026-12-01T09:30:00Z")));
    }
    WebDriver d = logIn(DashboardFixture.ADMIN);
    assertThat(d.findElement(By.cssSelector("table.previews caption")).getText()).isEqualTo("1–50 of 123 previews");
    assertThat(d.findElements(By.cssSelector("#rows tr"))).hasSize(50);
    d.findElement(By.cssSelector("nav.pages a[rel=next]")).click();
    new WebDriverWait(d, Duration.ofSeconds(10)).until(w -> w.getCurrentUrl().endsWith("/ui/?page=2"));
    assertThat(d.findElement(By.cssSelector("table.previews caption")).getText()).isEqualTo("51–100 of 123 previews");
    WebElement row = d.findElement(By.cssSelector("#rows tr[data-key='acme/shop#60']"));
    assertThat(row.findElement(By.cssSelector("td.last-push")).getText()).isEqualTo("2026-12-01 09:00Z");
    assertThat(row.findElement(By.cssSelector("td.last-visit")).getText()).isEqualTo("2026-12-01 09:30Z");
    browser.screenshot("dashboard-page-2");

    f.leads.set(false);
    f.leader.set("preview-serve-0");
    d.get(f.url("/ui/previews/acme/shop/1").toString());
    assertThat(d.findElement(By.cssSelector("p.banner")).getText()).contains("does not lead", "preview-serve-0");
    assertThat(d.findElements(By.cssSelector("section.actions button"))).as("no actions here").isEmpty();
    browser.screenshot("dashboard-not-leader");
  }
}
