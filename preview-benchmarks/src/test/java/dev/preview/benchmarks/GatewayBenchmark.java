package dev.preview.benchmarks;

import dev.preview.core.AppTemplate;
import dev.preview.core.HealthCheck;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.server.gateway.GatewaySettings;
import dev.preview.server.gateway.PreviewGateway;
import dev.preview.spi.Environment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakePullRequestSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the gateway costs, against the same preview called directly, in one run: a {@code local}
 * preview runs {@link GatewayApp} (its own JVM), {@link PreviewGateway} routes to it by path
 * ({@code /pr/1/}). 16 keep-alive clients (raw sockets, one reused buffer each, so the clients cost
 * both arms the same) ask for a 2-byte and a 1 MiB response. A round of an arm is several slices
 * ({@code -Dbench.gateway.slices}, 10) alternating with the other arm's (A B B A ...), pooled per arm:
 * p50, p99 and requests/s per round. Then the wake on visit: a request to the sleeping preview until
 * the app's 200, against the provider's own {@code resume} plus the same health check polling, the
 * two arms interleaved.
 */
final class GatewayBenchmark {
  static final int CLIENTS = 16;
  static final String NAME = "Gateway at " + CLIENTS + " clients (path route to a local preview)";

  private GatewayBenchmark() {}

