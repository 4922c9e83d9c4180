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
 * Old server (JDK HttpServer, before this change: {@link JdkWebhookServer}) vs new server (Jetty),
 * same signed {@code pull_request} payload, same run: 16 client threads on keep-alive connections,
 * each delivery a new delivery id; ack latency p50/p99 and deliveries/s, and the server JVM's RSS
 * idle and after 10,000 deliveries. Each server runs in its own JVM ({@link BenchServerMain}, same
 * heap and GC options), all started up front; the clients run here. A third arm, {@code new-nolog},
 * is the Jetty server writing no delivery line, to tell the operator log's cost from the server's.
 * After a warm-up of each, the measured load goes in slices that alternate between them (A B C C B A,
 * the order rotated each round), so all see the same machine (this one is shared); the ratios are of
 * the pooled latencies, and the spread of the per-round ratios is printed beside them. Opt-in:
 * {@code -Dpreview.benchmark=true}; figures in {@code target/webhook-server-benchmark.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true")
class WebhookServerBenchmark {
  static final int CLIENTS = 16;
  static final int WARMUP = 2_000;
  static final int ROUNDS = 8;
  static final int SLICE = 500;
  /** Deliveries per server in all: the warm-up and two slices per round (10,000 with the defaults). */
  static final int TOTAL = WARMUP + ROUNDS * 2 * SLICE;

  /** One server JVM, its measured latencies and the time its measured slices took. */
  static final class Arm implements AutoCloseable {
    final String name;
    final Process process;
    final BufferedReader from;
    final PrintWriter to;
    final int port;
    final long[] latencies = new long[ROUNDS * 2 * SLICE];
    int measured;
    long nanos;
    long rssIdleKb;
    long rssAfterKb;

    Arm(String name) throws Exception {
      this.name = name;
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      this.process = new ProcessBuilder(java, "-Xmx256m", "-Xms64m", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
          "-cp", System.getProperty("java.class.path"), BenchServerMain.class.getName(), name)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      this.from = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.to = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      this.port = Integer.parseInt(value(from, "port"));
    }

    long rssKb() throws Exception {
      to.println("rss");
      return Long.parseLong(value(from, "rss"));
    }

    /** One measured slice; returns its own p50 and p99 (ms) for the spread. */
    double[] slice() throws Exception {
      long[] l = new long[SLICE];
      long t0 = System.nanoTime();
      load(port, SLICE, l);
      nanos += System.nanoTime() - t0;
      System.arraycopy(l, 0, latencies, measured, SLICE);
      measured += SLICE;
      Arrays.sort(l);
      return new double[] {l[SLICE / 2] / 1e6, l[(int) (SLICE * 0.99)] / 1e6};
    }

    double p(double q) {
      long[] sorted = Arrays.copyOf(latencies, measured);
      Arrays.sort(sorted);
      return sorted[Math.min(measured - 1, (int) (measured * q))] / 1e6;
    }

    double perSecond() {
      return measured / (nanos / 1e9);
    }

    @Override
    public void close() throws Exception {
      to.println("quit");
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  @Test
  void oldVsNewServer() throws Exception {
    List<Arm> arms = new ArrayList<>();
    try {
      for (String name : List.of("old", "new", "new-nolog")) {
        arms.add(new Arm(name));
      }
      for (Arm a : arms) {
        a.rssIdleKb = a.rssKb();
      }
      for (Arm a : arms) {
        load(a.port, WARMUP, new long[WARMUP]);
      }
      // per round, each arm's two slices (p50, p99 summed) to compare with the old one's of the same round
      List<double[][]> rounds = new ArrayList<>();
      for (int r = 0; r < ROUNDS; r++) {
        List<Arm> order = new ArrayList<>(arms);
        java.util.Collections.rotate(order, r);
        double[][] sums = new double[arms.size()][2];
        List<Arm> there = new ArrayList<>(order);
        List<Arm> back = new ArrayList<>(order);
        java.util.Collections.reverse(back);
        there.addAll(back); // A B C C B A: each arm once early and once late in the round
        for (Arm a : there) {
          double[] pq = a.slice();
          sums[arms.indexOf(a)][0] += pq[0];
          sums[arms.indexOf(a)][1] += pq[1];
        }
        rounds.add(sums);
      }
      for (Arm a : arms) {
        a.rssAfterKb = a.rssKb();
      }

      Arm old = arms.get(0);
      StringBuilder out = new StringBuilder();
      out.append(String.format(Locale.ROOT, "webhook server benchmark: %d clients on keep-alive connections, signed %d-byte pull_request deliveries,"
          + " each a new delivery id; per server %d warm-up then %d rounds of 2 x %d, alternating between the servers (%,d in all); same run%n",
          CLIENTS, Deliveries.opened().length, WARMUP, ROUNDS, SLICE, TOTAL));
      for (Arm a : arms) {
        out.append(String.format(Locale.ROOT, "  %-9s ack p50 %.2f ms, p99 %.2f ms, %.0f deliveries/s; RSS idle %.1f MB, after %,d deliveries %.1f MB%n",
            a.name, a.p(0.50), a.p(0.99), a.perSecond(), a.rssIdleKb / 1024.0, TOTAL, a.rssAfterKb / 1024.0));
      }
      for (int i = 1; i < arms.size(); i++) {
        Arm a = arms.get(i);
        int idx = i;
        double[] p50s = rounds.stream().mapToDouble(x -> x[idx][0] / x[0][0]).sorted().toArray();
        double[] p99s = rounds.stream().mapToDouble(x -> x[idx][1] / x[0][1]).sorted().toArray();
        out.append(String.format(Locale.ROOT, "  ratio %s/old: ack p50 %.2f (rounds %.2f-%.2f), p99 %.2f (rounds %.2f-%.2f), deliveries/s %.2f,"
                + " RSS idle %.2f, RSS after %.2f%n",
            a.name, a.p(0.50) / old.p(0.50), p50s[0], p50s[p50s.length - 1], a.p(0.99) / old.p(0.99), p99s[0], p99s[p99s.length - 1],
            a.perSecond() / old.perSecond(), (double) a.rssIdleKb / old.rssIdleKb, (double) a.rssAfterKb / old.rssAfterKb));
      }
      out.append("  old: JDK HttpServer (JdkWebhookServer, 8 threads); new: Jetty with the JSON operator log; new-nolog: Jetty, no delivery line\n");
      System.out.print(out);
      Path file = Path.of("target", "webhook-server-benchmark.txt");
      Files.createDirectories(file.getParent());
      Files.writeString(file, out.toString());
      for (Arm a : arms) {
        assertThat(a.measured).as(a.name).isEqualTo(ROUNDS * 2 * SLICE);
      }
    } finally {
      for (Arm a : arms) {
        a.close();
      }
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
