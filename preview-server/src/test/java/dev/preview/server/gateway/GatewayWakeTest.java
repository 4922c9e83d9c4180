package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wake on visit: a request for a sleeping preview resumes it once, and is answered by the app. */
class GatewayWakeTest {
  @TempDir Path dir;
  GatewayRig rig;
  Counting counting;
  final PreviewKey key = GatewayRig.pr(42);

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  private void start(java.util.function.UnaryOperator<GatewaySettings.Builder> settings) throws Exception {
    rig = new GatewayRig(dir, Clock.systemUTC(), settings, PreviewPolicy.defaults(), p -> counting = new Counting(p));
    rig.open(42, "c".repeat(40));
  }

  private void sleep() {
    Environment env = rig.local.find(key).orElseThrow();
    rig.local.suspend(key);
    rig.gateway.refreshNow();
    assertThat(reachable(env.url().getPort())).as("the app is stopped").isFalse();
  }

  private static boolean reachable(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void twentyConcurrentVisitsOfASleepingPreviewCauseOneResumeAndAllSucceed() throws Exception {
    start(b -> b);
    sleep();
    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<GatewayRig.Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        replies.add(pool.submit(() -> {
          go.await();
          return rig.get("pr-42.preview.test", "/echo", "Accept: application/json");
        }));
      }
      go.countDown();
      for (Future<GatewayRig.Reply> r : replies) {
        GatewayRig.Reply reply = r.get(90, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).contains("key=acme/shop#42\n");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(counting.resumes.get()).isEqualTo(1);
    assertThat(rig.local.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(rig.registry.scrape()).contains("preview_gateway_wakes_total{outcome=\"ok\"} 1.0")
        .containsPattern("preview_gateway_wake_seconds_count 1");
  }

  @Test
  void wokenThroughTheOrchestratorAVisitResumesOnceInOrderWithThePrsWorkAndThePrShowsReadyAgain() throws Exception {
    start(b -> b);
    rig.gateway.wakeThrough(rig.orchestrator);
    Environment before = rig.local.find(key).orElseThrow();
    assertThat(rig.orchestrator.sleep(key, "idle").get(30, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.SLEEPING);
    rig.gateway.refreshNow();
    assertThat(reachable(before.url().getPort())).as("the app is stopped").isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> rig.scm.latest(key).map(st -> st.state()).orElse(null) == PreviewState.SLEEPING);
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<GatewayRig.Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        replies.add(pool.submit(() -> {
          go.await();
          return rig.get("pr-42.preview.test", "/echo", "Accept: application/json");
        }));
      }
      go.countDown();
      for (Future<GatewayRig.Reply> r : replies) {
        assertThat(r.get(90, TimeUnit.SECONDS).status()).isEqualTo(200);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(counting.resumes.get()).isEqualTo(1);
    // the wake ran as an op of the PR's key, which tells the PR: no longer SLEEPING
    await().atMost(Duration.ofSeconds(10)).until(() -> rig.scm.latest(key).map(st -> st.state()).orElse(null) == PreviewState.READY);
    assertThat(rig.scm.latest(key).orElseThrow().message()).contains("awake again");
    assertThat(rig.orchestrator.wake(key, "again")).as("an idle key is woken as an op").isPresent()
        .get().satisfies(f -> assertThat(f.get(30, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.READY));
    assertThat(counting.resumes.get()).as("an awake preview is not resumed again").isEqualTo(1);
  }

  @Test
  void aBrowserSeesTheWakingUpPageThatRefreshesItselfUntilTheAppAnswers() throws Exception {
    start(b -> b);
    sleep();
    GatewayRig.Reply waking = rig.get("pr-42.preview.test", "/", "Accept: text/html,application/xhtml+xml");
    assertThat(waking.status()).isEqualTo(503);
    assertThat(waking.header("Retry-After")).isEqualTo("3");
    assertThat(waking.header("Cache-Control")).isEqualTo("no-store");
    assertThat(waking.body()).contains("Waking up the preview", "http-equiv=\"refresh\" content=\"3\"", "acme/shop#42");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> rig.get("pr-42.preview.test", "/", "Accept: text/html").status() == 200);
    assertThat(rig.get("pr-42.preview.test", "/", "Accept: text/html").body()).contains("Preview app acme/shop#42");
    assertThat(counting.resumes.get()).isEqualTo(1);
  }

  @Test
  void heldRequestsAreBoundedAndTimeOutWith503AndRetryAfter() throws Exception {
    start(b -> b.wakeMaxHeld(1).wakeHold(Duration.ofSeconds(20)));
    sleep();
    counting.gate = new CountDownLatch(1); // the resume waits until the test lets it go
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<GatewayRig.Reply> held = pool.submit(() -> rig.get("pr-42.preview.test", "/echo"));
      await().atMost(Duration.ofSeconds(10)).until(() -> counting.resumes.get() == 1);
      // the held request is counted before resume is called: wait until the gateway shows it held
      await().atMost(Duration.ofSeconds(10)).until(() -> rig.registry.scrape().contains("preview_gateway_held 1.0"));
      GatewayRig.Reply over = rig.get("pr-42.preview.test", "/echo");
      assertThat(over.status()).isEqualTo(503);
      assertThat(over.header("Retry-After")).isEqualTo("3");
      assertThat(held).isNotDone();
      counting.gate.countDown();
      assertThat(held.get(60, TimeUnit.SECONDS).status()).isEqualTo(200);
    } finally {
      pool.shutdownNow();
    }
    assertThat(counting.resumes.get()).isEqualTo(1);
  }

  @Test
  void aWakeThatTakesLongerThanTheHoldAnswers503WhileItGoesOn() throws Exception {
    start(b -> b.wakeHold(Duration.ofMillis(300)));
    sleep();
    counting.gate = new CountDownLatch(1);
    long start = System.nanoTime();
    GatewayRig.Reply r = rig.get("pr-42.preview.test", "/echo");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(r.status()).isEqualTo(503);
    assertThat(ms).isBetween(250L, 5_000L);
    counting.gate.countDown();
    await().atMost(Duration.ofSeconds(60)).until(() -> rig.get("pr-42.preview.test", "/echo").status() == 200);
    assertThat(counting.resumes.get()).isEqualTo(1);
  }

  @Test
  void onAProviderThatCannotResumeAVisitDeploysThePrsHeadAgainThroughTheOrchestratorOnce() throws Exception {
    AtomicInteger applies = new AtomicInteger();
    rig = new GatewayRig(dir, Clock.systemUTC(), b -> b, PreviewPolicy.defaults(), p -> new NoResume(p, applies));
    rig.open(42, "c".repeat(40));
    sleep(); // stopped behind the provider's back: it reports SUSPENDED but cannot resume
    int before = applies.get();

    // without the orchestrator there is nothing to deploy with: refused at once, nothing applied
    GatewayRig.Reply refused = rig.get("pr-42.preview.test", "/echo");
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.header("Retry-After")).isEqualTo("3");
    assertThat(applies.get()).isEqualTo(before);

    rig.gateway.wakeThrough(rig.orchestrator);
    ExecutorService pool = Executors.newFixedThreadPool(5);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<GatewayRig.Reply>> replies = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        replies.add(pool.submit(() -> {
          go.await();
          return rig.get("pr-42.preview.test", "/echo", "Accept: application/json");
        }));
      }
      go.countDown();
      for (Future<GatewayRig.Reply> r : replies) {
        GatewayRig.Reply reply = r.get(90, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).contains("key=acme/shop#42\n");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(applies.get() - before).as("one apply for five visits").isEqualTo(1);
    assertThat(rig.local.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
  }

  /** A provider that reports a stopped app as SUSPENDED but has no resume (the SPI's default); counts applies. */
  static final class NoResume implements EnvironmentProvider {
    final EnvironmentProvider delegate;
    final AtomicInteger applies;

    NoResume(EnvironmentProvider delegate, AtomicInteger applies) {
      this.delegate = delegate;
      this.applies = applies;
    }

    @Override public String name() { return "no-resume"; }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
    @Override public List<Environment> list() { return delegate.list(); }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }

    @Override
    public Environment apply(EnvironmentSpec spec) {
      applies.incrementAndGet();
      return delegate.apply(spec);
    }
  }

  /** Counts resumes; a gate, when set, holds them. */
  static final class Counting implements EnvironmentProvider {
    final EnvironmentProvider delegate;
    final AtomicInteger resumes = new AtomicInteger();
    volatile CountDownLatch gate;

    Counting(EnvironmentProvider delegate) {
      this.delegate = delegate;
    }

    @Override public String name() { return delegate.name(); }
    @Override public Environment apply(EnvironmentSpec spec) { return delegate.apply(spec); }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
    @Override public List<Environment> list() { return delegate.list(); }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }
    @Override public boolean supportsSuspend() { return true; }
    @Override public void suspend(PreviewKey key) { delegate.suspend(key); }
    @Override public boolean supportsRelabel() { return delegate.supportsRelabel(); }
    @Override public Optional<Environment> relabel(PreviewKey key, Map<String, String> labels) { return delegate.relabel(key, labels); }

    @Override
    public Environment resume(PreviewKey key) {
      resumes.incrementAndGet();
      CountDownLatch g = gate;
      if (g != null) {
        try {
          g.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return delegate.resume(key);
    }
  }
}
