package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Old server (JDK HttpServer, before this change) vs new server (Jetty), same signed
 * {@code pull_request} payloads, same run: 16 client threads on keep-alive connections, each
 * delivery a new delivery id; ack latency p50/p99 and deliveries/s, and the server JVM's RSS idle and
 * after 10,000 deliveries. Each server runs in its own JVM ({@link BenchServerMain}, same heap
 * options); the clients run here. Opt-in: {@code -Dpreview.benchmark=true}; figures in
 * {@code target/webhook-server-benchmark.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true")
class WebhookServerBenchmark {
  static final int CLIENTS = 16;
  static final int WARMUP = 3_000;
  static final int MEASURED = 10_000;

  record Result(String server, double p50Ms, double p99Ms, double perSecond, long rssIdleKb, long rssAfterKb) {}

  @Test
  void oldVsNewServer() throws Exception {
    List<Result> results = new ArrayList<>();
    // alternate, and keep the second round of each: both JITs warm, both orders tried
    for (String which : List.of("old", "new", "old", "new")) {
      results.add(run(which));
    }
    Result oldR = results.get(2);
    Result newR = results.get(3);
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "webhook server benchmark: %d clients, %d signed pull_request deliveries (after %d warm-up), same run%n",
        CLIENTS, MEASURED, WARMUP));
    for (Result r : results) {
      out.append(String.format(Locale.ROOT, "  %-3s ack p50 %.2f ms, p99 %.2f ms, %.0f deliveries/s, RSS idle %d MB, after 10,000 deliveries %d MB%n",
          r.server(), r.p50Ms(), r.p99Ms(), r.perSecond(), r.rssIdleKb() / 1024, r.rssAfterKb() / 1024));
    }
    out.append(String.format(Locale.ROOT, "  ratio new/old (second rounds): p50 %.2f, p99 %.2f, deliveries/s %.2f, RSS after %.2f%n",
        newR.p50Ms() / oldR.p50Ms(), newR.p99Ms() / oldR.p99Ms(), newR.perSecond() / oldR.perSecond(),
        (double) newR.rssAfterKb() / oldR.rssAfterKb()));
    System.out.print(out);
    Path file = Path.of("target", "webhook-server-benchmark.txt");
    Files.createDirectories(file.getParent());
    Files.writeString(file, out.toString());
    assertThat(newR.perSecond()).isPositive();
  }

  Result run(String which) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx256m", "-Xms64m", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-cp", System.getProperty("java.class.path"), BenchServerMain.class.getName(), which)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      BufferedReader from = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      PrintWriter to = new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8);
      int port = Integer.parseInt(value(from, "port"));
      to.println("rss");
      long idle = Long.parseLong(value(from, "rss"));
      load(port, WARMUP, new long[WARMUP]);
      long[] latencies = new long[MEASURED];
      long t0 = System.nanoTime();
      load(port, MEASURED, latencies);
      double seconds = (System.nanoTime() - t0) / 1e9;
      to.println("rss");
      long after = Long.parseLong(value(from, "rss"));
      to.println("quit");
      Arrays.sort(latencies);
      return new Result(which, latencies[MEASURED / 2] / 1e6, latencies[(int) (MEASURED * 0.99)] / 1e6, MEASURED / seconds, idle, after);
    } finally {
      p.destroy();
      p.waitFor();
    }
  }

  static String value(BufferedReader from, String name) throws Exception {
    for (String line; (line = from.readLine()) != null; ) {
      if (line.startsWith(name + " ")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    throw new IllegalStateException("the server process ended before saying " + name);
  }

  static final AtomicInteger IDS = new AtomicInteger();

  /** {@code n} deliveries over {@link #CLIENTS} keep-alive connections; each latency into {@code latencies}. */
  static void load(int port, int n, long[] latencies) throws Exception {
    byte[] body = Deliveries.opened();
    String signature = Deliveries.sign(body);
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(CLIENTS);
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int c = 0; c < CLIENTS; c++) {
      Thread t = new Thread(() -> {
        try (Socket s = new Socket("127.0.0.1", port)) {
          s.setTcpNoDelay(true);
          OutputStream out = s.getOutputStream();
          InputStream in = s.getInputStream();
          for (int i; (i = next.getAndIncrement()) < n; ) {
            String head = "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: pull_request\r\n"
                + "X-GitHub-Delivery: bench-" + IDS.incrementAndGet() + "\r\nX-Hub-Signature-256: " + signature + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
            long t0 = System.nanoTime();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            int status = readResponse(in);
            latencies[i] = System.nanoTime() - t0;
            if (status != 202) {
              throw new IllegalStateException("answered " + status);
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        } finally {
          done.countDown();
        }
      });
      t.start();
    }
    done.await();
    if (!failures.isEmpty()) {
      throw new AssertionError("deliveries failed: " + failures.get(0), failures.get(0));
    }
  }

  /** Reads one HTTP/1.1 response with a Content-Length; returns its status. */
  static int readResponse(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    int last4 = 0;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IllegalStateException("connection closed");
      }
      head.append((char) b);
      last4 = (last4 << 8) | b;
      if (last4 == 0x0d0a0d0a) {
        break;
      }
    }
    String h = head.toString();
    int status = Integer.parseInt(h.substring(9, 12));
    int length = 0;
    for (String line : h.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(length);
    return status;
  }
}
