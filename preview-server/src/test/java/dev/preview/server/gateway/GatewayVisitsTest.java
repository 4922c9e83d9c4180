package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.ReconcileReport;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Visits are activity: with {@code policy.idleTimeout: 48h} a preview visited through the gateway lives
 * on, one nobody visits is reaped, one that got a push lives on too; {@code sleepAfter} counts visits the
 * same way (time from a {@link MutableClock}). The gateway's own schedule writes visits back, and its
 * routes follow the orchestrator's state changes through its listener.
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

  @Test
  void theRoutesFollowTheOrchestratorsStateChangesThroughTheListenerAlone() throws Exception {
    // no periodic refresh within the test, and no request (a miss would re-read the routes itself)
    rig = new GatewayRig(dir, clock, b -> b.refresh(Duration.ofHours(1)), PreviewPolicy.defaults(), p -> p);
    PreviewKey key = GatewayRig.pr(44);
    assertThat(rig.gateway.routed(key)).isFalse();
    rig.deploy(44, "e".repeat(40));
    await().atMost(Duration.ofSeconds(20)).until(() -> rig.gateway.routed(key));

    PullRequest closed = PullRequest.open(key, "e".repeat(40), "feature-44", "main").withState(PullRequest.State.CLOSED);
    rig.source.close(key);
    rig.orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, closed)).get(60, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(20)).until(() -> !rig.gateway.routed(key));
    assertThat(rig.get("pr-44.preview.test", "/echo").status()).isEqualTo(404);
  }

  @Test
  void visitsAreWrittenBackByTheTimedFlushOneWriteForManyVisits() throws Exception {
    Relabels counted = new Relabels();
    rig = new GatewayRig(dir, clock, b -> b.visitFlush(Duration.ofMillis(200)), PreviewPolicy.defaults(), counted::wrap);
    PreviewKey key = GatewayRig.pr(42);
    rig.open(42, "b".repeat(40));
    int before = counted.relabels.get();
    clock.advance(Duration.ofHours(3));
    Instant visit = clock.instant();
    for (int i = 0; i < 5; i++) {
      assertThat(rig.get("pr-42.preview.test", "/health").status()).isEqualTo(200);
    }
    // nobody calls flushVisits(): the gateway's own schedule writes the visit to the local state file
    await().atMost(Duration.ofSeconds(20)).until(() -> rig.local.find(key).orElseThrow().lastActivity().equals(Optional.of(visit)));
    assertThat(Labels.instant(rig.local.find(key).orElseThrow().labels(), Labels.LAST_VISIT)).hasValue(visit);
    assertThat(counted.relabels.get() - before).as("five visits of one preview between two flushes: one write").isEqualTo(1);
    assertThat(rig.gateway.flushVisits()).as("nothing new to write").isZero();
  }

  @Test
  void sleepAfterCountsVisitsAndABypassRequestThatWakesAPreviewCountsAsAVisit() throws Exception {
    Secret bypass = Secret.of("automation-bypass-secret-1");
    PreviewPolicy policy = PreviewPolicy.builder().sleepAfter(Duration.ofHours(1)).build();
    rig = new GatewayRig(dir, clock, b -> b.access(GatewaySettings.Access.builder().bypassSecret(bypass).build()), policy, p -> p);
    PreviewKey unvisited = GatewayRig.pr(41);
    PreviewKey visited = GatewayRig.pr(42);
    rig.open(41, "a".repeat(40));
    rig.open(42, "b".repeat(40));
    clock.advance(Duration.ofMinutes(50));
    assertThat(rig.get("pr-42.preview.test", "/health").status()).isEqualTo(200);
    clock.advance(Duration.ofMinutes(40)); // 90 min after the deploys, 40 min after the visit

    assertThat(sleeps(rig.orchestrator.reconcile(false))).containsExactly(unvisited);
    await().atMost(Duration.ofSeconds(30)).until(() -> rig.local.find(unvisited).orElseThrow().phase() == Environment.Phase.SUSPENDED);
    assertThat(rig.local.find(visited).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);

    // automation on an awake preview is not a visit
    Instant visitOf42 = rig.gateway.lastVisit(visited).orElseThrow();
    clock.advance(Duration.ofMinutes(1));
    assertThat(rig.get("pr-42.preview.test", "/health", "X-Preview-Bypass: " + bypass.reveal()).status()).isEqualTo(200);
    assertThat(rig.gateway.lastVisit(visited)).hasValue(visitOf42);

    // automation that wakes a sleeping preview is one: else the next reconcile would put it straight back to sleep
    rig.gateway.refreshNow();
    assertThat(rig.gateway.lastVisit(unvisited)).isEmpty();
    Instant woken = clock.instant();
    GatewayRig.Reply r = rig.get("pr-41.preview.test", "/echo", "X-Preview-Bypass: " + bypass.reveal());
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("key=acme/shop#41\n");
    assertThat(rig.gateway.lastVisit(unvisited)).hasValue(woken);
    clock.advance(Duration.ofMinutes(10));
    assertThat(sleeps(rig.orchestrator.reconcile(false))).as("woken 10 min ago").isEmpty();
    assertThat(rig.local.find(unvisited).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
  }

  private static List<PreviewKey> sleeps(ReconcileReport report) {
    return report.actions().stream().filter(a -> a.kind() == ReconcileReport.Kind.SLEEP).map(ReconcileReport.Action::key).toList();
  }

  /** Counts the relabels of the provider it wraps. */
  static final class Relabels {
    final AtomicInteger relabels = new AtomicInteger();

    EnvironmentProvider wrap(EnvironmentProvider delegate) {
      return new EnvironmentProvider() {
        @Override public String name() { return delegate.name(); }
        @Override public Environment apply(EnvironmentSpec spec) { return delegate.apply(spec); }
        @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
        @Override public List<Environment> list() { return delegate.list(); }
        @Override public void delete(PreviewKey key) { delegate.delete(key); }
        @Override public boolean supportsRelabel() { return delegate.supportsRelabel(); }

        @Override
        public Optional<Environment> relabel(PreviewKey key, Map<String, String> labels) {
          relabels.incrementAndGet();
          return delegate.relabel(key, labels);
        }
      };
    }
  }

  /** A provider whose labels cannot change once deployed. */
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
