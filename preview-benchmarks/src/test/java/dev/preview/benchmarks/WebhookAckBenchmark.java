package dev.preview.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.server.OperatorLog;
import dev.preview.server.WebhookServer;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Webhook ack latency at 16 clients on keep-alive connections, each delivery a signed ~25 KB GitHub
 * {@code pull_request} with a new delivery id: {@link WebhookServer} (handing every event to an
 * orchestrator over the testkit fakes) vs the floor, a minimal Jetty server doing the same verify
 * (HMAC with a reused {@code Mac}, {@code readTree}) and answering 202. Measured idle, and while
 * {@code local} deploys run: a loop that deploys and tears down previews whose process is a JVM
 * start (the CPU a real app's start costs), on the same 2 cores. p50 and p99 per round; a round of
 * an arm is several short slices alternating with the other arm's ({@code -Dbench.ack.slices}, 40;
 * {@code -Dbench.ack.deliveries} per client and slice, 50), pooled, so a passing disturbance
 * lands on both arms alike. The clients' requests are signed once up front (no client HMAC while
 * measuring); the same bytes go to both servers.
 */
final class WebhookAckBenchmark {
  static final String SECRET = "bench-webhook-secret";
  static final int CLIENTS = 16;

  private WebhookAckBenchmark() {}

  static void run(Scale scale, Report report) throws Exception {
    // per client and slice; slices per round and arm
    int perClient = scale.n(Integer.getInteger("bench.ack.deliveries", 50), 8);
    int slices = scale.n(Integer.getInteger("bench.ack.slices", 40), 2);
    Path tmp = Files.createTempDirectory("bench-ack");
    FakePullRequestSource prs = new FakePullRequestSource();
    for (int n = 1; n <= 500; n++) {
      prs.put(PullRequest.open(PreviewKey.pr("acme/shop", n), "6dcb09b5b57875f334f61aebed695e2e4193db5e", "feature/basket", "main"));
    }
    PreviewOrchestrator fakes = PreviewOrchestrator.builder().environment(new FakeEnvironmentProvider()).pullRequests(prs)
        .app(AppTemplate.builder().image("registry.example/shop:latest").readinessTimeout(Duration.ofMillis(300)).build())
        .healthCheck(url -> true).build();
    WebhookServer subject = WebhookServer.builder().source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
        .orchestrator(fakes).bind("127.0.0.1").port(0).log(OperatorLog.text()).start();
    Server floor = floorServer();
    int floorPort = ((ServerConnector) floor.getConnectors()[0]).getLocalPort();
    List<byte[]> requests = new ArrayList<>();
    List<String> signatures = new ArrayList<>();
    for (int n = 1; n <= 500; n++) {
      requests.add(GitHubPayload.pullRequest("synchronize", "acme/shop", n, "6dcb09b5b57875f334f61aebed695e2e4193db5e"));
      signatures.add(GitHubPayload.signature(SECRET, requests.get(n - 1))); // signed once: the clients do no HMAC in the rounds
    }
    AtomicInteger delivery = new AtomicInteger();
    try {
      for (boolean deploying : new boolean[] {false, true}) {
        DeployLoad load = deploying ? new DeployLoad(tmp, scale.full() ? 2 : 1) : null;
        try {
          if (load != null) {
            load.awaitFirst();
          }
          Map<String, List<Double>> p50 = new LinkedHashMap<>();
          Map<String, List<Double>> p99 = new LinkedHashMap<>();
          Map<String, List<double[]>> kept = new LinkedHashMap<>();
          List<String> names = List.of("webhook", "floor");
          Map<String, Integer> ports = Map.of("webhook", subject.port(), "floor", floorPort);
          Map<String, String> paths = Map.of("webhook", "/webhooks/github", "floor", "/");
          // A round is `slices` short load runs per arm, A B B A A B..., pooled per arm: whatever
          // disturbs the machine for a moment (a GC, a deploy's JVM start) lands on both arms alike.
          for (int r = 0; r < scale.warmup() + scale.rounds(); r++) {
            Map<String, List<double[]>> round = new LinkedHashMap<>();
            for (int m = 0; m < slices; m++) {
              List<String> order = (r * slices + m) % 2 == 0 ? names : List.of(names.get(1), names.get(0));
              for (String n : order) {
                round.computeIfAbsent(n, k -> new ArrayList<>())
                    .add(load(ports.get(n), paths.get(n), requests, signatures, perClient, delivery, 202));
              }
            }
            if (r < scale.warmup()) {
              continue;
            }
            for (String n : names) {
              double[] acks = pooled(round.get(n));
              p50.computeIfAbsent(n, k -> new ArrayList<>()).add(Interleaved.percentile(acks, 0.5));
              p99.computeIfAbsent(n, k -> new ArrayList<>()).add(Interleaved.percentile(acks, 0.99));
              kept.computeIfAbsent(n, k -> new ArrayList<>()).add(acks);
            }
          }
          String when = deploying ? "while local deploys run" : "idle";
          String b = "Webhook ack at " + CLIENTS + " clients (signed ~" + requests.get(0).length / 1024 + " KB pull_request)";
          report.add(new Report.Figure(b, "ack p50, " + when, "ms", false, "WebhookServer", p50.get("webhook"),
              "minimal Jetty + same verify", p50.get("floor"), null));
          report.add(new Report.Figure(b, "ack p99, " + when, "ms", false, "WebhookServer", p99.get("webhook"),
              "minimal Jetty + same verify", p99.get("floor"), deploying ? "<= 1.5x" : null));
          report.note(b, spread(when, p99.get("webhook"), p99.get("floor"), kept.get("webhook"), kept.get("floor")));
          if (load != null) {
            report.note(b, "while deploying: " + load.deploys.get() + " local deploys + teardowns ran during the rounds ("
                + load.threads + " loops; each preview's process is a JVM start, then sleeps)" + (load.failure.get() == null ? ""
                : "; a deploy failed: " + load.failure.get()));
          }
        } finally {
          if (load != null) {
            load.close();
          }
        }
      }
      report.note("Webhook ack at " + CLIENTS + " clients", "a round of an arm: " + slices + " slices of " + CLIENTS
          + " keep-alive clients x " + perClient + " deliveries, the arms' slices alternating (A B B A A B ...), pooled per arm;"
          + " p50 and p99 per round; every delivery a new delivery id, PR numbers cycling over 500 open PRs"
          + " (WebhookServer hands each one to the orchestrator, which deploys it on the fakes).");
    } finally {
      subject.close();
      fakes.close();
      floor.stop();
    }
  }

