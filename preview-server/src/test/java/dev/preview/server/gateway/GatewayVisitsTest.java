package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Visits are activity: with {@code policy.idleTimeout: 48h} a preview visited through the gateway lives
 * on, one nobody visits is reaped, one that got a push lives on too (time from a {@link MutableClock}).
 */
class GatewayVisitsTest {
  static final Instant T0 = Instant.parse("2026-05-01T08:00:00Z");

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(T0);
  GatewayRig rig;

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  private void start(boolean relabel) throws Exception {
    PreviewPolicy policy = PreviewPolicy.builder().idleTimeout(Duration.ofHours(48)).build();
    rig = new GatewayRig(dir, clock, b -> b, policy, p -> relabel ? p : new NoRelabel(p));
    rig.open(41, "a".repeat(40)); // never visited
    rig.open(42, "b".repeat(40)); // visited
    rig.open(43, "c".repeat(40)); // pushed
  }

  @Test
  void aVisitWrittenToTheLabelKeepsItsPreviewAndOneWithoutVisitsIsReaped() throws Exception {
    start(true);
    clock.advance(Duration.ofHours(47));
    Instant visit = clock.instant();
    assertThat(rig.get("pr-42.preview.test", "/health").status()).isEqualTo(200);
    PullRequest pushed = PullRequest.open(GatewayRig.pr(43), "d".repeat(40), "feature-43", "main");
    rig.source.put(pushed);
    rig.orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pushed)).get(60, TimeUnit.SECONDS);

    assertThat(rig.gateway.flushVisits()).isEqualTo(1);
    // state lives on the infrastructure: the local provider's state file holds the visit
    assertThat(rig.local.find(GatewayRig.pr(42)).orElseThrow().lastActivity()).hasValue(visit);
    assertThat(rig.local.find(GatewayRig.pr(41)).orElseThrow().lastActivity()).hasValue(T0);
    assertThat(rig.gateway.flushVisits()).as("nothing new to write").isZero();

    clock.advance(Duration.ofHours(2)); // 49 h after the deploys, 2 h after the visit
    rig.orchestrator.reconcile(false);

    assertThat(rig.local.find(GatewayRig.pr(41))).as("idle for 49 h").isEmpty();
    assertThat(rig.local.find(GatewayRig.pr(42))).as("visited 2 h ago").isPresent();
    assertThat(rig.local.find(GatewayRig.pr(43))).as("pushed 2 h ago").isPresent();

    clock.advance(Duration.ofHours(47)); // 49 h after the visit and the push
    rig.orchestrator.reconcile(false);
    assertThat(rig.local.find(GatewayRig.pr(42))).isEmpty();
    assertThat(rig.local.find(GatewayRig.pr(43))).isEmpty();
  }

  @Test
  void onAProviderThatCannotRelabelVisitsStayInTheGatewaysMemoryAndThePolicyStillSeesThem() throws Exception {
    start(false);
    clock.advance(Duration.ofHours(47));
    assertThat(rig.get("previews.example.com", "/pr/42/health").status()).isEqualTo(200);
    assertThat(rig.gateway.flushVisits()).isZero();
    assertThat(rig.local.find(GatewayRig.pr(42)).orElseThrow().lastActivity()).hasValue(T0);
    clock.advance(Duration.ofHours(2));

    rig.orchestrator.reconcile(false);

    assertThat(rig.local.find(GatewayRig.pr(41))).isEmpty();
    assertThat(rig.local.find(GatewayRig.pr(42))).as("its visit was seen in memory").isPresent();
  }

  /** Like Docker: container labels cannot change. */
  static final class NoRelabel implements EnvironmentProvider {
    final EnvironmentProvider delegate;

    NoRelabel(EnvironmentProvider delegate) {
      this.delegate = delegate;
    }

    @Override public String name() { return "immutable-labels"; }
    @Override public Environment apply(EnvironmentSpec spec) { return delegate.apply(spec); }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
    @Override public List<Environment> list() { return delegate.list(); }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }
  }
}