  static void run(Scale scale, Report report) throws Exception {
    int slices = scale.n(Integer.getInteger("bench.gateway.slices", 10), 2);
    int smallPer = scale.n(Integer.getInteger("bench.gateway.small", 40), 4);
    int bigPer = scale.n(Integer.getInteger("bench.gateway.big", 4), 1);
    Path tmp = Files.createTempDirectory("bench-gateway");
    PreviewKey key = PreviewKey.pr("acme/shop", 1);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    AppTemplate app = AppTemplate.builder()
        .command(java, "-Xmx64m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), GatewayApp.class.getName())
        .healthPath("/health").urlScheme("http").readinessInterval(Duration.ofMillis(25)).readinessTimeout(Duration.ofSeconds(60)).build();
    LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(tmp.resolve("state")).workDir(tmp)
        .startCheck(Duration.ofSeconds(30)).stopTimeout(Duration.ofSeconds(5)).build();
    FakePullRequestSource prs = new FakePullRequestSource();
    HealthCheck health = HealthCheck.http(Duration.ofSeconds(2));
    PreviewGateway gateway = PreviewGateway.builder().environment(local).app(app).healthCheck(health)
        .settings(GatewaySettings.builder().port(0).bind("127.0.0.1").pathPrefix("/pr/{number}/")
            .visitFlush(Duration.ofHours(1)).wakeHold(Duration.ofSeconds(60)).build())
        .build();
    PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(gateway.visitAware(local))
        .listener(gateway.listener()).pullRequests(prs).app(app).closeProviders(false).build();
    try {
      PullRequest pr = PullRequest.open(key, "f".repeat(40), "feature", "main");
      prs.put(pr);
      var deployed = orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(120, TimeUnit.SECONDS);
      if (deployed.state() != PreviewState.READY) {
        throw new IllegalStateException("the benchmark's preview is " + deployed.state() + ": " + deployed.message());
      }
      gateway.start();
      Environment env = local.find(key).orElseThrow();
      Map<String, Target> targets = new LinkedHashMap<>();
      targets.put("gateway", new Target(gateway.port(), "/pr/1"));
      targets.put("direct", new Target(env.url().getPort(), ""));

      for (Size size : List.of(new Size("2 B", "/health", 2, smallPer), new Size("1 MiB", "/big", GatewayApp.BIG, bigPer))) {
        latency(scale, report, targets, size, slices);
      }
      wake(scale, report, local, gateway, key, health);
      report.note(NAME, "a round of an arm: " + slices + " slices of " + CLIENTS + " keep-alive clients x " + smallPer
          + " (2 B) or " + bigPer + " (1 MiB) requests, the arms' slices alternating (A B B A ...), pooled per arm; the clients, the"
          + " gateway and the app share the same " + Runtime.getRuntime().availableProcessors() + " cores, so requests/s is what"
          + " the whole machine does through the gateway (the app's own JVM included), against the same without it.");
    } finally {
      gateway.close();
      orchestrator.close();
      try {
        local.delete(key);
      } catch (RuntimeException ignored) {
        // best effort
      }
    }
  }

  record Target(int port, String prefix) {}

  record Size(String name, String path, int bytes, int perClient) {}

  /** One slice: every request's latency in ms, and the slice's wall time. */
  record Slice(double[] millis, double seconds) {}

  private static void latency(Scale scale, Report report, Map<String, Target> targets, Size size, int slices) throws Exception {
    List<String> names = new ArrayList<>(targets.keySet());
    Map<String, List<Double>> p50 = new LinkedHashMap<>();
    Map<String, List<Double>> p99 = new LinkedHashMap<>();
    Map<String, List<Double>> rps = new LinkedHashMap<>();
    Map<String, List<double[]>> kept = new LinkedHashMap<>();
    for (int r = 0; r < scale.warmup() + scale.rounds(); r++) {
      Map<String, List<Slice>> round = new LinkedHashMap<>();
      for (int m = 0; m < slices; m++) {
        List<String> order = (r * slices + m) % 2 == 0 ? names : List.of(names.get(1), names.get(0));
        for (String n : order) {
          Target t = targets.get(n);
          round.computeIfAbsent(n, k -> new ArrayList<>()).add(load(t.port(), t.prefix() + size.path(), size.perClient(), size.bytes()));
        }
      }
      if (r < scale.warmup()) {
        continue;
      }
      for (String n : names) {
        List<Slice> s = round.get(n);
        double[] all = s.stream().flatMapToDouble(x -> Arrays.stream(x.millis())).sorted().toArray();
        double seconds = s.stream().mapToDouble(Slice::seconds).sum();
        p50.computeIfAbsent(n, k -> new ArrayList<>()).add(Interleaved.percentile(all, 0.5));
        p99.computeIfAbsent(n, k -> new ArrayList<>()).add(Interleaved.percentile(all, 0.99));
        rps.computeIfAbsent(n, k -> new ArrayList<>()).add(all.length / seconds);
        kept.computeIfAbsent(n, k -> new ArrayList<>()).add(all);
      }
    }
    String subject = "through PreviewGateway";
    String floor = "direct to the app";
    report.add(new Report.Figure(NAME, size.name() + " response: p50", "ms", false, subject, p50.get("gateway"), floor, p50.get("direct"), null));
    report.add(new Report.Figure(NAME, size.name() + " response: p99", "ms", false, subject, p99.get("gateway"), floor, p99.get("direct"), null));
    report.add(new Report.Figure(NAME, size.name() + " response: requests/s", "req/s", true, subject, rps.get("gateway"), floor,
        rps.get("direct"), null));
    double[] gAll = kept.get("gateway").stream().flatMapToDouble(Arrays::stream).sorted().toArray();
    double[] dAll = kept.get("direct").stream().flatMapToDouble(Arrays::stream).sorted().toArray();
    report.note(NAME, String.format(Locale.ROOT, "%s: added latency (gateway - direct, medians over the rounds) p50 %+.2f ms, p99 %+.2f ms;"
            + " p99 ratio per round pair %s; all rounds' requests pooled: p99 %.2f ms vs %.2f ms (%d requests per arm)",
        size.name(), Interleaved.median(p50.get("gateway")) - Interleaved.median(p50.get("direct")),
        Interleaved.median(p99.get("gateway")) - Interleaved.median(p99.get("direct")),
        range(p99.get("gateway"), p99.get("direct")), Interleaved.percentile(gAll, 0.99), Interleaved.percentile(dAll, 0.99), gAll.length));
  }

  private static String range(List<Double> subject, List<Double> floor) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(subject.size(), floor.size()); i++) {
      ratios.add(subject.get(i) / floor.get(i));
    }
    return String.format(Locale.ROOT, "%.2fx to %.2fx (median %.2fx)", Interleaved.min(ratios), Interleaved.max(ratios),
        Interleaved.median(ratios));
  }

  /**
   * Wake on visit, interleaved with the provider's own wake: both start from the preview suspended
   * ({@code local.suspend}, not timed); the visit is an API request through the gateway (held until
   * the app is healthy) until its 200, the floor {@code local.resume} plus the gateway's own health
   * check polled as the gateway polls it (25 ms, doubling to 500 ms).
   */
  private static void wake(Scale scale, Report report, LocalEnvironmentProvider local, PreviewGateway gateway, PreviewKey key,
      HealthCheck health) throws Exception {
    Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
    arms.put("visit", () -> {
      local.suspend(key);
      gateway.refreshNow();
      long t0 = System.nanoTime();
      Slice one = load(gateway.port(), "/pr/1/health", 1, 2, 1);
      if (one.millis().length != 1) {
        throw new IllegalStateException("no answer");
      }
      return (System.nanoTime() - t0) / 1e6;
    });
    arms.put("resume", () -> {
      local.suspend(key);
      long t0 = System.nanoTime();
      Environment e = local.resume(key);
      URI url = e.url().resolve("health");
      long pause = 25;
      while (!healthy(health, url)) {
        Thread.sleep(pause);
        pause = Math.min(pause * 2, 500);
      }
      return (System.nanoTime() - t0) / 1e6;
    });
    Map<String, List<Double>> out = Interleaved.run(scale.n(1, 0), scale.rounds(), arms);
    report.add(new Report.Figure(NAME, "wake on visit", "ms", false, "request to the sleeping preview until the app's 200",
        out.get("visit"), "local resume + the same health check", out.get("resume"), null));
  }

  private static boolean healthy(HealthCheck health, URI url) {
    try {
      return health.healthy(url);
    } catch (Exception e) {
      return false;
    }
  }

  private static Slice load(int port, String path, int perClient, int expectBytes) throws Exception {
    return load(port, path, perClient, expectBytes, CLIENTS);
  }

  /** {@code clients} clients each sending {@code perClient} GETs of {@code path} on one keep-alive connection. */
  private static Slice load(int port, String path, int perClient, int expectBytes, int clients) throws Exception {
    double[] all = new double[clients * perClient];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch ready = new CountDownLatch(clients);
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    byte[] head = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAccept: */*\r\nUser-Agent: bench\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    for (int c = 0; c < clients; c++) {
      int client = c;
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[64 * 1024];
        try (Socket s = new Socket("127.0.0.1", port)) {
          s.setTcpNoDelay(true);
          s.setSoTimeout(120_000);
          OutputStream out = s.getOutputStream();
          InputStream in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
          ready.countDown();
          start.await();
          for (int i = 0; i < perClient; i++) {
            long t0 = System.nanoTime();
            out.write(head);
            out.flush();
            long[] statusAndBytes = readResponse(in, buffer);
            all[client * perClient + i] = (System.nanoTime() - t0) / 1e6;
            if (statusAndBytes[0] != 200 || statusAndBytes[1] != expectBytes) {
              throw new IllegalStateException("HTTP " + statusAndBytes[0] + " with " + statusAndBytes[1] + " bytes from port " + port
                  + path + " (expected 200 with " + expectBytes + ")");
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
          ready.countDown();
        }
      });
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    ready.await(60, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    start.countDown();
    for (Thread t : threads) {
      t.join(TimeUnit.MINUTES.toMillis(5));
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (failure.get() != null) {
      throw new IllegalStateException("load failed: " + failure.get(), failure.get());
    }
    return new Slice(all, seconds);
  }

  /** Reads one HTTP/1.1 response (Content-Length or chunked body, read into {@code buffer} and dropped): status, body bytes. */
  private static long[] readResponse(InputStream in, byte[] buffer) throws IOException {
    String status = line(in);
    long length = -1;
    boolean chunked = false;
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      int colon = h.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = h.substring(0, colon).trim();
      String value = h.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("Content-Length")) {
        length = Long.parseLong(value);
      } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
        chunked = true;
      }
    }
    long read = 0;
    if (chunked) {
      for (long size = Long.parseLong(line(in).split(";")[0].trim(), 16); size > 0; size = Long.parseLong(line(in).split(";")[0].trim(), 16)) {
        skip(in, size, buffer);
        read += size;
        line(in);
      }
      for (String trailer = line(in); !trailer.isEmpty(); trailer = line(in)) {
        // trailers: none expected
      }
    } else if (length > 0) {
      skip(in, length, buffer);
      read = length;
    }
    return new long[] {Integer.parseInt(status.split(" ")[1]), read};
  }

  private static void skip(InputStream in, long n, byte[] buffer) throws IOException {
    long left = n;
    while (left > 0) {
      int got = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (got < 0) {
        throw new IOException("connection closed with " + left + " bytes of the body to come");
      }
      left -= got;
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }
}
