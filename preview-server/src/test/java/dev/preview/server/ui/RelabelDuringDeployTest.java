package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.Preview;
import dev.preview.core.PreviewActions;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.Faults;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An extension and a pin that arrive while a deploy of the same preview is held inside the provider's
 * {@code apply} (it computed its lifecycle labels before them): once the deploy finishes, both survive.
 */
class RelabelDuringDeployTest {

  @Test
  void anExtensionAndAPinDuringADeploySurviveIt() throws Exception {
    try (DashboardFixture f = new DashboardFixture()) {
      PullRequest first = DashboardFixture.pr(1);
      assertThat(f.deploy(first).state()).isEqualTo(PreviewState.READY);
      PreviewKey key = first.key();
      Instant firstExpiry = f.orchestrator.get(key).orElseThrow().expires();
      assertThat(firstExpiry).isEqualTo(DashboardFixture.NOW.plus(Duration.ofDays(7)));

      // a push an hour later: its deploy would give NOW + 1h + 7d, and it stops inside apply
      f.clock.advance(Duration.ofHours(1));
      PullRequest push = PullRequest.open(key, "f".repeat(40), "feature-1", "main");
      f.prs.put(push);
      Faults.Gate held = f.env.faults().block("environment.apply");
      CompletableFuture<Preview> deploy = f.orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, push));
      assertThat(held.awaitEntered(Duration.ofSeconds(30))).as("the deploy reached apply").isTrue();

      PreviewActions.Result extended = f.actions.extend(key, Duration.ofDays(2));
      PreviewActions.Result pinned = f.actions.pin(key);
      assertThat(extended.done()).as(extended.message()).isTrue();
      assertThat(pinned.done()).as(pinned.message()).isTrue();
      Instant wanted = firstExpiry.plus(Duration.ofDays(2));
      assertThat(extended.message()).contains(wanted.toString());

      held.release();
      assertThat(deploy.get(30, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.READY);
      assertThat(f.orchestrator.awaitQuiescence(Duration.ofSeconds(30))).isTrue();

      var labels = f.env.find(key).orElseThrow().labels();
      assertThat(labels.get(Labels.REVISION)).as("the push was deployed").isEqualTo(push.headSha());
      assertThat(labels.get(Labels.EXPIRES)).as("the extension survives the deploy that read the labels before it")
          .isEqualTo(wanted.toString());
      assertThat(labels.get(Labels.PINNED)).as("so does the pin").isEqualTo(PreviewPolicy.PINNED_BY_OPERATOR);
      assertThat(f.orchestrator.get(key).orElseThrow().expires()).isEqualTo(wanted);
    }
  }

  @Test
  void anUnpinDuringADeployWinsAndAPushThatGivesMoreThanAnExtensionKeepsItsExpiry() throws Exception {
    try (DashboardFixture f = new DashboardFixture()) {
      PullRequest first = DashboardFixture.pr(2);
      f.deploy(first);
      PreviewKey key = first.key();
      assertThat(f.actions.pin(key).done()).isTrue();
      assertThat(f.actions.extend(key, Duration.ofHours(1)).done()).isTrue(); // NOW + 7d + 1h

      f.clock.advance(Duration.ofDays(1)); // the push gives NOW + 8d, more than the extension
      PullRequest push = PullRequest.open(key, "e".repeat(40), "feature-2", "main");
      f.prs.put(push);
      Faults.Gate held = f.env.faults().block("environment.apply");
      CompletableFuture<Preview> deploy = f.orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, push));
      assertThat(held.awaitEntered(Duration.ofSeconds(30))).isTrue();
      assertThat(f.actions.unpin(key).done()).isTrue();
      assertThat(f.actions.extend(key, Duration.ofHours(1)).done()).isTrue(); // NOW + 7d + 2h: less than the push gives
      held.release();
      assertThat(deploy.get(30, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.READY);
      assertThat(f.orchestrator.awaitQuiescence(Duration.ofSeconds(30))).isTrue();

      var labels = f.env.find(key).orElseThrow().labels();
      assertThat(labels).as("the deploy read the operator's pin before the unpin; the unpin wins")
          .doesNotContainKey(Labels.PINNED);
      assertThat(labels.get(Labels.EXPIRES)).isEqualTo(DashboardFixture.NOW.plus(Duration.ofDays(8)).toString());
    }
  }
}
