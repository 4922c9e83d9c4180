package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import dev.preview.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a PR shows converges on what reconcile observes (issue 14), over the testkit fakes: the PR is
 * read back ({@code FakeScmNotifier.published}), the infrastructure listed, and a restart is a new
 * orchestrator over {@code reopen()}ed fakes, which knows nothing the old one published.
 */
class StatusConvergenceTest {
  static final PreviewKey PR1 = PreviewKey.pr("acme/shop", 1);
  static final PreviewKey PR2 = PreviewKey.pr("acme/shop", 2);
  static final String SHA1 = "a".repeat(40);
  static final String SHA2 = "b".repeat(40);

  final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakeScmNotifier scm = new FakeScmNotifier();
  final FakePullRequestSource source = new FakePullRequestSource();
  final List<PreviewOrchestrator> opened = new ArrayList<>();
  final List<Runnable> cleanups = new ArrayList<>();
  volatile boolean healthy = true;

  @AfterEach
  void close() {
    cleanups.forEach(Runnable::run);
    opened.forEach(PreviewOrchestrator::close);
  }

  final List<String> transitions = new java.util.concurrent.CopyOnWriteArrayList<>();

  PreviewOrchestrator.Builder builder(EnvironmentProvider environment, FakeScmNotifier notifier) {
    return PreviewOrchestrator.builder()
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            transitions.add(key + " " + state);
          }
        })
        .environment(environment).notifier(notifier).pullRequests(source).clock(clock)
        .app(AppTemplate.builder().image("registry.example/shop:latest").readinessTimeout(Duration.ofMillis(300))
            .readinessInterval(Duration.ofMillis(10)).build())
        .repositories(List.of("acme/shop")).healthCheck(url -> healthy);
  }

  PreviewOrchestrator start(PreviewOrchestrator.Builder b) {
    PreviewOrchestrator o = b.build();
    opened.add(o);
    return o;
  }

  PullRequest open(PreviewKey key, String sha) {
    PullRequest pr = PullRequest.open(key, sha, "feature-" + key.number(), "main");
    source.put(pr);
    return pr;
  }

  PreviewState shown(PreviewKey key) {
    return scm.published(key).map(PublishedStatus::state).orElse(null);
  }

  @Test
  void afterACrashMidDeployAndARestartThePrNoLongerShowsProvisioningForever() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    CountDownLatch crash = new CountDownLatch(1);
    // the first process hangs in its readiness gate, as one does when it is killed mid-deploy
    PreviewOrchestrator before = start(builder(env, scm).healthCheck(url -> {
      crash.await(30, TimeUnit.SECONDS);
      return false;
    }));
    cleanups.add(crash::countDown);
    before.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> env.find(PR1).isPresent());
    assertThat(shown(PR1)).isEqualTo(PreviewState.PROVISIONING);

    // a new process over the same infrastructure and SCM; its app came up meanwhile
    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);

    PublishedStatus now = scm.published(PR1).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.READY);
    assertThat(now.revision()).isEqualTo(SHA1);
    assertThat(now.url()).isEqualTo(env.find(PR1).orElseThrow().url());

    int published = scm.history(PR1).size();
    after.reconcile(false);
    assertThat(scm.history(PR1)).as("published once: the PR now shows what is observed").hasSize(published);
  }

  @Test
  void afterACrashBeforeTheEnvironmentExistedANewProcessTakesTheDeployUpAgain() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    Faults.Gate gate = env.faults().block("environment.apply");
    cleanups.add(gate::release);
    PreviewOrchestrator before = start(builder(env, scm));
    before.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr));
    assertThat(gate.awaitEntered(Duration.ofSeconds(10))).isTrue();
    assertThat(shown(PR1)).isEqualTo(PreviewState.PROVISIONING);
    int before2 = scm.history(PR1).size();

    // The process that had the deploy is gone (its thread stays stuck in apply); a new one reconciles.
    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);
    gate.release();

    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> shown(PR1) == PreviewState.READY);
    assertThat(scm.latest(PR1).orElseThrow().revision()).isEqualTo(SHA1);
    assertThat(scm.history(PR1).subList(before2, scm.history(PR1).size())).extracting(PreviewStatus::state)
        .as("the PR is never told FAILED: the new process took the deploy up").doesNotContain(PreviewState.FAILED);
  }

  /** Scales down, then fails: the suspend is done on the infrastructure, but the orchestrator hears an error. */
  static final class SuspendFailsAfterScalingDown implements EnvironmentProvider {
    final FakeEnvironmentProvider delegate;

    SuspendFailsAfterScalingDown(FakeEnvironmentProvider delegate) {
      this.delegate = delegate;
    }

    @Override public String name() { return delegate.name(); }
    @Override public Environment apply(EnvironmentSpec spec) { return delegate.apply(spec); }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
    @Override public List<Environment> list() { return delegate.list(); }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }
    @Override public boolean supportsSuspend() { return true; }
    @Override public Environment resume(PreviewKey key) { return delegate.resume(key); }

    @Override
    public void suspend(PreviewKey key) {
      delegate.suspend(key);
      throw new ProviderException("fake", "timed out waiting for the scale-down to be reported", true);
    }
  }

  @Test
  void aSuspendThatFailedAfterScalingDownNoLongerLeavesThePrSayingReady() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator o = start(builder(new SuspendFailsAfterScalingDown(env), scm)
        .policy(PreviewPolicy.builder().sleepAfter(Duration.ofMinutes(30)).build()));
    assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.READY);
    clock.advance(Duration.ofHours(1));

    ReconcileReport first = o.reconcile(false);
    assertThat(first.errors()).as("the suspend reported a failure").isNotEmpty();
    assertThat(env.find(PR1).orElseThrow().phase()).isEqualTo(Environment.Phase.SUSPENDED);
    assertThat(shown(PR1)).as("the failed suspend published nothing").isEqualTo(PreviewState.READY);

    o.reconcile(false);

    PublishedStatus now = scm.published(PR1).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.SLEEPING);
    assertThat(now.revision()).isEqualTo(SHA1);
    assertThat(now.url()).isNull();
  }

  @Test
  void aQueuedPrThatGotTheExcludeLabelNoLongerShowsPending() throws Exception {
    PreviewOrchestrator o = start(builder(env, scm)
        .policy(PreviewPolicy.builder().maxConcurrent(1).excludeLabels(Set.of("no-preview")).build()));
    assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, open(PR1, SHA1))).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.READY);
    assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, open(PR2, SHA2))).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.PENDING);
    assertThat(scm.latest(PR2).orElseThrow().message()).isNotEmpty();

    PullRequest excluded = source.find(PR2).orElseThrow().withLabels(Set.of("no-preview"));
    source.put(excluded);
    o.handle(PullRequestEvent.of(PullRequestEvent.Action.LABELED, excluded)).get(10, TimeUnit.SECONDS);
    assertThat(shown(PR2)).as("the skip itself publishes nothing").isEqualTo(PreviewState.PENDING);

    o.reconcile(false);

    PreviewStatus now = scm.latest(PR2).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.DELETED);
    assertThat(now.message()).contains("no preview").contains("no-preview");
    assertThat(transitions).as("listeners follow the observed state (a queue gauge no longer counts it)")
        .contains(PR2 + " DELETED");
    assertThat(shown(PR1)).as("the admitted PR is left as it is").isEqualTo(PreviewState.READY);
  }

  @Test
  void aQueuedPrShowsPendingWithItsPlaceInTheQueue() throws Exception {
    PreviewOrchestrator o = start(builder(env, scm).policy(PreviewPolicy.builder().maxConcurrent(1).build()));
    o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, open(PR1, SHA1))).get(10, TimeUnit.SECONDS);
    scm.faults().failNext("scm.publish"); // the PENDING never reaches the PR
    assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, open(PR2, SHA2))).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.PENDING);
    assertThat(scm.published(PR2)).isEmpty();

    o.reconcile(false);

    PreviewStatus now = scm.latest(PR2).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.PENDING);
    assertThat(now.message()).contains("next in line");
  }

  @Test
  void theFailedStepNamedInATeardownFailedStatusIsTheStepThatFailed() throws Exception {
    FakeDatabaseProvider db = new FakeDatabaseProvider();
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator o = start(builder(env, scm).database(db));
    o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
    env.faults().failNext("environment.delete"); // the database drop after it succeeds

    source.close(PR1);
    Preview p = o.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pr.withState(PullRequest.State.CLOSED)))
        .get(10, TimeUnit.SECONDS);

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    PreviewStatus failed = scm.latest(PR1).orElseThrow();
    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    assertThat(failed.failedStep()).isEqualTo("teardown.environment");
    assertThat(p.failedStep()).isEqualTo("teardown.environment");

    o.reconcile(false); // finishes the teardown
    assertThat(shown(PR1)).isEqualTo(PreviewState.DELETED);
  }

  @Test
  void anUnreadablePrIsUnknownAndGetsNothingPublished() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    healthy = false;
    PreviewOrchestrator before = start(builder(env, scm));
    assertThat(before.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.FAILED);
    healthy = true;
    int published = scm.history(PR1).size();
    scm.faults().failAlways("scm.published").failAlways("scm.publishedAll"); // per key and in bulk

    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);

    assertThat(scm.history(PR1)).as("a read error is unknown, never 'shows nothing'").hasSize(published);
    scm.faults().heal("scm.published").heal("scm.publishedAll");
    after.reconcile(false);
    assertThat(shown(PR1)).isEqualTo(PreviewState.READY);
  }

  @Test
  void anAppThatStoppedAnsweringIsNoLongerShownReady() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator o = start(builder(env, scm));
    o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
    assertThat(shown(PR1)).isEqualTo(PreviewState.READY);

    healthy = false;
    o.reconcile(false);

    PublishedStatus now = scm.published(PR1).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.FAILED);
    assertThat(now.failedStep()).isEqualTo("readiness");
    healthy = true;
    o.reconcile(false);
    assertThat(shown(PR1)).isEqualTo(PreviewState.READY);
  }

  @Test
  void aReadyThatNeverReachedThePrIsPublishedWholeNotAsASummary() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator o = start(builder(env, scm).app(AppTemplate.builder().image("registry.example/shop:latest")
        .link("docs", "/docs").build()));
    scm.faults().failNth("scm.publish", 2); // the READY is dropped (injected faults are not retryable)
    o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
    assertThat(shown(PR1)).isEqualTo(PreviewState.PROVISIONING);

    o.reconcile(false);

    PreviewStatus now = scm.latest(PR1).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.READY);
    assertThat(now.links()).as("the deploy's own READY, with its links and timings").containsKey("docs");
    assertThat(now.steps()).containsKey("environment");
  }

  @Test
  void aClosedPrWhoseTeardownFailedOnceShowsDeletedOnceNothingIsLeft() throws Exception {
    FakeDatabaseProvider db = new FakeDatabaseProvider();
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator o = start(builder(env, scm).database(db));
    assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.READY);
    source.put(pr.withState(PullRequest.State.CLOSED));
    db.faults().failNext("database.drop");
    assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pr.withState(PullRequest.State.CLOSED)))
        .get(10, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.FAILED);
    assertThat(shown(PR1)).isEqualTo(PreviewState.FAILED);
    // the leftover goes another way (removed by hand, or by a drop that had worked after all)
    db.drop(PR1);
    o.reconcile(false);
    assertThat(shown(PR1)).as("nothing is left of a closed PR's preview").isEqualTo(PreviewState.DELETED);
    int published = scm.history(PR1).size();
    o.reconcile(false);
    assertThat(scm.history(PR1)).as("published once").hasSize(published);
  }

  /**
   * Chaos seeds 4, 38, 46: a late event for a merged PR made a teardown that failed (nothing was left
   * to delete), the PR showed "teardown incomplete" FAILED, and the process restarted: the new one
   * saw nothing of that PR (no environment, not open, not in its memory) and left it so.
   */
  @Test
  void afterARestartAClosedPrThatShowsATeardownFailureOfNothingShowsDeleted() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator before = start(builder(env, scm));
    assertThat(before.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.READY);
    source.merge(PR1);
    assertThat(before.handle(PullRequestEvent.of(PullRequestEvent.Action.MERGED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.DELETED);
    // a late labeled: the guard sees the PR merged and tears down again; its delete fails
    env.faults().failNext("environment.delete");
    assertThat(before.handle(PullRequestEvent.of(PullRequestEvent.Action.LABELED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.FAILED);
    assertThat(shown(PR1)).isEqualTo(PreviewState.FAILED);
    before.close();

    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);
    assertThat(shown(PR1)).as("a closed PR with nothing left shows DELETED, also after a restart")
        .isEqualTo(PreviewState.DELETED);
    int published = scm.history(PR1).size();
    after.reconcile(false); // reads it back once more: it shows DELETED now
    assertThat(scm.history(PR1)).as("published once").hasSize(published);
    int reads = scm.faults().calls("scm.published");
    after.reconcile(false);
    assertThat(scm.faults().calls("scm.published")).as("a closed PR read back showing DELETED is not read back again")
        .isEqualTo(reads);
  }

  /**
   * Chaos seed 85: a process sent "teardown incomplete" FAILED just before it died, and that request
   * landed after the new process's reconcile had told the PR DELETED: the next reconcile reads the PR
   * back once more and corrects it, instead of taking the PR it just told as settled.
   */
  @Test
  void aFailedThatLandsAfterReconcileToldTheClosedPrDeletedIsCorrectedByTheNextReconcile() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator o = start(builder(env, scm));
    o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
    source.merge(PR1);
    env.delete(PR1); // torn down by a process that died before it said so: the PR still shows READY
    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);
    assertThat(shown(PR1)).isEqualTo(PreviewState.DELETED);
    // the dead process's last request lands now
    scm.publish(new PreviewStatus(PR1, PreviewState.FAILED, SHA1, null, java.util.Map.of(),
        "teardown incomplete (teardown.dns: timed out); the next reconcile finishes it", "teardown.dns", List.of(),
        java.util.Map.of(), clock.instant()));

    after.reconcile(false);

    assertThat(shown(PR1)).isEqualTo(PreviewState.DELETED);
  }

  /** Chaos seed 89: the DELETED of a merged PR never reached it, then the process restarted: it showed DELETING. */
  @Test
  void afterARestartAMergedPrWhoseDeletedWasLostShowsDeleted() throws Exception {
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator before = start(builder(env, scm));
    before.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
    source.merge(PR1);
    // the DELETING goes through, the DELETED does not
    scm.faults().failNth("scm.publish", 2);
    assertThat(before.handle(PullRequestEvent.of(PullRequestEvent.Action.MERGED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.DELETED);
    assertThat(shown(PR1)).isEqualTo(PreviewState.DELETING);
    before.close();

    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);
    assertThat(shown(PR1)).isEqualTo(PreviewState.DELETED);
  }

  /**
   * A revision that failed its readiness gate was stopped (and marked), but its FAILED never reached
   * the PR before the process died: the new process must say it failed at readiness, not that the
   * environment exited.
   */
  @Test
  void aRevisionStoppedByItsGateWhoseFailedWasLostShowsFailedAtReadinessAfterARestart() throws Exception {
    env.stopsFailedRevisions();
    healthy = false;
    PullRequest pr = open(PR1, SHA1);
    scm.faults().failNth("scm.publish", 2); // PROVISIONING goes through, FAILED does not
    PreviewOrchestrator before = start(builder(env, scm));
    assertThat(before.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.FAILED);
    assertThat(shown(PR1)).isEqualTo(PreviewState.PROVISIONING);
    before.close();

    PreviewOrchestrator after = start(builder(env.reopen(), scm.reopen()));
    after.reconcile(false);
    PreviewStatus now = scm.latest(PR1).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.FAILED);
    assertThat(now.revision()).isEqualTo(SHA1);
    assertThat(now.failedStep()).isEqualTo("readiness");
    assertThat(now.message()).contains("readiness gate");
    assertThat(after.list()).extracting(Preview::state).containsExactly(PreviewState.FAILED);
  }

  /**
   * Two replicas tore down a merged PR at once: one said DELETED, the other's teardown failed once
   * and said FAILED last, and then that replica died. The survivor, which made only the DELETED,
   * corrects what the PR shows at its next reconcile.
   */
  @Test
  void aTeardownFailureShownByAReplicaThatDiedIsCorrectedByTheOther() throws Exception {
    FakeDatabaseProvider db = new FakeDatabaseProvider();
    PullRequest pr = open(PR1, SHA1);
    PreviewOrchestrator a = start(builder(env, scm).database(db));
    PreviewOrchestrator b = start(builder(env.reopen(), scm).database(db.reopen()));
    a.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);
    source.merge(PR1);
    assertThat(a.handle(PullRequestEvent.of(PullRequestEvent.Action.MERGED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.DELETED);
    db.faults().failNext("database.drop");
    assertThat(b.handle(PullRequestEvent.of(PullRequestEvent.Action.MERGED, pr)).get(10, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.FAILED);
    b.close(); // and it never comes back

    a.reconcile(false);
    assertThat(shown(PR1)).isEqualTo(PreviewState.DELETED);
  }
}