  /**
   * How far one round's p99 ratio strays: the ratio of each round pair (round i of the subject over
   * round i of the floor, run back to back), and the p99 of all rounds' acks pooled per arm.
   */
  static String spread(String when, List<Double> subject, List<Double> floor, List<double[]> subjectAcks, List<double[]> floorAcks) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(subject.size(), floor.size()); i++) {
      ratios.add(subject.get(i) / floor.get(i));
    }
    double ps = Interleaved.percentile(pooled(subjectAcks), 0.99);
    double pf = Interleaved.percentile(pooled(floorAcks), 0.99);
    return String.format(java.util.Locale.ROOT, "ack p99 %s: per round pair %.2fx to %.2fx (median %.2fx); all rounds' acks pooled: "
        + "%.1f ms vs %.1f ms (%.2fx, %d acks per arm)", when, Interleaved.min(ratios), Interleaved.max(ratios), Interleaved.median(ratios),
        ps, pf, ps / pf, pooled(subjectAcks).length);
  }

  private static double[] pooled(List<double[]> rounds) {
    double[] all = rounds.stream().flatMapToDouble(Arrays::stream).toArray();
    Arrays.sort(all);
    return all;
  }

  /** The floor: Jetty, one handler reading the body, HMAC with a reused Mac per thread, readTree, 202. */
  static Server floorServer() throws Exception {
    QueuedThreadPool pool = new QueuedThreadPool(20, 4);
    pool.setDaemon(true);
    Server server = new Server(pool);
    ServerConnector connector = new ServerConnector(server, 1, 1);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ObjectMapper json = new ObjectMapper();
    ThreadLocal<Mac> macs = ThreadLocal.withInitial(() -> {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return mac;
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
    byte[] accepted = "{\"status\":\"accepted\"}".getBytes(StandardCharsets.UTF_8);
    byte[] denied = "{\"status\":\"rejected\"}".getBytes(StandardCharsets.UTF_8);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        ByteBuffer buf = Content.Source.asByteBuffer(request);
        byte[] body = new byte[buf.remaining()];
        buf.get(body);
        String sig = request.getHeaders().get("X-Hub-Signature-256");
        boolean ok = sig != null && sig.startsWith("sha256=")
            && MessageDigest.isEqual(macs.get().doFinal(body), HexFormat.of().parseHex(sig.substring(7)));
        if (ok) {
          json.readTree(body);
        }
        response.setStatus(ok ? 202 : 401);
        response.getHeaders().put("Content-Type", "application/json");
        byte[] out = ok ? accepted : denied;
        response.getHeaders().put("Content-Length", out.length);
        response.write(true, ByteBuffer.wrap(out), callback);
        return true;
      }
    });
    server.start();
    return server;
  }

  /** Ack latencies in ms of CLIENTS clients each sending {@code perClient} deliveries on one keep-alive connection, sorted. */
  static double[] load(int port, String path, List<byte[]> bodies, List<String> signatures, int perClient, AtomicInteger delivery,
      int expect) throws Exception {
    double[] all = new double[CLIENTS * perClient];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      Thread t = new Thread(() -> {
        try (Socket s = new Socket("127.0.0.1", port)) {
          s.setTcpNoDelay(true);
          OutputStream out = s.getOutputStream();
          InputStream in = new BufferedInputStream(s.getInputStream());
          start.await();
          for (int i = 0; i < perClient; i++) {
            int d = delivery.incrementAndGet();
            byte[] body = bodies.get(d % bodies.size());
            String signature = signatures.get(d % bodies.size());
            String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: bench-" + d + "\r\n"
                + "X-Hub-Signature-256: " + signature + "\r\nContent-Length: " + body.length + "\r\n\r\n";
            long t0 = System.nanoTime();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            int status = readResponse(in);
            all[client * perClient + i] = (System.nanoTime() - t0) / 1e6;
            if (status != expect && status != 200) {
              throw new IllegalStateException("HTTP " + status + " from port " + port);
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      t.start();
      threads.add(t);
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(TimeUnit.MINUTES.toMillis(5));
    }
    if (failure.get() != null) {
      throw new IllegalStateException("load failed: " + failure.get(), failure.get());
    }
    Arrays.sort(all);
    return all;
  }

  /** Reads one HTTP/1.1 response with a Content-Length body; returns its status. */
  private static int readResponse(InputStream in) throws IOException {
    String status = line(in);
    int length = 0;
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      int colon = h.indexOf(':');
      if (colon > 0 && h.substring(0, colon).equalsIgnoreCase("Content-Length")) {
        length = Integer.parseInt(h.substring(colon + 1).trim());
      }
    }
    in.readNBytes(length);
    return Integer.parseInt(status.split(" ")[1]);
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

  /** Real {@code local} deploys and teardowns in a loop, until closed. */
  static final class DeployLoad implements AutoCloseable {
    final PreviewOrchestrator orchestrator;
    final FakePullRequestSource prs = new FakePullRequestSource();
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger deploys = new AtomicInteger();
    final AtomicReference<String> failure = new AtomicReference<>();
    final CountDownLatch first = new CountDownLatch(1);
    final List<Thread> loops = new ArrayList<>();
    final int threads;

    DeployLoad(Path dir, int threads) throws IOException {
      this.threads = threads;
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(dir.resolve("state-" + System.nanoTime()))
          .workDir(dir).startCheck(Duration.ofMillis(100)).stopTimeout(Duration.ofSeconds(2)).build();
      orchestrator = PreviewOrchestrator.builder().environment(local).pullRequests(prs)
          .app(AppTemplate.builder().command("sh", "-c", "'" + java + "' -Xshare:auto -XX:TieredStopAtLevel=1 -version >/dev/null 2>&1; exec sleep 120")
              .readinessTimeout(Duration.ofSeconds(30)).build())
          .healthCheck(url -> true).parallelism(threads).build();
      for (int t = 0; t < threads; t++) {
        int base = 10_000 * (t + 1);
        Thread loop = new Thread(() -> {
          int n = base;
          while (!stop.get()) {
            PullRequest pr = PullRequest.open(PreviewKey.pr("acme/load", ++n), "a".repeat(40), "f", "main");
            prs.put(pr);
            try {
              orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(60, TimeUnit.SECONDS);
              prs.close(pr.key());
              orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pr.withState(PullRequest.State.CLOSED)))
                  .get(60, TimeUnit.SECONDS);
              deploys.incrementAndGet();
            } catch (Exception e) {
              failure.compareAndSet(null, e.toString());
            }
            first.countDown();
          }
        }, "deploy-load-" + t);
        loop.setDaemon(true);
        loop.start();
        loops.add(loop);
      }
    }

    void awaitFirst() throws InterruptedException {
      first.await(120, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      for (Thread t : loops) {
        t.join(120_000);
      }
      orchestrator.close();
    }
  }
}
