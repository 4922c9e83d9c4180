package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/**
 * Acknowledgement latency of the webhook server under a burst of 1,000 signed GitHub deliveries
 * (one per PR, 64 in flight at a time), with the orchestrator deploying on testkit fakes behind it.
 * Prints the median and p99; asserts every delivery got its 202 and every PR its deploy.
 */
class WebhookServerBurstTest {
  static final int DELIVERIES = 1_000;
  static final int CONCURRENCY = 64;
  static final String SECRET = "burst-secret";

  @Test
  void aBurstOfOneThousandSignedDeliveriesIsAcknowledged() throws Exception {
    FakeEnvironmentProvider env = new FakeEnvironmentProvider();
    FakePullRequestSource prs = new FakePullRequestSource();
    List<byte[]> bodies = new ArrayList<>();
    for (int n = 1; n <= DELIVERIES; n++) {
      String sha = String.format("%040x", n);
      prs.put(PullRequest.open(PreviewKey.pr("acme/shop", n), sha, "feature/" + n, "main"));
      bodies.add(Deliveries.pullRequest("opened", n, "feature/" + n, sha));
    }
    try (PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(env).notifier(new FakeScmNotifier())
            .pullRequests(prs).app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build())
            .healthCheck(url -> true).build();
        WebhookServer server = WebhookServer.builder().orchestrator(orchestrator)
            .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build()).port(0).bind("127.0.0.1").start()) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      int[] codes = burst(client, server, "pull_request", bodies, "opened events, deployed behind");
      assertThat(Arrays.stream(codes).filter(c -> c == 202).count()).isEqualTo(DELIVERIES);
      byte[] ping = "{\"zen\":\"Anything added dilutes everything else.\",\"hook_id\":30}".getBytes(StandardCharsets.UTF_8);
      int[] pings = burst(client, server, "ping", java.util.Collections.nCopies(DELIVERIES, ping), "pings, no work behind");
      assertThat(Arrays.stream(pings).filter(c -> c == 200).count()).isEqualTo(DELIVERIES);
      await().atMost(Duration.ofSeconds(60)).until(() -> env.keys().size() == DELIVERIES);
    }
  }

  /** Sends every body as a signed delivery, at most {@link #CONCURRENCY} in flight; prints the latencies; returns the status codes. */
  static int[] burst(HttpClient client, WebhookServer server, String event, List<byte[]> bodies, String what) throws Exception {
    Semaphore slots = new Semaphore(CONCURRENCY);
    int count = bodies.size();
    long[] nanos = new long[count];
    int[] codes = new int[count];
    List<CompletableFuture<?>> calls = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      int idx = i;
      byte[] body = bodies.get(i);
      HttpRequest req = Deliveries.github(server, event, event + "-" + i, body, Deliveries.sign(SECRET, body)).build();
      slots.acquire();
      long t0 = System.nanoTime();
      calls.add(client.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
        nanos[idx] = System.nanoTime() - t0;
        codes[idx] = r == null ? -1 : r.statusCode();
        slots.release();
      }));
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
    long wall = System.nanoTime() - start;
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "webhook burst (%s): %d signed deliveries, %d in flight: ack median %.2f ms, p99 %.2f ms, max %.2f ms, %.0f deliveries/s%n",
        what, count, CONCURRENCY, sorted[count / 2] / 1e6, sorted[(int) Math.ceil(count * 0.99) - 1] / 1e6,
        sorted[count - 1] / 1e6, count / (wall / 1e9));
    return codes;
  }
}
