package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The deploy guard never rolls a preview back: an event for an older commit deploys the PR's newest
 * head, as the SCM says it (with a PR source) or as the events arrived (without one, or when the SCM
 * cannot be asked). Every deploy runs its revision's own image.
 */
class DeployGuardTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  static final String OLD = "1111111111111111111111111111111111111111";
  static final String NEW = "2222222222222222222222222222222222222222";

  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator orchestrator(boolean withSource) {
    PreviewOrchestrator.Builder b = PreviewOrchestrator.builder()
        .environment(env).notifier(scm)
        .app(AppTemplate.builder().image("ghcr.io/acme/shop:pr-{number}-{shortSha}")
            .readinessTimeout(Duration.ofSeconds(2)).readinessInterval(Duration.ofMillis(10)).build())
        .policy(PreviewPolicy.builder().requireLabels(Set.of()).build())
        .healthCheck(url -> true);
    if (withSource) {
      b.pullRequests(source);
    }
    orchestrator = b.build();
    return orchestrator;
  }

  static PullRequest pr(String sha, String... labels) {
    return PullRequest.open(KEY, sha, "feature/basket", "main").withLabels(Set.of(labels));
  }

  Preview handle(Action action, PullRequest pr) throws Exception {
    return orchestrator.handle(PullRequestEvent.of(action, pr)).get(10, TimeUnit.SECONDS);
  }

  void assertDeployedAt(Preview p, String sha) {
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(p.revision()).isEqualTo(sha);
    EnvironmentSpec spec = env.current(KEY).orElseThrow();
    assertThat(spec.revision()).isEqualTo(sha);
    assertThat(spec.labels()).containsEntry(Labels.REVISION, sha);
    assertThat(spec.image()).isEqualTo("ghcr.io/acme/shop:pr-7-" + sha.substring(0, 7));
    assertThat(scm.latest(KEY)).get().satisfies(s -> {
      assertThat(s.state()).isEqualTo(PreviewState.READY);
      assertThat(s.revision()).isEqualTo(sha);
    });
  }

  @Test
  void aLabeledEventAtAnOldCommitDeploysTheHeadTheScmReportsWithItsLabels() throws Exception {
    orchestrator(true);
    source.put(pr(OLD));
    assertDeployedAt(handle(Action.OPENED, pr(OLD)), OLD);
    source.put(pr(NEW));
    assertDeployedAt(handle(Action.UPDATED, pr(NEW)), NEW);

    source.put(pr(NEW, "flag:new-checkout"));
    Preview p = handle(Action.LABELED, pr(OLD, "flag:new-checkout")); // late, or sent with the old head

    assertDeployedAt(p, NEW);
    assertThat(env.applied(KEY)).extracting(EnvironmentSpec::revision).containsExactly(OLD, NEW, NEW);
    assertThat(env.current(KEY).orElseThrow().flags()).containsEntry("new-checkout", true);
  }

  @Test
  void anScmThatStillReportsTheOlderHeadDoesNotRollBackAPushItsWebhookAnnounced() throws Exception {
    orchestrator(true);
    source.put(pr(OLD));
    assertDeployedAt(handle(Action.OPENED, pr(OLD)), OLD);
    // the API lags behind its own webhook: it still says OLD

    assertDeployedAt(handle(Action.UPDATED, pr(NEW)), NEW);
  }

  @Test
  void aHeadTheScmKnowsButNoEventBroughtYetIsDeployed() throws Exception {
    orchestrator(true);
    source.put(pr(NEW)); // the push event is still on its way

    assertDeployedAt(handle(Action.OPENED, pr(OLD)), NEW);
    assertThat(env.applied(KEY)).extracting(EnvironmentSpec::revision).containsExactly(NEW);
  }

  @Test
  void withoutAPullRequestSourceAnEventForAHeadSeenBeforeTheNewestIsAppliedToTheNewest() throws Exception {
    orchestrator(false);
    assertDeployedAt(handle(Action.OPENED, pr(OLD)), OLD);
    assertDeployedAt(handle(Action.UPDATED, pr(NEW)), NEW);

    Preview p = handle(Action.LABELED, pr(OLD, "flag:new-checkout"));

    assertDeployedAt(p, NEW);
    assertThat(env.current(KEY).orElseThrow().flags()).containsEntry("new-checkout", true);
    // a push back to the old commit (a force-push) is a new head, and is deployed
    assertDeployedAt(handle(Action.UPDATED, pr(OLD)), OLD);
  }

  @Test
  void anScmThatCannotBeAskedIsUnknownNotOlderAndTheOrderOfArrivalDecides() throws Exception {
    orchestrator(true);
    faults.failAlways("pullRequests.find");
    assertDeployedAt(handle(Action.OPENED, pr(OLD)), OLD);
    assertDeployedAt(handle(Action.UPDATED, pr(NEW)), NEW);

    assertDeployedAt(handle(Action.READY_FOR_REVIEW, pr(OLD)), NEW);
  }

  @Test
  void aShaNeverSeenHereIsAppliedAndAClosedPrIsForgotten() throws Exception {
    orchestrator(false);
    assertDeployedAt(handle(Action.UPDATED, pr(NEW)), NEW);
    // never seen as a head here (e.g. after a restart): the order is unknown, the event is applied
    assertDeployedAt(handle(Action.LABELED, pr(OLD)), OLD);
    assertThat(handle(Action.CLOSED, pr(OLD)).state()).isEqualTo(PreviewState.DELETED);
    assertDeployedAt(handle(Action.REOPENED, pr(NEW)), NEW);
    assertDeployedAt(handle(Action.LABELED, pr(OLD)), OLD); // the memory of before the close is gone
  }
}
