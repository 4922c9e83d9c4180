package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import dev.preview.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PreviewOrchestrator#wake} and {@link PreviewActions#wake}: a resume where the provider has one,
 * else a deploy of the PR's head as the SCM has it now, once however many ask at the same moment.
 */
class OrchestratorWakeTest {
  static final PreviewKey PR = PreviewKey.pr("acme/shop", 7);

  final Faults faults = new Faults();
  final FakeEnvironmentProvider fake = new FakeEnvironmentProvider(faults);
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  final MutableClock clock = new MutableClock(Instant.parse("2026-11-01T10:00:00Z"));
  PreviewOrchestrator orchestrator;
  ExecutorService pool;

  @AfterEach
  void close() {
    faults.clear();
    if (pool != null) {
      pool.shutdownNow();
    }
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator orchestrator(EnvironmentProvider environment, boolean withSource) {
    AppTemplate app = AppTemplate.builder()
        .image("registry.example/shop:latest")
        .hostnameTemplate("pr-{number}.preview.example.com")
        .readinessTimeout(Duration.ofMillis(500))
        .readinessInterval(Duration.ofMillis(10))
        .build();
    PreviewOrchestrator.Builder b = PreviewOrchestrator.builder()
        .environment(environment).notifier(scm)
        .app(app).policy(PreviewPolicy.builder().build()).clock(clock)
        .healthCheck(url -> true);
    if (withSource) {
      b.pullRequests(source);
    }
    orchestrator = b.build();
    return orchestrator;
  }

  static String sha(int n) {
    return String.format("%040x", n);
  }

  /** Deploys PR 7 at sha(1), then has it stopped behind the provider's back (SUSPENDED) and pushed to sha(2). */
  void deployedThenAsleepWithANewHead() throws Exception {
    PullRequest first = PullRequest.open(PR, sha(1), "feature", "main");
    source.put(first);
    Preview p = orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, first)).get(10, TimeUnit.SECONDS);
    assertThat(p.state()).isEqualTo(PreviewState.READY);
    fake.suspend(PR);
    assertThat(orchestrator.get(PR).orElseThrow().state()).isEqualTo(PreviewState.SLEEPING);
    // the push's webhook was missed: only the SCM knows the new head
    source.put(PullRequest.open(PR, sha(2), "feature", "main"));
  }

  @Test
  void withoutSuspendTwentyConcurrentWakesDeployThePrsHeadOnce() throws Exception {
    orchestrator(new NoResume(fake), true);
    deployedThenAsleepWithANewHead();
    int applies = fake.applied(PR).size();

    Faults.Gate apply = faults.block("environment.apply");
    Optional<CompletableFuture<Preview>> first = orchestrator.wake(PR, "a test");
    assertThat(first).as("an idle key takes the wake").isPresent();
    assertThat(apply.awaitEntered(Duration.ofSeconds(10))).as("the wake deploys").isTrue();

    pool = Executors.newFixedThreadPool(19);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Optional<CompletableFuture<Preview>>>> others = new ArrayList<>();
    for (int i = 0; i < 19; i++) {
      others.add(pool.submit(() -> {
        go.await();
        return orchestrator.wake(PR, "a concurrent test");
      }));
    }
    go.countDown();
    for (Future<Optional<CompletableFuture<Preview>>> o : others) {
      assertThat(o.get(10, TimeUnit.SECONDS)).as("a wake while the first runs queues nothing").isEmpty();
    }
    apply.release();

    Preview woken = first.get().get(10, TimeUnit.SECONDS);
    assertThat(woken.state()).as(woken.message()).isEqualTo(PreviewState.READY);
    assertThat(woken.revision()).as("the PR's head as the SCM has it now").isEqualTo(sha(2));
    assertThat(fake.applied(PR)).hasSize(applies + 1);
    assertThat(fake.current(PR).orElseThrow().revision()).isEqualTo(sha(2));
    assertThat(fake.find(PR).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(scm.latest(PR).orElseThrow().state()).isEqualTo(PreviewState.READY);
    assertThat(faults.calls("environment.resume")).as("a provider without suspend is never resumed").isZero();

    // awake now: a later wake deploys nothing
    Optional<CompletableFuture<Preview>> again = orchestrator.wake(PR, "again");
    assertThat(again).isPresent();
    assertThat(again.get().get(10, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.awaitQuiescence(Duration.ofSeconds(10))).isTrue();
    assertThat(fake.applied(PR)).hasSize(applies + 1);
  }

  @Test
  void aResumeThatIsUnsupportedFallsBackToADeployThroughTheOperatorsWake() throws Exception {
    ResumeUnsupported provider = new ResumeUnsupported(fake);
    orchestrator(provider, true);
    deployedThenAsleepWithANewHead();
    int applies = fake.applied(PR).size();

    PreviewActions.Result r = PreviewActions.of(orchestrator, PreviewPolicy.builder().build(), clock).wake(PR);
    assertThat(r.done()).as(r.message()).isTrue();
    assertThat(r.run()).isNotNull();
    Preview woken = r.run().get(10, TimeUnit.SECONDS);
    assertThat(woken.state()).as(woken.message()).isEqualTo(PreviewState.READY);
    assertThat(woken.revision()).isEqualTo(sha(2));
    assertThat(provider.resumes).as("resume was tried first").isEqualTo(1);
    assertThat(fake.applied(PR)).hasSize(applies + 1);
    assertThat(fake.find(PR).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(scm.history(PR)).extracting(PreviewStatus::state).doesNotContain(PreviewState.FAILED);
  }

  @Test
  void whereResumeWorksTheOperatorsWakeResumesTheRunningRevisionAndDeploysNothing() throws Exception {
    orchestrator(fake, true);
    deployedThenAsleepWithANewHead();
    int applies = fake.applied(PR).size();

    PreviewActions.Result r = PreviewActions.of(orchestrator, PreviewPolicy.builder().build(), clock).wake(PR);
    assertThat(r.done()).as(r.message()).isTrue();
    Preview woken = r.run().get(10, TimeUnit.SECONDS);
    assertThat(woken.state()).as(woken.message()).isEqualTo(PreviewState.READY);
    assertThat(woken.revision()).as("a resume keeps the revision it had").isEqualTo(sha(1));
    assertThat(faults.calls("environment.resume")).isEqualTo(1);
    assertThat(fake.applied(PR)).hasSize(applies);
  }

  @Test
  void withoutAPrSourceTheWakeIsRefusedAndThePreviewStaysAsleepUnannounced() throws Exception {
    orchestrator(new NoResume(fake), false);
    PullRequest first = PullRequest.open(PR, sha(1), "feature", "main");
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, first)).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.READY);
    fake.suspend(PR);
    int applies = fake.applied(PR).size();
    int published = scm.history(PR).size();

    Preview p = orchestrator.wake(PR, "a test").orElseThrow().get(10, TimeUnit.SECONDS);
    assertThat(p.state()).isEqualTo(PreviewState.SLEEPING);
    assertThat(p.message()).contains("fake-no-resume cannot resume environments", "no pull request source");
    assertThat(fake.applied(PR)).hasSize(applies);
    assertThat(scm.history(PR)).as("nothing published: the PR still shows what it was").hasSize(published);
  }

  @Test
  void aClosedPrIsNotDeployedAgainToWakeIt() throws Exception {
    orchestrator(new NoResume(fake), true);
    deployedThenAsleepWithANewHead();
    source.close(PR);
    int applies = fake.applied(PR).size();

    Preview p = orchestrator.wake(PR, "a test").orElseThrow().get(10, TimeUnit.SECONDS);
    assertThat(p.state()).isEqualTo(PreviewState.SLEEPING);
    assertThat(p.message()).contains("closed");
    assertThat(fake.applied(PR)).hasSize(applies);
  }

  /** A provider that reports a stopped app as SUSPENDED but has no suspend/resume (the SPI's defaults). */
  static class NoResume implements EnvironmentProvider {
    final EnvironmentProvider delegate;

    NoResume(EnvironmentProvider delegate) {
      this.delegate = delegate;
    }

    @Override public String name() { return "fake-no-resume"; }
    @Override public Environment apply(EnvironmentSpec spec) { return delegate.apply(spec); }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
    @Override public List<Environment> list() { return delegate.list(); }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }
    @Override public boolean supportsRelabel() { return delegate.supportsRelabel(); }
    @Override public Optional<Environment> relabel(PreviewKey key, Map<String, String> labels) { return delegate.relabel(key, labels); }
  }

  /** Says it supports suspend, but its resume is unsupported for this environment. */
  static final class ResumeUnsupported extends NoResume {
    volatile int resumes;

    ResumeUnsupported(EnvironmentProvider delegate) {
      super(delegate);
    }

    @Override public boolean supportsSuspend() { return true; }
    @Override public void suspend(PreviewKey key) { delegate.suspend(key); }

    @Override
    public Environment resume(PreviewKey key) {
      resumes++;
      throw new UnsupportedOperationException("this environment was created without a resumable volume");
    }
  }
}
