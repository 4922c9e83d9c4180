package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code preview_queue_length} counts the orchestrator's own maxConcurrent queue. */
class QueueGaugeTest {
  @Test
  void theQueueGaugeIsTheOrchestratorsQueueUnderMaxConcurrent() throws Exception {
    FakePullRequestSource source = new FakePullRequestSource();
    try (PreviewMetrics metrics = PreviewMetrics.prometheus();
        PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(new FakeEnvironmentProvider())
            .pullRequests(source).policy(PreviewPolicy.builder().maxConcurrent(1).build()).healthCheck(url -> true)
            .listener(metrics).build()) {
      metrics.queueOf(orchestrator);
      PullRequest one = open(source, 1);
      PullRequest two = open(source, 2);
      PullRequest three = open(source, 3);
      assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, one)).get(10, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.READY);
      assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, two)).get(10, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.PENDING);
      assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, three)).get(10, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.PENDING);
      assertThat(metrics.scrape()).contains("preview_queue_length 2.0");
      assertThat(orchestrator.queued()).containsExactly(two.key(), three.key());
      source.put(one.withState(PullRequest.State.CLOSED));
      orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, one.withState(PullRequest.State.CLOSED))).get(10, TimeUnit.SECONDS);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> orchestrator.get(two.key()).map(p -> p.state() == PreviewState.READY).orElse(false));
      assertThat(metrics.scrape()).contains("preview_queue_length 1.0");
    }
  }

  private static PullRequest open(FakePullRequestSource source, int number) {
    PullRequest pr = PullRequest.open(PreviewKey.pr("acme/shop", number), "a".repeat(39) + number % 10, "f-" + number, "main");
    source.put(pr);
    return pr;
  }
}
