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
 * first page (server render time from {@code Server-Timing}, client latency, weight raw and gzip),
 * {@code GET /api/previews} (its first page, and all 1,000 with {@code ?limit=1000}), each against a
 * floor measured in the same rounds (a plain Jetty handler serving the same bytes, gzip alike), the
 * first contentful paint in headless Chromium, and {@code GET /livez}. Opt-in: {@code -Dpreview.benchmark=true}; figures in {@code target/dashboard-benchmark.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true")
class DashboardBenchmark {
  static final int ROUNDS = 60;
  static final int WARMUP = 20;
  private final HttpClient http = HttpClient.newHttpClient();

  record Figures(int previews, double renderP50, double renderP90, double pageP50, int bytes, int gzip, double floorPageP50,
      double apiP50, double apiP90, int apiBytes, double apiAllP50, double apiAllP90, int apiAllBytes, double floorJsonP50,
      double livezP50, double paint) {}

  @Test
  void thousandPreviewsAgainstTen() throws Exception {
    Figures ten = measure(10);
    Figures thousand = measure(1000);
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "dashboard benchmark: %d rounds after %d warm-up, same run (fake providers, loopback;"
        + " floor: a plain Jetty handler in the same JVM serving the same bytes, gzip alike)%n", ROUNDS, WARMUP));
    for (Figures f : List.of(ten, thousand)) {
      out.append(String.format(Locale.ROOT,
          "%5d previews: /ui/ (first page) render p50 %.2f ms p90 %.2f ms, client p50 %.2f ms vs floor %.2f ms (x%.1f), %d bytes"
              + " (%d gzip); first contentful paint %.0f ms%n",
          f.previews(), f.renderP50(), f.renderP90(), f.pageP50(), f.floorPageP50(), f.pageP50() / f.floorPageP50(), f.bytes(),
          f.gzip(), f.paint()));
      out.append(String.format(Locale.ROOT,
          "%5d previews: /api/previews (first 100) p50 %.2f ms p90 %.2f ms, %d bytes; ?limit=1000 p50 %.2f ms p90 %.2f ms, %d bytes"
              + " vs floor %.2f ms (x%.1f); /livez p50 %.2f ms%n",
          f.previews(), f.apiP50(), f.apiP90(), f.apiBytes(), f.apiAllP50(), f.apiAllP90(), f.apiAllBytes(), f.floorJsonP50(),
          f.apiAllP50() / f.floorJsonP50(), f.livezP50()));
    }
    out.append(String.format(Locale.ROOT, "ratios 1000/10: render p50 x%.1f, page weight x%.1f, /api/previews first page p50 x%.1f,"
            + " all p50 x%.1f; first paint x%.2f%n",
        thousand.renderP50() / ten.renderP50(), (double) thousand.bytes() / ten.bytes(), thousand.apiP50() / ten.apiP50(),
        thousand.apiAllP50() / ten.apiAllP50(), thousand.paint() / ten.paint()));
    Path file = Path.of("target", "dashboard-benchmark.txt");
    Files.createDirectories(file.getParent());
    Files.writeString(file, out);
    System.out.print(out);
  }

  private HttpResponse<byte[]> get(java.net.URI uri, boolean gzip) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + DashboardFixture.READ);
    if (gzip) {
      b.header("Accept-Encoding", "gzip");
    }
    HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new AssertionError(uri + ": " + r.statusCode());
    }
    return r;
  }

  private static byte[] unzip(HttpResponse<byte[]> r) throws java.io.IOException {
    return r.headers().firstValue("Content-Encoding").orElse("").equals("gzip")
        ? new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(r.body())).readAllBytes() : r.body();
  }

  /** A plain Jetty server that answers every GET with {@code body}: the floor of serving that many bytes. */
  private static org.eclipse.jetty.server.Server floor(java.util.Map<String, byte[]> bodies) throws Exception {
    org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
    org.eclipse.jetty.server.ServerConnector c = new org.eclipse.jetty.server.ServerConnector(server);
    c.setHost("127.0.0.1");
    c.setPort(0);
    server.addConnector(c);
    org.eclipse.jetty.server.Handler.Abstract h = new org.eclipse.jetty.server.Handler.Abstract() {
      @Override
      public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
          org.eclipse.jetty.util.Callback callback) {
        byte[] body = bodies.get(request.getHttpURI().getPath());
        response.setStatus(200);
        response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE,
            request.getHttpURI().getPath().endsWith(".json") ? "application/json" : "text/html; charset=utf-8");
        response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, java.nio.ByteBuffer.wrap(body), callback);
        return true;
      }
    };
    org.eclipse.jetty.server.handler.gzip.GzipHandler gzip = new org.eclipse.jetty.server.handler.gzip.GzipHandler(h);
    gzip.setMinGzipSize(1024);
    server.setHandler(gzip);
    server.start();
    return server;
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
      java.net.URI ui = f.url("/ui/");
      java.net.URI api = f.url("/api/previews");
      java.net.URI all = f.url("/api/previews?limit=1000");
      HttpResponse<byte[]> page = get(ui, true);
      byte[] rawPage = unzip(page);
      byte[] rawAll = get(all, false).body();
      org.eclipse.jetty.server.Server floor = floor(java.util.Map.of("/page.html", rawPage, "/all.json", rawAll));
      try {
        java.net.URI base = java.net.URI.create("http://127.0.0.1:"
            + ((org.eclipse.jetty.server.ServerConnector) floor.getConnectors()[0]).getLocalPort() + "/");
        java.net.URI floorPage = base.resolve("/page.html");
        java.net.URI floorJson = base.resolve("/all.json");
        List<Double> render = new ArrayList<>();
        List<Double> pageMs = new ArrayList<>();
        List<Double> floorPageMs = new ArrayList<>();
        List<Double> apiMs = new ArrayList<>();
        List<Double> allMs = new ArrayList<>();
        List<Double> floorJsonMs = new ArrayList<>();
        List<Double> livez = new ArrayList<>();
        int apiBytes = 0;
        for (int i = 0; i < WARMUP + ROUNDS; i++) {
          long t0 = System.nanoTime();
          HttpResponse<byte[]> p = get(ui, true);
          long t1 = System.nanoTime();
          get(floorPage, true);
          long t2 = System.nanoTime();
          HttpResponse<byte[]> a = get(api, true);
          long t3 = System.nanoTime();
          get(all, true);
          long t4 = System.nanoTime();
          get(floorJson, true);
          long t5 = System.nanoTime();
          http.send(HttpRequest.newBuilder(f.url("/livez")).build(), HttpResponse.BodyHandlers.ofByteArray());
          long t6 = System.nanoTime();
          if (i >= WARMUP) {
            String timing = p.headers().firstValue("Server-Timing").orElseThrow();
            render.add(Double.parseDouble(timing.substring(timing.indexOf("dur=") + 4)));
            pageMs.add((t1 - t0) / 1e6);
            floorPageMs.add((t2 - t1) / 1e6);
            apiMs.add((t3 - t2) / 1e6);
            allMs.add((t4 - t3) / 1e6);
            floorJsonMs.add((t5 - t4) / 1e6);
            livez.add((t6 - t5) / 1e6);
            apiBytes = unzip(a).length;
          }
        }
        return new Figures(n, pct(render, 50), pct(render, 90), pct(pageMs, 50), rawPage.length, page.body().length,
            pct(floorPageMs, 50), pct(apiMs, 50), pct(apiMs, 90), apiBytes, pct(allMs, 50), pct(allMs, 90), rawAll.length,
            pct(floorJsonMs, 50), pct(livez, 50), paint(f));
      } finally {
        floor.stop();
      }
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
