package dev.preview.scm.gitlab;

import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.jetbrains.annotations.NotNull;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The MR ends showing the preview's final state on GitLab, through failures, rate limits and a close/reopen. */
class GitLabStatusConvergenceTest {
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final PreviewKey KEY = PreviewKey.pr("acme/platform/shop", 7);
  static final String PROJECT = "acme%2Fplatform%2Fshop";

  @StartStop final MockWebServer server = new MockWebServer();
  final FakeGitLab gl = new FakeGitLab(100);
  final Deque<Supplier<MockResponse>> script = new ArrayDeque<>();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource prs = new FakePullRequestSource();
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  void start() {
    server.setDispatcher(new Dispatcher() {
      @Override
      public @NotNull MockResponse dispatch(@NotNull RecordedRequest r) {
        Supplier<MockResponse> next;
        synchronized (script) {
          next = script.poll();
        }
        return next != null ? next.get() : gl.dispatch(r);
      }
    });
    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
    GitLabNotifier notifier = GitLabNotifier.builder(server.url("/").toString(), Secret.of("glpat-secret")).sleeper(d -> { }).build();
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(notifier).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("mr-{number}.preview.example.com").build())
        .healthCheck(url -> true).asyncStatus(true).build();
  }

  static PullRequestEvent event(PullRequestEvent.Action action, PullRequest.State state) {
    return new PullRequestEvent(action, PullRequest.open(KEY, SHA, "feature/basket", "main").withState(state), null);
  }

  void awaitMrShows(String note, String environmentState, String commitState) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      synchronized (gl) {
        assertThat(gl.noteBodies(PROJECT, 7)).singleElement().asString().contains(note);
        assertThat(gl.environments.values()).singleElement().satisfies(e -> assertThat(e.path("state").asText()).isEqualTo(environmentState));
        if (commitState != null) {
          assertThat(gl.statuses).last().satisfies(s -> assertThat(s.path("state").asText()).isEqualTo(commitState));
        }
      }
    });
  }

  @Test
  void failuresAndRateLimitsThenACloseAndAReopenEndAvailableAndReady() throws Exception {
    start();
    synchronized (script) {
      for (int i = 0; i < 5; i++) { // more 5xx than the client's own attempts: the status delivery retries
        script.add(() -> json(502, "{\"message\":\"502 Bad Gateway\"}"));
      }
      script.add(() -> new MockResponse.Builder().code(429).setHeader("RateLimit-Remaining", "0").body("{\"message\":\"Retry later\"}").build());
    }
    assertThat(orchestrator.handle(event(PullRequestEvent.Action.OPENED, PullRequest.State.OPEN)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.READY);
    awaitMrShows("Preview ready", "available", "success");

    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main").withState(PullRequest.State.CLOSED));
    orchestrator.handle(event(PullRequestEvent.Action.CLOSED, PullRequest.State.CLOSED)).get(10, TimeUnit.SECONDS);
    awaitMrShows("Preview deleted", "stopped", null);

    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
    orchestrator.handle(event(PullRequestEvent.Action.REOPENED, PullRequest.State.OPEN)).get(10, TimeUnit.SECONDS);
    awaitMrShows("Preview ready", "available", "success");
    synchronized (gl) {
      assertThat(gl.environments.values()).singleElement()
          .satisfies(e -> assertThat(e.path("external_url").asText()).startsWith("https://mr-7.preview.example.com"));
    }
  }
}
