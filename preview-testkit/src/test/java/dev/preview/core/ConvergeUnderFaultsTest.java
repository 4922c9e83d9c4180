package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeDnsProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One test for each finding of issue 14's "Why" that is about what gets deleted, deployed, queued or
 * repaired (readiness and status publishing have their own tests): each fails on the code before it.
 */
class ConvergeUnderFaultsTest {
  static final String REPO = "acme/shop";
  static final PreviewKey PR1 = PreviewKey.pr(REPO, 1);
  static final PreviewKey PR2 = PreviewKey.pr(REPO, 2);
  static final PreviewKey PR3 = PreviewKey.pr(REPO, 3);

  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakeDatabaseProvider db = new FakeDatabaseProvider(faults);
  final FakeDnsProvider dns = new FakeDnsProvider(faults);
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  final List<PreviewOrchestrator> orchestrators = new ArrayList<>();

  @AfterEach
  void close() {
    faults.clear();
    orchestrators.forEach(PreviewOrchestrator::close);
  }

  PreviewOrchestrator orchestrator(Consumer<PreviewOrchestrator.Builder> more) {
    PreviewOrchestrator.Builder b = PreviewOrchestrator.builder()
        .environment(env).database(db).dns(dns).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest").hostnameTemplate("{name}.preview.example.com")
            .readinessTimeout(Duration.ofMillis(300)).readinessInterval(Duration.ofMillis(5)).build())
        .healthCheck(url -> true)
        .installation(Installation.builder().dnsTarget("203.0.113.7").build())
        .scmRetry(3, Duration.ofMillis(20))
        .repositories(List.of(REPO))
        .closeProviders(false);
    more.accept(b);
    PreviewOrchestrator o = b.build();
    orchestrators.add(o);
    return o;
  }

  PreviewOrchestrator orchestrator() {
    return orchestrator(b -> {});
  }

  PullRequest open(PreviewKey key, String sha) {
    PullRequest pr = PullRequest.open(key, sha.repeat(40 / sha.length()), "feature-" + key.number(), "main");
    source.put(pr);
    return pr;
  }

  static Preview await(java.util.concurrent.CompletableFuture<Preview> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  static void quiet(PreviewOrchestrator... os) throws InterruptedException {
    for (PreviewOrchestrator o : os) {
      assertThat(o.awaitQuiescence(Duration.ofSeconds(10))).as("quiescence").isTrue();
    }
  }

  // ------------------------------------------------ a redelivered closed, a reopen before the SCM shows it

  @Test
  void aRedeliveredCloseAfterAReopenLeavesTheOpenPrsPreview() throws Exception {
    PreviewOrchestrator o = orchestrator();
    PullRequest pr = open(PR1, "a");
    assertThat(await(o.handle(PullRequestEvent.of(Action.OPENED, pr))).state()).isEqualTo(PreviewState.READY);
    source.close(PR1);
    PullRequestEvent closed = PullRequestEvent.of(Action.CLOSED, pr);
    await(o.handle(closed));
    quiet(o);
    assertThat(env.keys()).isEmpty();
    source.put(pr); // reopened
    assertThat(await(o.handle(PullRequestEvent.of(Action.REOPENED, pr))).state()).isEqualTo(PreviewState.READY);

    o.handle(closed); // GitHub redelivers the old close
    quiet(o);

    assertThat(env.keys()).containsExactly(PR1);
    assertThat(db.keys()).containsExactly(PR1);
    assertThat(dns.records(PR1)).hasSize(1);
  }

  @Test
  void aReopenThatArrivesBeforeTheScmShowsThePrOpenIsDeployedOnceItDoes() throws Exception {
    PreviewOrchestrator o = orchestrator();
    PullRequest pr = open(PR1, "a");
    source.close(PR1); // the SCM's API still says closed
    Preview first = await(o.handle(PullRequestEvent.of(Action.REOPENED, pr)));
    assertThat(first.state()).isEqualTo(PreviewState.PENDING);
    assertThat(first.message()).contains("does not show the PR open yet");
    assertThat(env.keys()).isEmpty();
    source.put(pr); // now the API shows it open; the retry (20 ms later, on the scheduler) deploys

    quiet(o);

    assertThat(env.keys()).containsExactly(PR1);
    assertThat(env.find(PR1)).get().extracting(Environment::phase).isEqualTo(Environment.Phase.RUNNING);
    assertThat(faults.calls("pullRequests.find")).as("asked again").isGreaterThanOrEqualTo(2);
  }

  @Test
  void aReopenTheScmKeepsShowingClosedIsGivenUpAfterTheBoundedRetries() throws Exception {
    PreviewOrchestrator o = orchestrator(); // scmRetry(3, 20 ms)
    PullRequest pr = open(PR1, "a");
    source.close(PR1);
    int before = faults.calls("pullRequests.find");

    o.handle(PullRequestEvent.of(Action.REOPENED, pr));
    quiet(o);

    assertThat(faults.calls("pullRequests.find") - before).as("the first read and 3 retries").isEqualTo(4);
    assertThat(env.keys()).isEmpty();
    assertThat(scm.latest(PR1)).get().extracting(PreviewStatus::state).isEqualTo(PreviewState.DELETED);
  }

  @Test
  void aCloseTheScmCannotConfirmDeletesNothingAndReconcileFinishesItOnceTheScmAnswers() throws Exception {
    PreviewOrchestrator o = orchestrator();
    PullRequest pr = open(PR1, "a");
    await(o.handle(PullRequestEvent.of(Action.OPENED, pr)));
    source.close(PR1);
    faults.failAlways("pullRequests.find").failAlways("pullRequests.listOpen");

    o.handle(PullRequestEvent.of(Action.CLOSED, pr));
    quiet(o);
    o.reconcile(false);
    quiet(o);
    assertThat(env.keys()).as("nothing deleted while the SCM is unknown").containsExactly(PR1);

    faults.clear();
    o.reconcile(false);
    quiet(o);
    assertThat(env.keys()).isEmpty();
    assertThat(db.keys()).isEmpty();
    assertThat(dns.records()).isEmpty();
  }

  @Test
  void aStaleExcludeLabelDeletesNothingWhileTheScmIsDown() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.policy(PreviewPolicy.builder().excludeLabels(Set.of("no-preview")).build()));
    PullRequest pr = open(PR1, "a");
    await(o.handle(PullRequestEvent.of(Action.OPENED, pr)));
    faults.failAlways("pullRequests.find");

    await(o.handle(PullRequestEvent.of(Action.LABELED, pr.withLabels(Set.of("no-preview")))));

    assertThat(env.keys()).containsExactly(PR1);
  }

  // ------------------------------------------------ redeployMissing

  @Test
  void reconcileRedeploysAnOpenPrWhoseOpenedWasLost() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.redeployMissing(true));
    open(PR1, "a"); // its opened webhook never came

    ReconcileReport report = o.reconcile(false);
    quiet(o);

    assertThat(report.actions()).extracting(ReconcileReport.Action::kind).containsExactly(ReconcileReport.Kind.REDEPLOY);
    assertThat(env.keys()).containsExactly(PR1);
  }

  @Test
  void reconcileRedeploysAnOpenPrWhoseEnvironmentWentMissing() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.redeployMissing(true));
    PullRequest pr = open(PR1, "a");
    await(o.handle(PullRequestEvent.of(Action.OPENED, pr)));
    env.delete(PR1); // someone removed it by hand; database and record remain

    o.reconcile(false);
    quiet(o);

    assertThat(env.find(PR1)).get().extracting(Environment::revision).isEqualTo(pr.headSha());
  }

  @Test
  void withRedeployMissingOffReconcileSaysWhyItLeavesAnOpenPrWithoutPreview() {
    PreviewOrchestrator o = orchestrator();
    open(PR1, "a");

    ReconcileReport report = o.reconcile(false);

    assertThat(report.actions()).isEmpty();
    assertThat(report.notes()).singleElement().asString().contains(PR1.toString()).contains("reconcile.redeployMissing is off");
    assertThat(env.keys()).isEmpty();
  }

  @Test
  void reconcileRepairsAPreviewWhoseDeployFailedAtItsDnsStep() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.redeployMissing(true));
    PullRequest pr = open(PR1, "a");
    faults.failNext("dns.upsert");
    assertThat(await(o.handle(PullRequestEvent.of(Action.OPENED, pr))).failedStep()).isEqualTo("dns");
    assertThat(env.keys()).containsExactly(PR1); // the environment runs, at the PR's head, without a record

    ReconcileReport report = o.reconcile(false);
    quiet(o);

    assertThat(report.actions()).singleElement().satisfies(a -> {
      assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.REDEPLOY);
      assertThat(a.reason()).isEqualTo("its DNS record is missing");
    });
    assertThat(dns.records(PR1)).hasSize(1);
  }

  @Test
  void reconcileRemovesThePreviewOfAPrThePolicyNoLongerAdmits() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.policy(PreviewPolicy.builder().excludeLabels(Set.of("no-preview")).build()));
    PullRequest pr = open(PR1, "a");
    await(o.handle(PullRequestEvent.of(Action.OPENED, pr)));
    source.put(pr.withLabels(Set.of("no-preview"))); // its labeled webhook was lost

    ReconcileReport report = o.reconcile(false);

    assertThat(report.actions()).singleElement().satisfies(a -> {
      assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.EXCLUDED);
      assertThat(a.reason()).contains("the label \"no-preview\"");
      assertThat(a.done()).isTrue();
    });
    assertThat(env.keys()).isEmpty();
    assertThat(db.keys()).isEmpty();
    assertThat(dns.records()).isEmpty();
  }

  // ------------------------------------------------ the queue

  PreviewOrchestrator queueOfOne() {
    return orchestrator(b -> b.policy(PreviewPolicy.builder().maxConcurrent(1).build()));
  }

  @Test
  void pendingCarriesTheQueuePositionAndQueuedListsTheKeysOldestFirst() throws Exception {
    PreviewOrchestrator o = queueOfOne();
    await(o.handle(PullRequestEvent.of(Action.OPENED, open(PR1, "a"))));
    Preview second = await(o.handle(PullRequestEvent.of(Action.OPENED, open(PR2, "b"))));
    Preview third = await(o.handle(PullRequestEvent.of(Action.OPENED, open(PR3, "c"))));

    assertThat(second.state()).isEqualTo(PreviewState.PENDING);
    assertThat(second.message()).contains("position 1");
    assertThat(third.message()).contains("position 2");
    assertThat(scm.latest(PR3)).get().extracting(PreviewStatus::message).asString().contains("position 2");
    assertThat(o.queued()).containsExactly(PR2, PR3);
  }

  @Test
  void aQueuedPrIsNotForgottenByARestart() throws Exception {
    PreviewOrchestrator first = queueOfOne();
    PullRequest one = open(PR1, "a");
    await(first.handle(PullRequestEvent.of(Action.OPENED, one)));
    await(first.handle(PullRequestEvent.of(Action.OPENED, open(PR2, "b"))));
    first.close();

    PreviewOrchestrator second = orchestrator(b -> b.environment(env.reopen()).database(db.reopen()).dns(dns.reopen())
        .policy(PreviewPolicy.builder().maxConcurrent(1).build()));
    second.reconcile(false);
    assertThat(second.queued()).containsExactly(PR2);
    source.close(PR1);
    await(second.handle(PullRequestEvent.of(Action.CLOSED, one)));
    quiet(second);

    assertThat(env.keys()).containsExactly(PR2);
    assertThat(second.queued()).isEmpty();
  }

  @Test
  void aSlotFreedByAFailedFirstDeployGoesToTheQueuedPrAtOnce() throws Exception {
    PreviewOrchestrator o = queueOfOne();
    Faults.Gate apply = faults.block("environment.apply");
    faults.failNth("environment.apply", 1);
    o.handle(PullRequestEvent.of(Action.OPENED, open(PR1, "a")));
    assertThat(apply.awaitEntered(Duration.ofSeconds(5))).isTrue(); // PR1 holds the slot
    assertThat(await(o.handle(PullRequestEvent.of(Action.OPENED, open(PR2, "b")))).state()).isEqualTo(PreviewState.PENDING);

    apply.release(); // PR1's first deploy fails: no environment, the slot is free
    quiet(o);

    assertThat(env.keys()).containsExactly(PR2);
    assertThat(o.queued()).isEmpty();
  }

  @Test
  void aSlotFreedByReconcileGoesToTheQueuedPrInTheSameReconcile() throws Exception {
    PreviewOrchestrator o = queueOfOne();
    PullRequest one = open(PR1, "a");
    await(o.handle(PullRequestEvent.of(Action.OPENED, one)));
    await(o.handle(PullRequestEvent.of(Action.OPENED, open(PR2, "b"))));
    source.close(PR1); // its close webhook was lost

    o.reconcile(false);
    quiet(o);

    assertThat(env.keys()).containsExactly(PR2);
  }

  // ------------------------------------------------ two replicas without leader election

  @Test
  void aCloseHandledByOneReplicaWhileTheOtherDeploysLeavesNothing() throws Exception {
    PreviewOrchestrator a = orchestrator();
    PreviewOrchestrator b = orchestrator(x -> x.environment(env.reopen()).database(db.reopen()).dns(dns.reopen()));
    PullRequest pr = open(PR1, "a");
    Faults.Gate apply = faults.block("environment.apply");
    a.handle(PullRequestEvent.of(Action.OPENED, pr)); // replica a deploys
    assertThat(apply.awaitEntered(Duration.ofSeconds(5))).isTrue();
    source.close(PR1);
    assertThat(await(b.handle(PullRequestEvent.of(Action.CLOSED, pr))).state()).isEqualTo(PreviewState.DELETED);

    apply.release(); // a's apply lands after b's teardown
    quiet(a, b);

    assertThat(env.keys()).isEmpty();
    assertThat(db.keys()).isEmpty();
    assertThat(dns.records()).isEmpty();
  }

  @Test
  void anOlderPushAppliedByOneReplicaAfterTheNewerOneOfTheOtherIsReplaced() throws Exception {
    PreviewOrchestrator a = orchestrator();
    PreviewOrchestrator b = orchestrator(x -> x.environment(env.reopen()).database(db.reopen()).dns(dns.reopen()));
    PullRequest old = open(PR1, "a");
    Faults.Gate apply = faults.block("environment.apply");
    a.handle(PullRequestEvent.of(Action.UPDATED, old)); // replica a deploys the old head
    assertThat(apply.awaitEntered(Duration.ofSeconds(5))).isTrue();
    PullRequest newer = old.withHeadSha("b".repeat(40));
    source.put(newer);
    assertThat(await(b.handle(PullRequestEvent.of(Action.UPDATED, newer))).state()).isEqualTo(PreviewState.READY);

    apply.release(); // a applies the old head over the newer one
    quiet(a, b);

    assertThat(env.find(PR1)).get().extracting(Environment::revision).isEqualTo(newer.headSha());
  }

  // ------------------------------------------------ reconcile cost

  @Test
  void reconcileListsEveryProviderOnceAndRepairsInParallelUpToItsBound() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.reconcileParallelism(8));
    for (int n = 1; n <= 200; n++) {
      PreviewKey key = PreviewKey.pr(REPO, n);
      env.apply(EnvironmentSpec.builder(key, "c".repeat(40)).image("registry.example/shop:latest").build());
      db.plant(key);
      dns.plant(new DnsRecord("pr-" + n + ".preview.example.com", DnsRecord.Type.A, "203.0.113.7", 60, key));
    }
    open(PreviewKey.pr(REPO, 500), "d");
    faults.delay("environment.delete", Duration.ofMillis(5));
    faults.resetConcurrency();
    var before = faults.calls();

    ReconcileReport report = o.reconcile(false);

    assertThat(report.actions()).hasSize(200).allMatch(ReconcileReport.Action::done);
    var after = faults.calls();
    for (String op : List.of("environment.list", "dns.list", "database.list", "pullRequests.listOpen")) {
      assertThat(after.getOrDefault(op, 0) - before.getOrDefault(op, 0)).as(op + " calls").isEqualTo(1);
    }
    assertThat(faults.maxConcurrent()).as("repairs at once").isGreaterThan(1).isLessThanOrEqualTo(8);
    assertThat(faults.maxConcurrentPerKey()).as("a key's calls never overlap").isEqualTo(1);
    assertThat(env.keys()).isEmpty();
    assertThat(db.keys()).isEmpty();
    assertThat(dns.records()).isEmpty();
  }

  // ------------------------------------------------ chaos seeds 337, 524, 651 (health checks, crashes)

  /**
   * Chaos seed 337: two replicas each admitted a PR under maxConcurrent, so more environments ran
   * than the limit; a push to one of them was queued behind the others and the PR showed PENDING
   * forever while its old head kept running (reconcile's redeploy was queued the same way).
   */
  @Test
  void aPushToAPrThatHasAnEnvironmentIsNeverQueuedEvenAboveMaxConcurrent() throws Exception {
    PreviewOrchestrator one = orchestrator(b -> b.redeployMissing(true));
    PullRequest pr1 = open(PR1, "a");
    await(one.handle(PullRequestEvent.of(Action.OPENED, pr1)));
    await(one.handle(PullRequestEvent.of(Action.OPENED, open(PR2, "b"))));
    // the limit is 1 but two environments run (two replicas admitted both at once)
    PreviewOrchestrator limited = orchestrator(b -> b.redeployMissing(true)
        .policy(PreviewPolicy.builder().maxConcurrent(1).build()));
    PullRequest pushed = pr1.withHeadSha("c".repeat(40));
    source.put(pushed);

    Preview p = await(limited.handle(PullRequestEvent.of(Action.UPDATED, pushed)));

    assertThat(p.state()).as(p.message()).isEqualTo(PreviewState.READY);
    assertThat(env.find(PR1)).get().extracting(Environment::revision).isEqualTo(pushed.headSha());
    assertThat(limited.queued()).isEmpty();
  }

  /**
   * Chaos seed 651: a redeploy of a revision failed at its DNS step (its record was there from
   * before), the app it started does not answer healthy, and the PR kept showing "FAILED at dns":
   * reconcile left a FAILED alone whatever its step. It now says what it observes: the app is unhealthy.
   */
  @Test
  void anUnhealthyAppWhoseDeployFailedAtALaterStepShowsFailedAtReadiness() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean healthy = new java.util.concurrent.atomic.AtomicBoolean(true);
    PreviewOrchestrator o = orchestrator(b -> b.redeployMissing(true).healthCheck(url -> healthy.get()));
    PullRequest pr = open(PR1, "a");
    assertThat(await(o.handle(PullRequestEvent.of(Action.OPENED, pr))).state()).isEqualTo(PreviewState.READY);
    faults.failNext("dns.upsert");
    assertThat(await(o.handle(PullRequestEvent.of(Action.LABELED, pr))).failedStep()).isEqualTo("dns");
    healthy.set(false); // the app it runs stopped answering

    o.reconcile(false);
    quiet(o);

    PreviewStatus now = scm.latest(PR1).orElseThrow();
    assertThat(now.state()).isEqualTo(PreviewState.FAILED);
    assertThat(now.failedStep()).isEqualTo("readiness");
    assertThat(now.message()).contains("does not answer healthy");
  }

  /**
   * Issue 14 (d): the same redeploy failed at its DNS step, but its app is healthy and its record is
   * there: the next reconcile shows READY, not the stale FAILED at dns.
   */
  @Test
  void aHealthyAppWhoseRedeployFailedAtItsDnsStepShowsReadyAfterReconcile() throws Exception {
    PreviewOrchestrator o = orchestrator(b -> b.redeployMissing(true));
    PullRequest pr = open(PR1, "a");
    await(o.handle(PullRequestEvent.of(Action.OPENED, pr)));
    faults.failNext("dns.upsert");
    assertThat(await(o.handle(PullRequestEvent.of(Action.LABELED, pr))).failedStep()).isEqualTo("dns");

    o.reconcile(false);
    quiet(o);

    assertThat(scm.latest(PR1)).get().extracting(PreviewStatus::state).isEqualTo(PreviewState.READY);
  }

  /**
   * Issue 14 (c): a deploy failed at its database step; then the PR got the exclude label (its
   * webhook lost) and, for another PR, was closed (its webhook lost too), and the orchestrator
   * restarted. Neither ends showing FAILED at database: both end showing DELETED.
   */
  @Test
  void aPrWhoseDeployFailedAtItsDatabaseAndThatEndsWithNothingShowsDeletedAfterARestart() throws Exception {
    PreviewOrchestrator first = orchestrator(b -> b.policy(PreviewPolicy.builder().excludeLabels(Set.of("no-preview")).build()));
    PullRequest one = open(PR1, "a");
    PullRequest two = open(PR2, "b");
    faults.failNth("database.create", 1);
    assertThat(await(first.handle(PullRequestEvent.of(Action.OPENED, one))).failedStep()).isEqualTo("database");
    faults.failNth("database.create", 1);
    assertThat(await(first.handle(PullRequestEvent.of(Action.OPENED, two))).failedStep()).isEqualTo("database");
    source.put(one.withLabels(Set.of("no-preview")));
    source.close(PR2);
    first.close();

    PreviewOrchestrator second = orchestrator(b -> b.environment(env.reopen()).database(db.reopen()).dns(dns.reopen())
        .policy(PreviewPolicy.builder().excludeLabels(Set.of("no-preview")).build()));
    second.reconcile(false);
    quiet(second);

    assertThat(scm.latest(PR1)).get().extracting(PreviewStatus::state).isEqualTo(PreviewState.DELETED);
    assertThat(scm.latest(PR2)).get().extracting(PreviewStatus::state).isEqualTo(PreviewState.DELETED);
  }
}
