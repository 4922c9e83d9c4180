package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.ForkMode;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeDnsProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import dev.preview.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PreviewOrchestratorTest {
  static final String REPO = "acme/shop";
  static final PreviewKey PR1 = PreviewKey.pr(REPO, 1);
  static final PreviewKey PR2 = PreviewKey.pr(REPO, 2);

  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakeDatabaseProvider db = new FakeDatabaseProvider(faults);
  final FakeDnsProvider dns = new FakeDnsProvider(faults);
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  final MutableClock clock = new MutableClock(Instant.parse("2026-11-01T10:00:00Z"));
  final List<String> steps = new CopyOnWriteArrayList<>();
  volatile boolean healthy = true;
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    faults.clear();
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator orchestrator(Consumer<PreviewPolicy.Builder> policy) {
    PreviewPolicy.Builder p = PreviewPolicy.builder();
    policy.accept(p);
    AppTemplate app = AppTemplate.builder()
        .image("registry.example/shop:latest")
        .hostnameTemplate("pr-{number}.preview.example.com")
        .env("MODE", "preview")
        .secret("STRIPE_KEY", Secret.of("sk_test_very_secret"))
        .link("docs", "/docs")
        .readinessTimeout(Duration.ofMillis(300))
        .readinessInterval(Duration.ofMillis(10))
        .build();
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).database(db).dns(dns).notifier(scm).pullRequests(source)
        .app(app).policy(p.build()).clock(clock)
        .healthCheck(url -> healthy)
        .installation(dev.preview.spi.Installation.builder().dnsTarget("203.0.113.7").build())
        .listener(new PreviewListener() {
          @Override
          public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
            steps.add(key.number() + ":" + step + (failure == null ? "" : ":failed"));
          }
        })
        .build();
    return orchestrator;
  }

  PreviewOrchestrator orchestrator() {
    return orchestrator(p -> {});
  }

  static String sha(int n) {
    return String.format("%040x", n);
  }

  PullRequest open(PreviewKey key, int shaN) {
    PullRequest pr = PullRequest.open(key, sha(shaN), "feature-" + key.number(), "main");
    source.put(pr);
    return pr;
  }

  static PullRequestEvent event(Action action, PullRequest pr) {
    return PullRequestEvent.of(action, pr);
  }

  static Preview await(CompletableFuture<Preview> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  void assertNothingLeft() {
    assertThat(env.list()).as("environments").isEmpty();
    assertThat(db.list()).as("databases").isEmpty();
    assertThat(dns.list()).as("DNS records").isEmpty();
  }

  @Test
  void the_database_is_given_the_app_build_context_so_the_branch_migrations_can_run() throws Exception {
    Path checkout = Path.of("/checkouts/shop/pr-1").toAbsolutePath();
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).database(db).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().buildContext(checkout)
            .readinessTimeout(Duration.ofMillis(300)).readinessInterval(Duration.ofMillis(10)).build())
        .policy(PreviewPolicy.builder().build()).clock(clock).healthCheck(url -> true).build();

    assertThat(await(orchestrator.handle(event(Action.OPENED, open(PR1, 1)))).state()).isEqualTo(PreviewState.READY);

    assertThat(db.spec(PR1).orElseThrow().buildContext()).isEqualTo(checkout);
  }

  @Test
  void an_app_without_build_context_gives_the_database_none() throws Exception {
    orchestrator();
    assertThat(await(orchestrator.handle(event(Action.OPENED, open(PR1, 1)))).state()).isEqualTo(PreviewState.READY);
    assertThat(db.spec(PR1).orElseThrow().buildContext()).isNull();
    assertThat(db.spec(PR1).orElseThrow().labels()).containsKey("preview.dev/key");
    assertThat(db.spec(PR1).orElseThrow().fromFork()).isFalse();
  }

  @Test
  void opened_pr_gets_database_environment_dns_and_a_ready_status_with_its_url() throws Exception {
    orchestrator(p -> p.flag("new-checkout", true));
    PullRequest pr = open(PR1, 1).withLabels(Set.of("flag:dark-mode"));

    Preview preview = await(orchestrator.handle(event(Action.OPENED, pr)));

    assertThat(preview.state()).isEqualTo(PreviewState.READY);
    assertThat(preview.url()).hasToString("https://pr-1.preview.example.com/");
    assertThat(preview.revision()).isEqualTo(sha(1));
    assertThat(preview.timings()).containsKeys("policy", "guard", "database", "environment", "dns", "readiness");
    EnvironmentSpec spec = env.current(PR1).orElseThrow();
    assertThat(spec.env())
        .containsEntry("PREVIEW_URL", "https://pr-1.preview.example.com/")
        .containsEntry("PREVIEW_REVISION", sha(1))
        .containsEntry("FEATURE_NEW_CHECKOUT", "true")
        .containsEntry("FEATURE_DARK_MODE", "true")
        .containsEntry("PREVIEW_FLAGS", "{\"dark-mode\":true,\"new-checkout\":true}")
        .containsEntry("MODE", "preview")
        .containsEntry("DATABASE_NAME", db.connection(PR1).orElseThrow().name())
        .containsEntry("PREVIEW_SECRET_NAMES", "DATABASE_URL,STRIPE_KEY");
    assertThat(spec.secrets()).containsKeys("STRIPE_KEY", "DATABASE_URL");
    assertThat(spec.labels()).containsEntry("preview.dev/key", "acme/shop#1").containsEntry("preview.dev/managed", "true");
    assertThat(dns.record("pr-1.preview.example.com")).hasValueSatisfying(r -> {
      assertThat(r.value()).isEqualTo("203.0.113.7");
      assertThat(r.owner()).isEqualTo(PR1);
    });
    assertThat(scm.history(PR1)).extracting(PreviewStatus::state)
        .containsExactly(PreviewState.PROVISIONING, PreviewState.READY);
    PreviewStatus ready = scm.latest(PR1).orElseThrow();
    assertThat(ready.url()).hasToString("https://pr-1.preview.example.com/");
    assertThat(ready.links()).containsEntry("docs", java.net.URI.create("https://pr-1.preview.example.com/docs"));
    assertThat(ready.toString()).doesNotContain("sk_test_very_secret");
    assertThat(ready.database()).isEqualTo("fake " + db.connection(PR1).orElseThrow().name());
    assertThat(steps).contains("1:database", "1:environment", "1:dns", "1:readiness");
  }

  @Test
  void fifty_pushes_in_a_burst_deploy_at_most_two_revisions_and_end_at_the_last() throws Exception {
    orchestrator();
    Faults.Gate firstApply = faults.block("environment.apply");
    List<CompletableFuture<Preview>> futures = new ArrayList<>();
    futures.add(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    assertThat(firstApply.awaitEntered(Duration.ofSeconds(5))).isTrue();
    for (int i = 2; i <= 50; i++) {
      futures.add(orchestrator.handle(event(Action.UPDATED, open(PR1, i))));
    }
    firstApply.release();

    for (CompletableFuture<Preview> f : futures) {
      Preview p = await(f);
      assertThat(p.state()).isEqualTo(PreviewState.READY);
      assertThat(p.revision()).isEqualTo(sha(50));
    }
    assertThat(env.applied(PR1)).extracting(EnvironmentSpec::revision).hasSizeLessThanOrEqualTo(2).endsWith(sha(50));
    assertThat(env.current(PR1).orElseThrow().revision()).isEqualTo(sha(50));
    assertThat(faults.maxConcurrentPerKey()).isEqualTo(1);
    assertThat(scm.latest(PR1).orElseThrow().revision()).isEqualTo(sha(50));
  }

  @Test
  void a_close_during_a_deploy_leaves_nothing_behind() throws Exception {
    orchestrator();
    Faults.Gate apply = faults.block("environment.apply");
    PullRequest pr = open(PR1, 1);
    CompletableFuture<Preview> deploy = orchestrator.handle(event(Action.OPENED, pr));
    assertThat(apply.awaitEntered(Duration.ofSeconds(5))).isTrue();

    source.close(PR1);
    CompletableFuture<Preview> close = orchestrator.handle(event(Action.CLOSED, pr));
    apply.release();

    assertThat(await(deploy).state()).isEqualTo(PreviewState.DELETED);
    assertThat(await(close).state()).isEqualTo(PreviewState.DELETED);
    assertNothingLeft();
    assertThat(scm.latest(PR1).orElseThrow().state()).isEqualTo(PreviewState.DELETED);
  }

  @Test
  void deploy_guard_creates_nothing_for_a_pr_the_scm_says_is_closed() throws Exception {
    orchestrator();
    PullRequest pr = open(PR1, 1);
    source.close(PR1); // the close event is still on its way

    Preview p = await(orchestrator.handle(event(Action.UPDATED, pr)));

    assertThat(p.state()).isEqualTo(PreviewState.DELETED);
    assertThat(env.applied()).isEmpty();
    assertThat(faults.calls("database.create")).isZero();
    assertNothingLeft();
  }

  @ParameterizedTest
  @ValueSource(strings = {"database.create", "environment.apply", "dns.upsert", "readiness"})
  void a_failed_deploy_step_reports_failed_and_reconcile_removes_everything_once_the_pr_is_gone(String step)
      throws Exception {
    orchestrator();
    env.setLogs(PR1, List.of("line 1", "Exception: boom"));
    if (step.equals("readiness")) {
      healthy = false;
    } else {
      faults.failNext(step);
    }
    PullRequest pr = open(PR1, 1);

    Preview p = await(orchestrator.handle(event(Action.OPENED, pr)));

    String expectedStep = step.substring(step.indexOf('.') + 1).replace("create", "database")
        .replace("apply", "environment").replace("upsert", "dns");
    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo(expectedStep);
    PreviewStatus failed = scm.latest(PR1).orElseThrow();
    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    assertThat(failed.failedStep()).isEqualTo(expectedStep);
    assertThat(failed.logTail()).containsExactly("line 1", "Exception: boom");

    // The close event is lost; the SCM says the PR is closed.
    source.close(PR1);
    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.errors()).isEmpty();
    assertThat(report.actions()).allMatch(ReconcileReport.Action::done);
    assertNothingLeft();
  }

  @ParameterizedTest
  @ValueSource(strings = {"environment.delete", "dns.delete", "database.drop"})
  void a_failed_teardown_step_is_finished_by_reconcile(String step) throws Exception {
    orchestrator();
    PullRequest pr = open(PR1, 1);
    assertThat(await(orchestrator.handle(event(Action.OPENED, pr))).state()).isEqualTo(PreviewState.READY);
    faults.failNext(step);
    source.close(PR1);

    Preview p = await(orchestrator.handle(event(Action.CLOSED, pr)));

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.message()).contains("teardown incomplete").contains(step.substring(0, step.indexOf('.')));
    // Teardown went on past the failing step: only that step's resource is left.
    assertThat(env.list().size() + db.list().size() + dns.list().size()).isEqualTo(1);

    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.actions()).extracting(ReconcileReport.Action::key).containsExactly(PR1);
    assertNothingLeft();
    assertThat(scm.latest(PR1).orElseThrow().state()).isEqualTo(PreviewState.DELETED);
  }

  @Test
  void an_scm_error_during_reconcile_deletes_nothing() throws Exception {
    orchestrator(p -> p.ttl(Duration.ofHours(1)));
    PullRequest pr = open(PR1, 1);
    await(orchestrator.handle(event(Action.OPENED, pr)));
    source.close(PR1);
    clock.advance(Duration.ofHours(5)); // expired as well
    faults.failAlways("pullRequests.listOpen");

    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.scmUnknown()).isTrue();
    assertThat(report.unknownRepositories()).containsExactly(REPO);
    assertThat(report.actions()).isNotEmpty().noneMatch(ReconcileReport.Action::done);
    assertThat(env.keys()).containsExactly(PR1);
    assertThat(db.keys()).containsExactly(PR1);
    assertThat(dns.records()).hasSize(1);

    faults.heal("pullRequests.listOpen");
    orchestrator.reconcile(false);
    assertNothingLeft();
  }

  @Test
  void a_dns_provider_that_cannot_list_does_not_stop_reconcile_from_reclaiming_environments() throws Exception {
    orchestrator();
    await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    source.close(PR1);
    faults.failNext("dns.list");

    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.errors()).anySatisfy(e -> assertThat(e).contains("could not list DNS records"));
    assertThat(report.actions()).extracting(ReconcileReport.Action::key).containsExactly(PR1);
    assertThat(env.keys()).isEmpty();
    assertThat(db.keys()).isEmpty();
  }

  @Test
  void reconcile_removes_orphans_of_closed_prs_and_keeps_open_ones() throws Exception {
    orchestrator();
    await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    await(orchestrator.handle(event(Action.OPENED, open(PR2, 2))));
    source.close(PR1);

    ReconcileReport dry = orchestrator.reconcile(true);
    assertThat(dry.actions()).extracting(ReconcileReport.Action::key).containsExactly(PR1);
    assertThat(dry.actions()).noneMatch(ReconcileReport.Action::done);
    assertThat(env.keys()).containsExactlyInAnyOrder(PR1, PR2);

    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.actions()).singleElement().satisfies(a -> {
      assertThat(a.key()).isEqualTo(PR1);
      assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.DELETE_ORPHAN);
      assertThat(a.done()).isTrue();
    });
    assertThat(env.keys()).containsExactly(PR2);
    assertThat(db.keys()).containsExactly(PR2);
    assertThat(dns.records()).extracting(r -> r.owner()).containsExactly(PR2);
    assertThat(orchestrator.reconcile(false).actions()).isEmpty();
  }

  @Test
  void a_restarted_orchestrator_finds_previews_on_the_infrastructure() throws Exception {
    orchestrator();
    await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    orchestrator.close();
    source.close(PR1);

    // A new orchestrator with new provider instances over the same infrastructure.
    orchestrator = PreviewOrchestrator.builder()
        .environment(env.reopen()).database(db.reopen()).dns(dns.reopen()).pullRequests(source)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build())
        .clock(clock).build();
    assertThat(orchestrator.list()).extracting(Preview::key).containsExactly(PR1);

    orchestrator.reconcile(false);
    assertNothingLeft();
  }

  @Test
  void hard_ttl_expires_unless_a_push_extends_it() throws Exception {
    orchestrator(p -> p.ttl(Duration.ofHours(1)));
    await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));

    clock.advance(Duration.ofMinutes(50));
    assertThat(orchestrator.reconcile(false).actions()).isEmpty();
    await(orchestrator.handle(event(Action.UPDATED, open(PR1, 2)))); // push at +50m: expires at +110m

    clock.advance(Duration.ofMinutes(50)); // +100m
    assertThat(orchestrator.reconcile(false).actions()).isEmpty();
    assertThat(env.keys()).containsExactly(PR1);

    clock.advance(Duration.ofMinutes(11)); // +111m
    ReconcileReport report = orchestrator.reconcile(false);
    assertThat(report.actions()).singleElement().satisfies(a -> assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.EXPIRE));
    assertNothingLeft();
  }

  @Test
  void a_label_event_does_not_extend_the_ttl_only_a_push_does() throws Exception {
    orchestrator(p -> p.ttl(Duration.ofHours(1)));
    PullRequest pr = open(PR1, 1);
    await(orchestrator.handle(event(Action.OPENED, pr)));

    clock.advance(Duration.ofMinutes(50));
    PullRequest labelled = pr.withLabels(Set.of("needs-review"));
    source.put(labelled);
    await(orchestrator.handle(event(Action.LABELED, labelled))); // same revision: no activity

    clock.advance(Duration.ofMinutes(11)); // +61m: past the TTL of the first deploy
    ReconcileReport report = orchestrator.reconcile(false);
    assertThat(report.actions()).singleElement().satisfies(a -> assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.EXPIRE));
    assertNothingLeft();
  }

  @Test
  void idle_previews_sleep_then_expire_and_a_pin_label_exempts_them() throws Exception {
    orchestrator(p -> p.idleTimeout(Duration.ofHours(48)).sleepAfter(Duration.ofHours(2)));
    await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    PullRequest pinned = open(PR2, 2).withLabels(Set.of("preview:pin"));
    source.put(pinned);
    await(orchestrator.handle(event(Action.OPENED, pinned)));

    clock.advance(Duration.ofHours(3));
    ReconcileReport sleep = orchestrator.reconcile(false);
    assertThat(sleep.actions()).singleElement().satisfies(a -> {
      assertThat(a.key()).isEqualTo(PR1);
      assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.SLEEP);
    });
    assertThat(orchestrator.get(PR1).orElseThrow().state()).isEqualTo(PreviewState.SLEEPING);
    assertThat(orchestrator.get(PR2).orElseThrow().state()).isEqualTo(PreviewState.READY);

    clock.advance(Duration.ofHours(46)); // 49 h idle
    ReconcileReport expire = orchestrator.reconcile(false);
    assertThat(expire.actions()).singleElement().satisfies(a -> {
      assertThat(a.key()).isEqualTo(PR1);
      assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.EXPIRE);
    });
    assertThat(env.keys()).containsExactly(PR2);

    // A push wakes a sleeping preview: it is applied again and READY.
    clock.advance(Duration.ofDays(30));
    Preview woken = await(orchestrator.handle(event(Action.UPDATED, open(PR2, 3))));
    assertThat(woken.state()).isEqualTo(PreviewState.READY);
  }

  @Test
  void different_prs_deploy_in_parallel() throws Exception {
    orchestrator();
    Faults.Gate a = faults.block("environment.apply");
    Faults.Gate b = faults.block("environment.apply");
    CompletableFuture<Preview> f1 = orchestrator.handle(event(Action.OPENED, open(PR1, 1)));
    CompletableFuture<Preview> f2 = orchestrator.handle(event(Action.OPENED, open(PR2, 2)));

    // Both applies are inside the provider at the same time.
    assertThat(a.awaitEntered(Duration.ofSeconds(5))).isTrue();
    assertThat(b.awaitEntered(Duration.ofSeconds(5))).isTrue();
    a.release();
    b.release();

    assertThat(await(f1).state()).isEqualTo(PreviewState.READY);
    assertThat(await(f2).state()).isEqualTo(PreviewState.READY);
    assertThat(faults.maxConcurrent()).isGreaterThanOrEqualTo(2);
    assertThat(faults.maxConcurrentPerKey()).isEqualTo(1);
  }

  @Test
  void fork_prs_get_no_secrets_and_deny_mode_gets_no_preview() throws Exception {
    orchestrator();
    PullRequest fork = open(PR1, 1).withFromFork(true);
    source.put(fork);
    Preview p = await(orchestrator.handle(event(Action.OPENED, fork)));
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    EnvironmentSpec spec = env.current(PR1).orElseThrow();
    assertThat(spec.secrets()).doesNotContainKey("STRIPE_KEY");
    assertThat(db.spec(PR1).orElseThrow().fromFork()).as("the database provider is told it is a fork's code").isTrue();
    assertThat(scm.latest(PR1).orElseThrow().message()).contains("fork");
    orchestrator.close();

    orchestrator(pol -> pol.forks(ForkMode.DENY));
    PullRequest fork2 = open(PR2, 2).withFromFork(true);
    source.put(fork2);
    Preview denied = await(orchestrator.handle(event(Action.OPENED, fork2)));
    assertThat(denied.state()).isEqualTo(PreviewState.DELETED);
    assertThat(denied.message()).contains("forks");
    assertThat(env.current(PR2)).isEmpty();
  }

  @Test
  void a_label_that_excludes_the_pr_tears_its_preview_down() throws Exception {
    orchestrator(p -> p.excludeLabels(Set.of("no-preview")));
    PullRequest pr = open(PR1, 1);
    await(orchestrator.handle(event(Action.OPENED, pr)));
    PullRequest labelled = pr.withLabels(Set.of("no-preview"));
    source.put(labelled);

    Preview p = await(orchestrator.handle(event(Action.LABELED, labelled)));

    assertThat(p.state()).isEqualTo(PreviewState.DELETED);
    assertThat(p.message()).contains("no-preview");
    assertNothingLeft();
  }

  @Test
  void beyond_max_concurrent_a_pr_waits_and_deploys_when_a_slot_frees() throws Exception {
    orchestrator(p -> p.maxConcurrent(1));
    PullRequest one = open(PR1, 1);
    await(orchestrator.handle(event(Action.OPENED, one)));

    Preview waiting = await(orchestrator.handle(event(Action.OPENED, open(PR2, 2))));
    assertThat(waiting.state()).isEqualTo(PreviewState.PENDING);
    assertThat(scm.latest(PR2).orElseThrow().message()).contains("slots");
    assertThat(env.current(PR2)).isEmpty();

    source.close(PR1);
    await(orchestrator.handle(event(Action.CLOSED, one)));

    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
        .until(() -> scm.latest(PR2).map(s -> s.state() == PreviewState.READY).orElse(false));
    assertThat(env.keys()).containsExactly(PR2);
  }

  @Test
  void a_failing_notifier_does_not_fail_the_preview() throws Exception {
    orchestrator();
    faults.failAlways("scm.publish");
    Preview p = await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    assertThat(p.state()).isEqualTo(PreviewState.READY);
  }

  @Test
  void a_reopen_handled_while_reconcile_asks_the_scm_is_not_torn_down_by_that_reconcile() throws Exception {
    orchestrator();
    PreviewKey other = PreviewKey.pr("zeta/app", 7);
    PullRequest pr = open(PR1, 1);
    await(orchestrator.handle(event(Action.OPENED, pr)));
    await(orchestrator.handle(event(Action.OPENED, open(other, 2))));
    source.close(PR1); // the close event is lost: PR 1 is an orphan reconcile should remove ...

    // ... but reconcile asks acme/shop first, then is held while asking zeta/app.
    faults.block("pullRequests.listOpen").release();
    Faults.Gate second = faults.block("pullRequests.listOpen");
    CompletableFuture<ReconcileReport> reconcile = CompletableFuture.supplyAsync(() -> orchestrator.reconcile(false));
    assertThat(second.awaitEntered(Duration.ofSeconds(5))).isTrue();

    // Meanwhile PR 1 is reopened and deployed again.
    PullRequest reopened = open(PR1, 3);
    assertThat(await(orchestrator.handle(event(Action.REOPENED, reopened))).state()).isEqualTo(PreviewState.READY);
    second.release();
    reconcile.get(10, TimeUnit.SECONDS);

    // What reconcile saw of PR 1 is stale: it must not tear down the reopened preview.
    assertThat(env.keys()).containsExactlyInAnyOrder(PR1, other);
    assertThat(env.current(PR1).orElseThrow().revision()).isEqualTo(sha(3));
    assertThat(db.keys()).contains(PR1);
    // The next reconcile, with fresh facts, leaves it alone too.
    orchestrator.reconcile(false);
    assertThat(env.keys()).containsExactlyInAnyOrder(PR1, other);
  }

  @ParameterizedTest
  @ValueSource(strings = {"environment.list", "environment.find"})
  void a_provider_failing_before_the_first_step_still_reports_failed_on_the_pr(String op) throws Exception {
    // environment.list counts the slots for maxConcurrent (policy step); environment.find checks, on a
    // skip, whether there is a preview to tear down. Both ran outside the step error handling.
    orchestrator(p -> p.maxConcurrent(3).excludeLabels(Set.of("no-preview")));
    PullRequest pr = open(PR1, 1);
    if (op.equals("environment.find")) {
      pr = pr.withLabels(Set.of("no-preview"));
      source.put(pr);
    }
    faults.failAlways(op);

    Preview p = await(orchestrator.handle(event(Action.OPENED, pr)));

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("policy");
    PreviewStatus status = scm.latest(PR1).orElseThrow();
    assertThat(status.state()).isEqualTo(PreviewState.FAILED);
    assertThat(status.failedStep()).isEqualTo("policy");
    assertThat(status.message()).contains("injected failure");
  }

  @Test
  void a_failure_looking_for_a_free_slot_does_not_turn_a_done_teardown_into_a_failure() throws Exception {
    orchestrator(p -> p.maxConcurrent(1));
    PullRequest one = open(PR1, 1);
    await(orchestrator.handle(event(Action.OPENED, one)));
    assertThat(await(orchestrator.handle(event(Action.OPENED, open(PR2, 2)))).state()).isEqualTo(PreviewState.PENDING);

    // After the teardown of PR 1, counting the slots for the queued PR 2 asks environment.list: it fails.
    source.close(PR1);
    faults.failNext("environment.list");
    Preview closed = await(orchestrator.handle(event(Action.CLOSED, one)));

    assertThat(closed.state()).isEqualTo(PreviewState.DELETED);
    assertThat(scm.latest(PR1).orElseThrow().state()).isEqualTo(PreviewState.DELETED);
    // The queue is not lost: the next reconcile starts PR 2.
    orchestrator.reconcile(false);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
        .until(() -> scm.latest(PR2).map(s -> s.state() == PreviewState.READY).orElse(false));
  }

  @Test
  void a_push_while_reconcile_puts_the_preview_to_sleep_ends_awake_and_never_overlaps_the_suspend() throws Exception {
    orchestrator(p -> p.sleepAfter(Duration.ofHours(2)));
    await(orchestrator.handle(event(Action.OPENED, open(PR1, 1))));
    clock.advance(Duration.ofHours(3));
    faults.resetConcurrency();

    Faults.Gate suspend = faults.block("environment.suspend");
    CompletableFuture<ReconcileReport> reconcile = CompletableFuture.supplyAsync(() -> orchestrator.reconcile(false));
    assertThat(suspend.awaitEntered(Duration.ofSeconds(5))).isTrue();

    // A push arrives while the environment is being suspended. A serialised orchestrator holds it
    // back until the suspend is done; a broken one applies it meanwhile (given half a second to).
    Faults.Gate apply = faults.block("environment.apply");
    CompletableFuture<Preview> push = orchestrator.handle(event(Action.UPDATED, open(PR1, 2)));
    boolean appliedDuringSuspend = apply.awaitEntered(Duration.ofMillis(500));
    suspend.release();
    apply.release();
    assertThat(appliedDuringSuspend).as("the push's apply ran while the suspend was in flight").isFalse();
    reconcile.get(10, TimeUnit.SECONDS);

    assertThat(await(push).state()).isEqualTo(PreviewState.READY);
    assertThat(faults.maxConcurrentPerKey()).isEqualTo(1);
    // The push came last: the preview is awake at the pushed revision.
    assertThat(orchestrator.get(PR1).orElseThrow().state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.get(PR1).orElseThrow().revision()).isEqualTo(sha(2));
  }

  @Test
  void two_prs_opened_at_once_never_exceed_max_concurrent() throws Exception {
    orchestrator(p -> p.maxConcurrent(1));
    Faults.Gate apply = faults.block("environment.apply");
    CompletableFuture<Preview> first = orchestrator.handle(event(Action.OPENED, open(PR1, 1)));
    assertThat(apply.awaitEntered(Duration.ofSeconds(5))).isTrue();

    // PR 1 holds the only slot but has no environment yet: PR 2 must wait all the same.
    Preview second = await(orchestrator.handle(event(Action.OPENED, open(PR2, 2))));
    apply.release();

    assertThat(await(first).state()).isEqualTo(PreviewState.READY);
    assertThat(second.state()).isEqualTo(PreviewState.PENDING);
    assertThat(env.keys()).containsExactly(PR1);
  }
}
