package dev.preview.server.ui;

import dev.preview.server.HeadlessChromium;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard with 1,000 previews against a baseline of 10, same run, same JVM: the list page's
 * server render time ({@code Server-Timing}), its weight (raw and gzip), {@code GET /api/previews}
 * latency, and the first contentful paint in headless Chromium; {@code GET /livez} as the floor of a
 * request. Opt-in: {@code -Dpreview.benchmark=true}; figures in {@code target/dashboard-benchmark.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true")
class DashboardBenchmark {
  static final int ROUNDS = 60;
  static final int WARMUP = 20;
  private final HttpClient http = HttpClient.newHttpClient();

  record Figures(int previews, double renderP50, double renderP90, int bytes, int gzip, double apiP50, double apiP90,
      int apiBytes, double livezP50, double paint) {}

  @Test
  void thousandPreviewsAgainstTen() throws Exception {
    Figures ten = measure(10);
    Figures thousand = measure(1000);
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "dashboard benchmark: %d rounds after %d warm-up, same run (fake providers, loopback)%n",
        ROUNDS, WARMUP));
    for (Figures f : List.of(ten, thousand)) {
      out.append(String.format(Locale.ROOT,
          "%5d previews: /ui/ render p50 %.2f ms p90 %.2f ms, %d bytes (%d on the wire, gzip); /api/previews p50 %.2f ms p90 %.2f ms,"
              + " %d bytes; /livez p50 %.2f ms; first contentful paint %.0f ms%n",
          f.previews(), f.renderP50(), f.renderP90(), f.bytes(), f.gzip(), f.apiP50(), f.apiP90(), f.apiBytes(), f.livezP50(),
          f.paint()));
    }
    out.append(String.format(Locale.ROOT, "ratios 1000/10: render p50 x%.1f, page weight x%.1f, /api/previews p50 x%.1f;"
            + " 1000 previews vs /livez: /api/previews p50 x%.1f%n",
        thousand.renderP50() / ten.renderP50(), (double) thousand.bytes() / ten.bytes(), thousand.apiP50() / ten.apiP50(),
        thousand.apiP50() / thousand.livezP50()));
    Path file = Path.of("target", "dashboard-benchmark.txt");
    Files.createDirectories(file.getParent());
    Files.writeString(file, out);
    System.out.print(out);
  }

  private Figures measure(int n) throws Exception {
    try (DashboardFixture f = new DashboardFixture()) {
      List<CompletableFuture<?>> runs = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        PullRequest pr = PullRequest.open(dev.preview.spi.PreviewKey.pr("acme/shop-" + (i % 20), i),
            String.format("%040x", i), "feature-" + i, "main");
        f.prs.put(pr);
        runs.add(f.orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)));
      }
      CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
      List<Double> render = new ArrayList<>();
      List<Double> api = new ArrayList<>();
      List<Double> livez = new ArrayList<>();
      int bytes = 0;
      int apiBytes = 0;
      byte[] page = null;
      boolean gzipped = false;
      for (int i = 0; i < WARMUP + ROUNDS; i++) {
        HttpResponse<byte[]> p = http.send(HttpRequest.newBuilder(f.url("/ui/")).header("Accept-Encoding", "gzip")
            .header("Authorization", "Bearer " + DashboardFixture.READ).build(), HttpResponse.BodyHandlers.ofByteArray());
        long t0 = System.nanoTime();
        HttpResponse<byte[]> a = http.send(HttpRequest.newBuilder(f.url("/api/previews"))
            .header("Authorization", "Bearer " + DashboardFixture.READ).build(), HttpResponse.BodyHandlers.ofByteArray());
        long t1 = System.nanoTime();
        http.send(HttpRequest.newBuilder(f.url("/livez")).build(), HttpResponse.BodyHandlers.ofByteArray());
        long t2 = System.nanoTime();
        if (p.statusCode() != 200 || a.statusCode() != 200) {
          throw new AssertionError(p.statusCode() + " " + a.statusCode());
        }
        if (i >= WARMUP) {
          String timing = p.headers().firstValue("Server-Timing").orElseThrow();
          render.add(Double.parseDouble(timing.substring(timing.indexOf("dur=") + 4)));
          api.add((t1 - t0) / 1e6);
          livez.add((t2 - t1) / 1e6);
        }
        bytes = p.body().length;
        apiBytes = a.body().length;
        page = p.body();
        gzipped = p.headers().firstValue("Content-Encoding").orElse("").equals("gzip");
      }
      // what went over the wire (gzip, as a browser asks) and what it unpacks to
      int wire = page.length;
      byte[] raw = gzipped ? new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(page)).readAllBytes() : page;
      return new Figures(n, pct(render, 50), pct(render, 90), raw.length, wire, pct(api, 50), pct(api, 90), apiBytes,
          pct(livez, 50), paint(f));
    }
  }

  /** First contentful paint of the list page in headless Chromium, after logging in; NaN without Chromium. */
  private static double paint(DashboardFixture f) {
    if (!Files.isExecutable(Path.of("/usr/bin/chromium"))) {
      return Double.NaN;
    }
    try (HeadlessChromium browser = HeadlessChromium.start()) {
      WebDriver d = browser.driver();
      d.get(f.url("/ui/login").toString());
      d.findElement(By.id("secret")).sendKeys(DashboardFixture.READ);
      d.findElement(By.cssSelector("form.login button[type=submit]")).click();
      new WebDriverWait(d, Duration.ofSeconds(30)).until(ExpectedConditions.presenceOfElementLocated(By.id("rows")));
      List<Double> paints = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        d.get(f.url("/ui/").toString());
        Object fcp = ((JavascriptExecutor) d).executeScript(
            "var e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;");
        if (fcp instanceof Number num) {
          paints.add(num.doubleValue());
        }
      }
      return paints.isEmpty() ? Double.NaN : pct(paints, 50);
    }
  }

  static double pct(List<Double> values, int p) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
