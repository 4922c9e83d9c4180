package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.BuildEvent;
import dev.preview.spi.BuildEvent.Conclusion;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import dev.preview.testkit.MutableClock;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A deploy whose image CI has not built yet waits in WAITING, holding no thread, until CI or a look moves it on. */
class BuildWaitTest {
  static final String REPO = "acme/shop";
  static final String IMAGE = "registry.example/shop:pr";
  static final PreviewKey PR1 = PreviewKey.pr(REPO, 1);

  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  final MutableClock clock = new MutableClock(Instant.parse("2026-11-01T10:00:00Z"));
  final List<String> transitions = new CopyOnWriteArrayList<>();
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator orchestrator(Consumer<BuildSettings.Builder> build) {
    return orchestrator(build, 4);
  }

  PreviewOrchestrator orchestrator(Consumer<BuildSettings.Builder> build, int parallelism) {
    BuildSettings.Builder b = BuildSettings.builder();
    build.accept(b);
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image(IMAGE).readinessTimeout(Duration.ofMillis(300))
            .readinessInterval(Duration.ofMillis(10)).build())
        .clock(clock).healthCheck(url -> true).buildSettings(b.build()).parallelism(parallelism)
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            transitions.add(key.number() + ":" + state + ":" + message);
          }
        })
        .build();
    return orchestrator;
  }

  PreviewOrchestrator waitingForCi() {
    return orchestrator(b -> b.waitFor(List.of("build-image")));
  }

  static String sha(int n) {
    return String.format("%040x", n);
  }

  PullRequest open(PreviewKey key, int shaN) {
    PullRequest pr = PullRequest.open(key, sha(shaN), "feature-" + key.number(), "main");
    source.put(pr);
    return pr;
  }

  static BuildEvent ci(String name, int shaN, Conclusion conclusion, String detail) {
    return new BuildEvent(REPO, sha(shaN), name, conclusion, detail,
        URI.create("https://github.com/acme/shop/actions/runs/" + shaN), "d-" + shaN);
  }

  static Preview done(CompletableFuture<Preview> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  Preview opened(PreviewKey key, int shaN) throws Exception {
    return done(orchestrator.handle(PullRequestEvent.of(Action.OPENED, open(key, shaN))));
  }

  @Test
  void a_wait_a_restart_forgot_is_taken_up_again_by_reconcile_with_redeploy_missing() throws Exception {
    // Before the restart: sha 1 deployed (no wait configured then).
    orchestrator(b -> {});
    assertThat(opened(PR1, 1).state()).isEqualTo(PreviewState.READY);
    orchestrator.close();
    orchestrator = null;
    // The push to sha 2 arrived while the process was down (or its wait died with it): the SCM says
    // the head is sha 2, the environment still runs sha 1.
    open(PR1, 2);
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image(IMAGE).readinessTimeout(Duration.ofMillis(300))
            .readinessInterval(Duration.ofMillis(10)).build())
        .clock(clock).healthCheck(url -> true).redeployMissing(true)
        .buildSettings(BuildSettings.builder().waitFor(List.of("build-image")).build())
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            transitions.add(key.number() + ":" + state + ":" + message);
          }
        })
        .build();

    assertThat(orchestrator.reconcile(false).actions()).singleElement()
        .satisfies(a -> assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.REDEPLOY));
    await().atMost(Duration.ofSeconds(10)).until(() -> transitions.stream().anyMatch(t -> t.startsWith("1:WAITING")));
    assertThat(env.find(PR1).orElseThrow().revision()).as("still the old one while waiting").isEqualTo(sha(1));

    orchestrator.handle(ci("build-image", 2, Conclusion.SUCCESS, "success"));
    await().atMost(Duration.ofSeconds(10)).until(() -> sha(2).equals(env.find(PR1).map(e -> e.revision()).orElse(null)));
  }

  @Test
  void a_new_prs_wait_a_restart_forgot_is_taken_up_by_reconcile_though_nothing_of_it_is_deployed() throws Exception {
    // Before the restart: PR 1 opened and waited for its first image; nothing of it exists anywhere.
    waitingForCi();
    assertThat(opened(PR1, 1).state()).isEqualTo(PreviewState.WAITING);
    orchestrator.close();
    orchestrator = null;
    assertThat(env.find(PR1)).isEmpty();

    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image(IMAGE).readinessTimeout(Duration.ofMillis(300))
            .readinessInterval(Duration.ofMillis(10)).build())
        .clock(clock).healthCheck(url -> true).redeployMissing(true).repositories(List.of(REPO))
        .buildSettings(BuildSettings.builder().waitFor(List.of("build-image")).build())
        .build();

    assertThat(orchestrator.reconcile(false).actions()).singleElement().satisfies(a -> {
      assertThat(a.key()).isEqualTo(PR1);
      assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.REDEPLOY);
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> orchestrator.waiting().contains(PR1));
    assertThat(orchestrator.reconcile(false).actions()).as("a key in flight is left alone").isEmpty();

    orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success"));
    await().atMost(Duration.ofSeconds(10)).until(() -> sha(1).equals(env.find(PR1).map(e -> e.revision()).orElse(null)));
  }

  @Test
  void a_wait_the_pr_shows_is_taken_up_by_a_new_process_without_redeploy_missing() throws Exception {
    // Before the restart: PR 1 waited for its image and the PR says so; nothing of it exists anywhere.
    waitingForCi();
    assertThat(opened(PR1, 1).state()).isEqualTo(PreviewState.WAITING);
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(PR1).map(st -> st.state() == PreviewState.WAITING)
        .orElse(false));
    orchestrator.close();
    orchestrator = null;

    orchestrator = PreviewOrchestrator.builder() // a new process; redeployMissing is off
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image(IMAGE).readinessTimeout(Duration.ofMillis(300))
            .readinessInterval(Duration.ofMillis(10)).build())
        .clock(clock).healthCheck(url -> true).repositories(List.of(REPO))
        .buildSettings(BuildSettings.builder().waitFor(List.of("build-image")).build())
        .build();
    assertThat(orchestrator.waiting()).isEmpty();
    orchestrator.reconcile(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> orchestrator.waiting().contains(PR1));
    assertThat(scm.latest(PR1).orElseThrow().state()).as("not told FAILED: the wait goes on")
        .isEqualTo(PreviewState.WAITING);

    orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success"));
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(PR1).map(st -> st.state() == PreviewState.READY)
        .orElse(false));
    assertThat(env.find(PR1).orElseThrow().revision()).isEqualTo(sha(1));
    assertThat(scm.history(PR1)).extracting(st -> st.state()).doesNotContain(PreviewState.FAILED);
  }

  @Test
  void without_redeploy_missing_or_for_a_pr_the_policy_skips_reconcile_deploys_nothing_new() throws Exception {
    open(PR1, 1);
    PullRequest draft = PullRequest.open(PreviewKey.pr(REPO, 2), sha(2), "wip", "main").withDraft(true);
    source.put(draft);
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image(IMAGE).build()).clock(clock).healthCheck(url -> true)
        .repositories(List.of(REPO)).build();
    assertThat(orchestrator.reconcile(false).actions()).as("redeployMissing is off").isEmpty();
    orchestrator.close();

    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image(IMAGE).build()).clock(clock).healthCheck(url -> true)
        .redeployMissing(true).repositories(List.of(REPO)).build();
    assertThat(orchestrator.reconcile(false).actions()).as("the draft is skipped by the policy").singleElement()
        .satisfies(a -> assertThat(a.key()).isEqualTo(PR1));
  }

  @Test
  void a_deploy_whose_image_is_not_built_waits_and_the_pr_says_for_what() throws Exception {
    waitingForCi();

    Preview p = opened(PR1, 1);

    assertThat(p.state()).isEqualTo(PreviewState.WAITING);
    assertThat(p.revision()).isEqualTo(sha(1));
    String message = "waiting for the image " + IMAGE + " built by CI (check build-image)";
    assertThat(p.message()).isEqualTo(message);
    PreviewStatus status = scm.latest(PR1).orElseThrow();
    assertThat(status.state()).isEqualTo(PreviewState.WAITING);
    assertThat(status.message()).isEqualTo(message);
    assertThat(transitions).contains("1:WAITING:" + message);
    assertThat(env.applied()).as("nothing deployed while waiting").isEmpty();
    assertThat(orchestrator.waiting()).containsExactly(PR1);
  }

  @Test
  void a_success_event_for_the_head_sha_deploys_it_ready_at_that_sha() throws Exception {
    waitingForCi();
    opened(PR1, 1);

    BuildEventResult r = orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success"));

    assertThat(r.ignored()).isFalse();
    assertThat(r.runs()).containsOnlyKeys(PR1);
    Preview p = done(r.runs().get(PR1));
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(p.revision()).isEqualTo(sha(1));
    assertThat(env.current(PR1).orElseThrow().revision()).isEqualTo(sha(1));
    assertThat(env.current(PR1).orElseThrow().image()).isEqualTo(IMAGE);
    assertThat(scm.latest(PR1).orElseThrow().state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.waiting()).isEmpty();
  }

  @Test
  void check_names_match_without_regard_to_case() throws Exception {
    waitingForCi();
    opened(PR1, 1);

    BuildEventResult r = orchestrator.handle(ci("Build-Image", 1, Conclusion.SUCCESS, "success"));

    assertThat(done(r.runs().get(PR1)).state()).isEqualTo(PreviewState.READY);
  }

  @Test
  void a_failure_event_fails_it_with_the_ci_conclusion_and_a_link_to_the_run() throws Exception {
    waitingForCi();
    opened(PR1, 1);

    BuildEventResult r = orchestrator.handle(ci("build-image", 1, Conclusion.FAILURE, "timed_out"));

    Preview p = done(r.runs().get(PR1));
    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("wait");
    assertThat(p.message()).contains("build-image", "timed_out", "https://github.com/acme/shop/actions/runs/1");
    PreviewStatus status = scm.latest(PR1).orElseThrow();
    assertThat(status.state()).isEqualTo(PreviewState.FAILED);
    assertThat(status.message()).contains("timed_out", "https://github.com/acme/shop/actions/runs/1");
    assertThat(env.applied()).isEmpty();
    assertThat(orchestrator.waiting()).isEmpty();
  }

  @Test
  void events_for_another_sha_another_check_another_repository_or_still_pending_are_ignored_with_a_reason()
      throws Exception {
    waitingForCi();
    opened(PR1, 1);

    BuildEventResult otherSha = orchestrator.handle(ci("build-image", 2, Conclusion.SUCCESS, "success"));
    BuildEventResult otherName = orchestrator.handle(ci("lint", 1, Conclusion.SUCCESS, "success"));
    BuildEventResult otherRepo = orchestrator.handle(
        new BuildEvent("acme/other", sha(1), "build-image", Conclusion.SUCCESS, "success", null, null));
    BuildEventResult pending = orchestrator.handle(ci("build-image", 1, Conclusion.PENDING, "in_progress"));

    assertThat(otherSha.ignored()).isTrue();
    assertThat(otherSha.message()).contains("no preview waits for acme/shop@" + sha(2));
    assertThat(otherName.ignored()).isTrue();
    assertThat(otherName.message()).contains("lint is not one of build.waitFor [build-image]");
    assertThat(otherRepo.ignored()).isTrue();
    assertThat(pending.ignored()).isTrue();
    assertThat(pending.message()).contains("still in_progress");
    assertThat(orchestrator.waiting()).containsExactly(PR1);
    assertThat(scm.latest(PR1).orElseThrow().state()).isEqualTo(PreviewState.WAITING);
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void a_success_that_arrives_before_the_pr_event_is_remembered() throws Exception {
    waitingForCi();

    BuildEventResult early = orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success"));
    Preview p = opened(PR1, 1);

    assertThat(early.ignored()).isTrue();
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(scm.history(PR1)).extracting(PreviewStatus::state).doesNotContain(PreviewState.WAITING);
  }

  @Test
  void a_newer_push_supersedes_the_wait_and_the_old_sha_s_success_no_longer_deploys() throws Exception {
    waitingForCi();
    opened(PR1, 1);

    PullRequest pushed = open(PR1, 2);
    Preview second = done(orchestrator.handle(PullRequestEvent.of(Action.UPDATED, pushed)));
    assertThat(second.state()).isEqualTo(PreviewState.WAITING);
    assertThat(second.revision()).isEqualTo(sha(2));

    BuildEventResult old = orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success"));
    assertThat(old.ignored()).isTrue();
    assertThat(env.applied()).isEmpty();

    BuildEventResult now = orchestrator.handle(ci("build-image", 2, Conclusion.SUCCESS, "success"));
    Preview p = done(now.runs().get(PR1));
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(env.applied(PR1)).extracting(s -> s.revision()).containsExactly(sha(2));
  }

  @Test
  void a_teardown_drops_the_wait() throws Exception {
    waitingForCi();
    opened(PR1, 1);

    source.close(PR1);
    done(orchestrator.handle(PullRequestEvent.of(Action.CLOSED, source.find(PR1).orElseThrow())));

    assertThat(orchestrator.waiting()).isEmpty();
    assertThat(orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success")).ignored()).isTrue();
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void the_deadline_fails_it_naming_the_image_and_the_timeout() throws Exception {
    orchestrator(b -> b.waitFor(List.of("build-image")).timeout(Duration.ofMinutes(30)));
    opened(PR1, 1);

    clock.advance(Duration.ofMinutes(29));
    orchestrator.reconcile(false);
    assertThat(scm.latest(PR1).orElseThrow().state()).as("still within the timeout").isEqualTo(PreviewState.WAITING);

    clock.advance(Duration.ofMinutes(1));
    orchestrator.reconcile(false);

    await().atMost(Duration.ofSeconds(10))
        .until(() -> scm.latest(PR1).orElseThrow().state() == PreviewState.FAILED);
    PreviewStatus status = scm.latest(PR1).orElseThrow();
    assertThat(status.message()).isEqualTo("no image " + IMAGE + " after 30m; check the CI job (build-image)");
    assertThat(status.failedStep()).isEqualTo("wait");
    assertThat(orchestrator.waiting()).isEmpty();
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void reconcile_rechecks_a_wait_whose_ci_event_was_missed_by_looking_for_the_image() throws Exception {
    waitingForCi(); // pollImage off: only reconcile looks
    opened(PR1, 1);
    assertThat(env.looks(IMAGE)).as("a wait for CI events does not look by itself").isZero();

    env.image(IMAGE, ImageAvailability.PRESENT); // CI pushed it; its event never came
    orchestrator.reconcile(false);

    await().atMost(Duration.ofSeconds(10)).until(() -> env.current(PR1).isPresent());
    await().atMost(Duration.ofSeconds(10))
        .until(() -> scm.latest(PR1).orElseThrow().state() == PreviewState.READY);
    assertThat(env.current(PR1).orElseThrow().revision()).isEqualTo(sha(1));
    assertThat(orchestrator.waiting()).isEmpty();
  }

  @Test
  void a_wait_that_cannot_look_stays_waiting_on_reconcile() throws Exception {
    waitingForCi();
    opened(PR1, 1);

    orchestrator.reconcile(false); // the image is UNKNOWN to the provider

    assertThat(orchestrator.waiting()).containsExactly(PR1);
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void poll_image_deploys_at_once_when_the_image_is_there() throws Exception {
    orchestrator(b -> b.pollImage(true));
    env.image(IMAGE, ImageAvailability.PRESENT);

    Preview p = opened(PR1, 1);

    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(scm.history(PR1)).extracting(PreviewStatus::state).doesNotContain(PreviewState.WAITING);
  }

  @Test
  void poll_image_looks_again_with_backoff_and_deploys_when_the_image_appears() throws Exception {
    orchestrator(b -> b.pollImage(true).pollInterval(Duration.ofMillis(20)));
    env.image(IMAGE, ImageAvailability.ABSENT);

    Preview p = opened(PR1, 1);
    assertThat(p.state()).isEqualTo(PreviewState.WAITING);
    assertThat(p.message()).isEqualTo("waiting for the image " + IMAGE + " to appear in the registry");
    await().atMost(Duration.ofSeconds(10)).until(() -> env.looks(IMAGE) >= 3); // looked again, by itself

    env.image(IMAGE, ImageAvailability.PRESENT);

    await().atMost(Duration.ofSeconds(20)).until(() -> scm.latest(PR1).orElseThrow().state() == PreviewState.READY);
    assertThat(env.current(PR1).orElseThrow().revision()).isEqualTo(sha(1));
  }

  @Test
  void a_look_that_throws_counts_as_unknown_and_the_wait_goes_on() throws Exception {
    orchestrator(b -> b.pollImage(true));
    faults.failAlways("environment.imageAvailable");

    Preview p = opened(PR1, 1);

    assertThat(p.state()).isEqualTo(PreviewState.WAITING);
  }

  @Test
  void two_hundred_waiting_prs_hold_no_thread_each() throws Exception {
    orchestrator(b -> b.waitFor(List.of("build-image")).pollImage(true), 2);
    // Warm up: the worker pool and the one shared timer exist from here on.
    List<CompletableFuture<Preview>> warm = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      warm.add(orchestrator.handle(PullRequestEvent.of(Action.OPENED, open(PreviewKey.pr(REPO, i), i))));
    }
    for (CompletableFuture<Preview> f : warm) {
      assertThat(done(f).state()).isEqualTo(PreviewState.WAITING);
    }
    int before = Thread.getAllStackTraces().size();

    List<CompletableFuture<Preview>> runs = new ArrayList<>();
    for (int i = 11; i <= 210; i++) {
      runs.add(orchestrator.handle(PullRequestEvent.of(Action.OPENED, open(PreviewKey.pr(REPO, i), i))));
    }
    for (CompletableFuture<Preview> f : runs) {
      assertThat(done(f).state()).isEqualTo(PreviewState.WAITING);
    }

    assertThat(orchestrator.waiting()).hasSize(210);
    assertThat(Thread.getAllStackTraces().size()).as("threads with 200 more PRs waiting").isLessThanOrEqualTo(before + 2);

    // And they all still move on: one CI event each.
    BuildEventResult r = orchestrator.handle(ci("build-image", 150, Conclusion.SUCCESS, "success"));
    assertThat(done(r.runs().get(PreviewKey.pr(REPO, 150))).state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.waiting()).hasSize(209);
  }

  @Test
  void without_waiting_settings_no_wait_step_runs() throws Exception {
    orchestrator(b -> {});

    Preview p = opened(PR1, 1);

    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(env.looks(IMAGE)).isZero();
    assertThat(orchestrator.handle(ci("build-image", 1, Conclusion.SUCCESS, "success")).message())
        .contains("build.waitFor names no CI check");
  }
}
