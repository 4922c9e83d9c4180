package dev.preview.server;

import dev.preview.core.Preview;
import dev.preview.core.ReconcileReport;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewState;
import dev.preview.spi.Secret;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One webhook server ({@code old}: the JDK one of before; {@code new}: the Jetty one with the JSON
 * operator log; {@code new-nolog}: the Jetty one writing no delivery line) in its own JVM, for
 * {@link WebhookServerBenchmark}: every accepted event "runs" at once (the orchestrator is not what
 * is measured). Prints {@code port N}, then answers {@code rss} with its resident set in kB and
 * {@code quit} by stopping.
 */
public final class BenchServerMain {
  private BenchServerMain() {}

  public static void main(String[] args) throws Exception {
    String which = args[0];
    ReconcileReport none = new ReconcileReport(List.of(), Set.of(), List.of(), false);
    java.util.function.Function<dev.preview.spi.PullRequestEvent, CompletableFuture<Preview>> handler = e -> CompletableFuture.completedFuture(
        new Preview(e.key(), PreviewState.READY, e.headSha(), null, null, "", null, Map.of(), null, null));
    GitHubWebhookSource source = GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build();
    AutoCloseable server;
    int port;
    if (which.equals("old")) {
      JdkWebhookServer s = JdkWebhookServer.builder().actions(handler, () -> none).source(source).port(0).bind("127.0.0.1").start();
      server = s;
      port = s.port();
    } else {
      // "new": the JSON operator log (--log-format json), its line built and written (to nowhere) per delivery;
      // "new-nolog": the text log with INFO off, so no delivery line is built: what the log itself costs
      OperatorLog log = which.equals("new-nolog") ? OperatorLog.text()
          : OperatorLog.json(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      WebhookServer s = WebhookServer.builder().actions(handler, () -> none).source(source).port(0).bind("127.0.0.1")
          .log(log).start();
      server = s;
      port = s.port();
    }
    System.out.println("port " + port);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.equals("rss")) {
        System.gc();
        System.out.println("rss " + rssKb());
        System.out.flush();
      } else if (line.equals("quit")) {
        break;
      }
    }
    server.close();
  }

  static long rssKb() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
