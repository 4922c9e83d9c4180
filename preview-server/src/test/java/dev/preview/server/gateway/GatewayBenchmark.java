package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the gateway costs, measured in one run against the same preview (the {@code local} provider
 * running {@link GatewayTestApp}): 16 keep-alive clients call it directly and through the gateway
 * (path route), small and 1 MB responses: p50/p99 and requests/s, and the added latency; then the
 * time of a wake on visit (a request to a suspended preview until the app's answer) against the
 * provider's own {@code resume} plus the same health check. Opt-in: {@code -Dpreview.benchmark=true};
 * figures in {@code target/gateway-benchmark.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true")
class GatewayBenchmark {
  static final int CLIENTS = 16;

  @TempDir Path dir;

  record Run(String name, long[] nanos, double seconds) {
    double p(double q) {
      long[] s = nanos.clone();
      Arrays.sort(s);
      return s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)] / 1e6;
    }

    double rps() {
      return nanos.length / seconds;
    }
  }

  @Test
  void gatewayVersusDirect() throws Exception {
    StringBuilder out = new StringBuilder();
    try (GatewayRig rig = new GatewayRig(dir, Clock.systemUTC(), b -> b.wakeHold(Duration.ofSeconds(60)), PreviewPolicy.defaults(), p -> p)) {
      Environment env = rig.open(1, "f".repeat(40));
      URI direct = env.url();
      URI through = URI.create("http://127.0.0.1:" + rig.gateway.port() + "/pr/1/");
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
      out.append(String.format(Locale.ROOT, "gateway benchmark: %d clients, HTTP/1.1 keep-alive, %d cores, same run, same preview%n",
          CLIENTS, Runtime.getRuntime().availableProcessors()));
      out.append("load average at the start: " + Files.readString(Path.of("/proc/loadavg")).trim() + "\n");
      run(client, direct.resolve("health"), 3000, 2);
      run(client, through.resolve("health"), 3000, 2);
      for (String[] c : new String[][] {{"small (2 B)", "health", "8000"}, {"1 MB", "big?bytes=1048576", "480"}}) {
        int n = Integer.parseInt(c[2]);
        Run d = run(client, direct.resolve(c[1]), n, c[1].startsWith("big") ? 1_048_576 : 2);
        Run g = run(client, through.resolve(c[1]), n, c[1].startsWith("big") ? 1_048_576 : 2);
        out.append(String.format(Locale.ROOT, "%-12s direct:  p50 %7.2f ms  p99 %7.2f ms  %8.0f req/s%n", c[0], d.p(0.5), d.p(0.99), d.rps()));
        out.append(String.format(Locale.ROOT, "%-12s gateway: p50 %7.2f ms  p99 %7.2f ms  %8.0f req/s%n", c[0], g.p(0.5), g.p(0.99), g.rps()));
        out.append(String.format(Locale.ROOT, "%-12s added:   p50 %+7.2f ms  p99 %+7.2f ms  throughput x%.2f of direct%n", c[0],
            g.p(0.5) - d.p(0.5), g.p(0.99) - d.p(0.99), g.rps() / d.rps()));
      }

      // wake on visit vs the provider's own resume + health check, alternating, 5 each
      PreviewKey key = GatewayRig.pr(1);
      List<Double> own = new ArrayList<>();
      List<Double> visit = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        rig.local.suspend(key);
        long t0 = System.nanoTime();
        Environment e = rig.local.resume(key);
        awaitHealthy(client, e.url().resolve("health"));
        own.add((System.nanoTime() - t0) / 1e6);

        rig.local.suspend(key);
        rig.gateway.refreshNow();
        long t1 = System.nanoTime();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(through.resolve("health")).build(), HttpResponse.BodyHandlers.ofString());
        visit.add((System.nanoTime() - t1) / 1e6);
        assertThat(r.statusCode()).isEqualTo(200);
      }
      double ownMedian = median(own);
      double visitMedian = median(visit);
      out.append(String.format(Locale.ROOT, "wake on visit: median %.0f ms (runs %s) vs resume + health check %.0f ms (runs %s): x%.2f%n",
          visitMedian, rounded(visit), ownMedian, rounded(own), visitMedian / ownMedian));
    }
    out.append("load average at the end: " + Files.readString(Path.of("/proc/loadavg")).trim() + "\n");
    System.out.print(out);
    Path file = Path.of("target", "gateway-benchmark.txt");
    Files.createDirectories(file.getParent());
    Files.writeString(file, out.toString());
  }

  private static Run run(HttpClient client, URI url, int total, int expectedBytes) throws Exception {
    long[] nanos = new long[total];
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    int per = total / CLIENTS;
    for (int c = 0; c < CLIENTS; c++) {
      int base = c * per;
      done.add(pool.submit(() -> {
        go.await();
        HttpRequest req = HttpRequest.newBuilder(url).build();
        for (int i = 0; i < per; i++) {
          long t = System.nanoTime();
          HttpResponse<byte[]> r = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
          nanos[base + i] = System.nanoTime() - t;
          if (r.statusCode() != 200 || r.body().length != expectedBytes) {
            throw new AssertionError(url + ": " + r.statusCode() + ", " + r.body().length + " bytes");
          }
        }
        return null;
      }));
    }
    long start = System.nanoTime();
    go.countDown();
    for (Future<?> f : done) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return new Run(url.toString(), Arrays.copyOf(nanos, per * CLIENTS), seconds);
  }

  /** The same polling as the gateway's wake: 25 ms doubling to 500 ms. */
  private static void awaitHealthy(HttpClient client, URI health) throws Exception {
    long pause = 25;
    while (true) {
      try {
        if (client.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException ignored) {
        // not yet
      }
      Thread.sleep(pause);
      pause = Math.min(pause * 2, 500);
    }
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    s.sort(Double::compare);
    return s.get(s.size() / 2);
  }

  private static String rounded(List<Double> v) {
    return v.stream().map(d -> Long.toString(Math.round(d))).toList().toString();
  }
}
