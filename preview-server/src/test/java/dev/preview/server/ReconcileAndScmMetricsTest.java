package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.github.GitHubAuth;
import dev.preview.scm.github.GitHubNotifier;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.jetbrains.annotations.NotNull;
import org.junit.jupiter.api.Test;

/**
 * The meters {@link WebhookServerMetricsTest} does not reach, scraped from {@code /metrics} and
 * compared with what happened: SCM API calls by status and the rate budget the last answer reported
 * (the real GitHub notifier against a fake GitHub API that fails once with a 502), and a reconcile
 * that reclaims an orphan (its actions by kind, the reclaimed count).
 */
class ReconcileAndScmMetricsTest extends ServerWithMetrics {
  static final PreviewKey ORPHAN = PreviewKey.pr("acme/shop", 7);

  @StartStop final MockWebServer github = new MockWebServer();
  /** The status of every answer the fake GitHub sent, in order, and the remaining budget it reported last. */
  final List<Integer> answered = new CopyOnWriteArrayList<>();
  final AtomicInteger remaining = new AtomicInteger(5000);
  final AtomicBoolean failedOnce = new AtomicBoolean();

  /** A GitHub API that knows no comment yet and creates what it is asked to; the first GET is a 502. */
  final class FakeGitHubApi extends Dispatcher {
    @Override
    public synchronized @NotNull MockResponse dispatch(@NotNull RecordedRequest r) {
      int code;
      String body;
      String method = r.getMethod();
      String path = r.getUrl().encodedPath();
      if ("GET".equals(method) && failedOnce.compareAndSet(false, true)) {
        code = 502;
        body = "{\"message\":\"Bad gateway\"}";
      } else if ("GET".equals(method)) {
        code = 200;
        body = path.startsWith("/user") ? "{\"login\":\"preview-bot\",\"id\":1}" : "[]";
      } else if ("POST".equals(method)) {
        code = 201;
        body = "{\"id\":101,\"body\":\"\",\"user\":{\"login\":\"preview-bot\"}}";
      } else {
        code = 200;
        body = "{\"id\":101,\"body\":\"\",\"user\":{\"login\":\"preview-bot\"}}";
      }
      answered.add(code);
      return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json")
          .setHeader("X-RateLimit-Remaining", Integer.toString(remaining.decrementAndGet())).body(body).build();
    }
  }

  @Test
  void scmCallsTheRateBudgetAndAReclaimedOrphanAreCountedAsTheyHappened() throws Exception {
    github.setDispatcher(new FakeGitHubApi());
    GitHubNotifier notifier = GitHubNotifier.builder(github.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n")))
        .deployments(false).commitStatus(false).build();
    prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main"));
    prs.put(PullRequest.open(ORPHAN, "d".repeat(40), "feature/old", "main").withState(PullRequest.State.CLOSED));
    env.plant(new Environment(ORPHAN, "d".repeat(40), null, Environment.Phase.RUNNING, Labels.ownership(ORPHAN, "d".repeat(40))));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(notifier).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build()).healthCheck(url -> true)
        .listener(metrics).build();
    server = WebhookServer.builder().orchestrator(orchestrator).metrics(metrics)
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build())
        .port(0).bind("127.0.0.1").reconcileInterval(Duration.ofHours(1)).start(); // reconciled on demand below

    byte[] opened = Deliveries.opened();
    HttpResponse<String> r = client.send(Deliveries.github(server, "pull_request", "d-open", opened).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(20)).until(() -> orchestrator.get(Deliveries.KEY).map(p -> p.state() == PreviewState.READY)
        .orElse(false) && answered.contains(201));

    server.reconcileSoon();
    await().atMost(Duration.ofSeconds(20)).until(() -> sample(scrape(), "preview_reconcile_runs_total", Map.of()) == 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> !env.keys().contains(ORPHAN));

    String after = scrape();
    assertThat(sample(after, "preview_reconcile_actions_total", Map.of("kind", "delete_orphan", "done", "true"))).isEqualTo(1);
    assertThat(sample(after, "preview_reclaimed_total", Map.of())).as("the orphan's environment").isEqualTo(1);
    assertThat(env.deleted()).contains(ORPHAN);

    List<Integer> seen = List.copyOf(answered);
    assertThat(seen).contains(502, 200, 201);
    for (int code : seen.stream().distinct().toList()) {
      assertThat(sample(after, "preview_scm_calls_total", Map.of("provider", "github", "status", Integer.toString(code))))
          .as("calls answered %d", code).isEqualTo(seen.stream().filter(c -> c == code).count());
    }
    assertThat(sample(after, "preview_scm_rate_remaining", Map.of("provider", "github")))
        .as("the budget the last answer reported").isEqualTo(remaining.get());
  }
}
