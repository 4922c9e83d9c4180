package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.PreviewListener.StatusOutcome;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link PreviewListener#onStatusPublish}: one call per attempt, with what became of it. */
class StatusPublishListenerTest {
  record Attempt(PreviewKey key, PreviewState state, StatusOutcome outcome) {}

  @Test
  void everyAttemptIsReportedAndAFailedOneIsDroppedUntilReconcilePublishesIt() throws Exception {
    PreviewKey key = PreviewKey.pr("acme/shop", 3);
    FakeScmNotifier scm = new FakeScmNotifier();
    FakePullRequestSource source = new FakePullRequestSource();
    PullRequest pr = PullRequest.open(key, "c".repeat(40), "f", "main");
    source.put(pr);
    List<Attempt> attempts = new CopyOnWriteArrayList<>();
    scm.faults().failNth("scm.publish", 2); // the READY (not retryable: injected faults are not)
    try (PreviewOrchestrator o = PreviewOrchestrator.builder().environment(new FakeEnvironmentProvider()).notifier(scm)
        .pullRequests(source).healthCheck(url -> true)
        .listener(new PreviewListener() {
          @Override
          public void onStatusPublish(PreviewKey k, PreviewState state, StatusOutcome outcome) {
            attempts.add(new Attempt(k, state, outcome));
          }
        }).build()) {
      o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
      assertThat(attempts).containsExactly(
          new Attempt(key, PreviewState.PROVISIONING, StatusOutcome.PUBLISHED),
          new Attempt(key, PreviewState.READY, StatusOutcome.DROPPED));

      o.reconcile(false);

      assertThat(attempts).hasSize(3);
      assertThat(attempts.get(2)).isEqualTo(new Attempt(key, PreviewState.READY, StatusOutcome.PUBLISHED));
      assertThat(scm.latest(key).orElseThrow().state()).isEqualTo(PreviewState.READY);
    }
  }
}
