package dev.preview.scm.bench;

import dev.preview.scm.Fixtures;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Hmac;
import dev.preview.spi.Secret;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * CPU time per webhook (thread CPU time, not wall time), for machines too busy for JMH's wall-clock
 * figures to mean much: the three operations of {@link WebhookBenchmark} run interleaved in rounds,
 * and the median round of each is reported with its ratio to the HMAC and parse baselines.
 *
 * <p>Run: {@code java -cp <test classpath> dev.preview.scm.bench.WebhookCpuCost}
 */
public final class WebhookCpuCost {
  private WebhookCpuCost() {}

  public static void main(String[] args) throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    byte[] key = "benchmark-secret".getBytes(StandardCharsets.UTF_8);
    for (String payload : new String[] {"fixture", "25kb"}) {
      com.fasterxml.jackson.databind.node.ObjectNode root = Fixtures.load("github/pull_request.opened.json");
      if (payload.equals("25kb")) {
        Fixtures.obj(root, "/pull_request").put("body", "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(440));
      }
      byte[] body = Fixtures.bytes(root);
      String sig = Hmac.sign(key, body);
      WebhookRequest request = WebhookRequest.of(Map.of("X-GitHub-Event", "pull_request", "X-Hub-Signature-256", sig), body);
      GitHubWebhookSource source = GitHubWebhookSource.builder(Secret.of(new String(key, StandardCharsets.UTF_8))).build();
      int n = 2_000;
      int rounds = 25;
      long[][] ns = new long[3][rounds];
      Object sink = null;
      for (int r = -10; r < rounds; r++) {
        for (int op = 0; op < 3; op++) {
          long t0 = mx.getCurrentThreadCpuTime();
          for (int i = 0; i < n; i++) {
            sink = switch (op) {
              case 0 -> Hmac.verify(key, body, sig);
              case 1 -> ApiClient.MAPPER.readTree(body);
              default -> source.handle(request);
            };
          }
          long t = (mx.getCurrentThreadCpuTime() - t0) / n;
          if (r >= 0) {
            ns[op][r] = t;
          }
        }
      }
      if (!(sink instanceof WebhookResult.Accepted)) {
        throw new IllegalStateException("not accepted: " + sink);
      }
      long hmac = median(ns[0]);
      long parse = median(ns[1]);
      long both = median(ns[2]);
      System.out.printf(Locale.ROOT, "%-8s body %6d B: hmac %7.1f us, parse %7.1f us, verify+parse %7.1f us/webhook"
              + " (%.0f webhooks/s per core; %.2fx hmac, %.2fx parse, %.2fx hmac+parse)%n",
          payload, body.length, hmac / 1e3, parse / 1e3, both / 1e3, 1e9 / both, (double) both / hmac, (double) both / parse,
          (double) both / (hmac + parse));
    }
  }

  private static long median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
