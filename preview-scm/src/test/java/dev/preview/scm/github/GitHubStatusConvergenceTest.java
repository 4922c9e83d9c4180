package dev.preview.scm.github;

import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.internal.ApiClient;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.jetbrains.annotations.NotNull;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The PR ends showing the preview's final state, whatever GitHub did on the way: failures,
 * rate limits with and without a reset, a 60 s wait, a burst. The orchestrator publishes
 * asynchronously (as {@code preview serve} does), over the real GitHub notifier and HTTP client.
 */
class GitHubStatusConvergenceTest {
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  @StartStop final MockWebServer server = new MockWebServer();
  final FakeGitHub gh = new FakeGitHub(100);
  final Flaky flaky = new Flaky(gh);
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource prs = new FakePullRequestSource();
  PreviewOrchestrator orchestrator;

  /** Answers scripted failures first, then lets the fake GitHub answer. */
  static final class Flaky extends Dispatcher {
    final FakeGitHub gh;
    final Deque<Supplier<MockResponse>> script = new ArrayDeque<>();

    Flaky(FakeGitHub gh) {
      this.gh = gh;
    }

    @Override
    public @NotNull MockResponse dispatch(@NotNull RecordedRequest r) {
      Supplier<MockResponse> next;
      synchronized (script) {
        next = script.poll();
      }
      return next != null ? next.get() : gh.dispatch(r);
    }
  }

  static MockResponse quotaExhausted(Instant reset) {
    MockResponse.Builder b = new MockResponse.Builder().code(403).setHeader("Content-Type", "application/json")
        .setHeader("X-RateLimit-Remaining", "0")
        .body("{\"message\":\"API rate limit exceeded for installation ID 1.\"}");
    if (reset != null) {
      b.setHeader("X-RateLimit-Reset", Long.toString(reset.getEpochSecond()));
    }
    return b.build();
  }

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator orchestrator(ApiClient.Builder client) {
    server.setDispatcher(flaky);
    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
    GitHubNotifier notifier = GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n")))
        .client(client).commitStatus(true).build();
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(notifier).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build())
        .healthCheck(url -> true).asyncStatus(true).build();
    return orchestrator;
  }

  static PullRequestEvent event(PullRequestEvent.Action action, String delivery) {
    return new PullRequestEvent(action, PullRequest.open(KEY, SHA, "feature/basket", "main"), delivery);
  }

  void awaitPrShows(String commentState, String deploymentState, String commitState) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      synchronized (gh) {
        assertThat(gh.commentBodies("acme/shop", 42)).singleElement().asString().contains(commentState);
        assertThat(gh.deploymentStatuses).last().extracting(s -> s.path("state").asText()).isEqualTo(deploymentState);
        assertThat(gh.commitStatuses).last().extracting(s -> s.path("state").asText()).isEqualTo(commitState);
      }
    });
  }

  @Test
  void failuresAndRateLimitsWithAndWithoutResetEndInTheFinalState() throws Exception {
    // the client itself does not retry: every retry here is the status delivery's
    orchestrator(ApiClient.builder("github").maxAttempts(1).backoff(Duration.ofMillis(10)));
    Instant reset = Instant.now().plusSeconds(1);
    synchronized (flaky.script) {
      flaky.script.add(() -> json(502, "{\"message\":\"Bad gateway\"}"));
      flaky.script.add(() -> quotaExhausted(reset));
      flaky.script.add(() -> quotaExhausted(null));
      flaky.script.add(() -> new MockResponse.Builder().code(429).body("{\"message\":\"secondary rate limit\"}").build());
    }
    Preview p = orchestrator.handle(event(PullRequestEvent.Action.OPENED, "d-1")).get(10, TimeUnit.SECONDS);
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    awaitPrShows("Preview ready", "success", "success");
    assertThat(flaky.script).isEmpty();
  }

  @Test
  void aSixtySecondRateLimitWaitDoesNotDelayTheDeploy() throws Exception {
    CountDownLatch sixtySeconds = new CountDownLatch(1);
    // GitHub asks for a 60 s wait on the first call; the client sleeps it (stood in for by a latch)
    orchestrator(ApiClient.builder("github").maxWait(Duration.ofSeconds(61)).sleeper(d -> {
      try {
        sixtySeconds.await(90, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    synchronized (flaky.script) {
      flaky.script.add(() -> new MockResponse.Builder().code(403).setHeader("Retry-After", "60")
          .body("{\"message\":\"You have exceeded a secondary rate limit\"}").build());
    }
    long t0 = System.nanoTime();
    Preview p = orchestrator.handle(event(PullRequestEvent.Action.OPENED, "d-1")).get(10, TimeUnit.SECONDS);
    Duration deploy = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(deploy).as("the deploy did not wait for GitHub").isLessThan(Duration.ofSeconds(3));
    assertThat(gh.commentBodies("acme/shop", 42)).isEmpty();

    sixtySeconds.countDown();
    awaitPrShows("Preview ready", "success", "success");
  }

  @Test
  void aBurstOf2000DeliveriesPostsAtMostOneCommitStatusPerShaAndState() throws Exception {
    orchestrator(ApiClient.builder("github"));
    for (int i = 0; i < 2000; i++) {
      orchestrator.handle(event(i == 0 ? PullRequestEvent.Action.OPENED : PullRequestEvent.Action.LABELED, "d-" + i));
    }
    orchestrator.handle(event(PullRequestEvent.Action.LABELED, "d-last")).get(30, TimeUnit.SECONDS);
    awaitPrShows("Preview ready", "success", "success");
    Map<String, Long> perShaAndState;
    synchronized (gh) {
      perShaAndState = gh.commitStatuses.stream()
          .collect(Collectors.groupingBy(s -> s.path("sha").asText() + " " + s.path("state").asText(), Collectors.counting()));
    }
    assertThat(perShaAndState).allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1L));
    assertThat(perShaAndState).containsKeys(SHA + " success");
    List<ObjectNode> statuses;
    synchronized (gh) {
      statuses = List.copyOf(gh.commitStatuses);
    }
    assertThat(statuses).hasSizeLessThanOrEqualTo(2);
  }
}
