package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.ScmNotifier;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Statuses off the deploy's critical path: ordered per PR, coalesced, not repeated, retried, repaired by reconcile. */
class StatusDeliveryTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

  final Faults faults = new Faults();
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource prs = new FakePullRequestSource();
  PreviewOrchestrator orchestrator;
  StatusDelivery delivery;

  @AfterEach
  void close() {
    faults.clear();
    if (orchestrator != null) {
      orchestrator.close();
    }
    if (delivery != null) {
      delivery.close(Duration.ofSeconds(1));
    }
  }

  PreviewOrchestrator orchestrator(boolean async) {
    prs.put(PullRequest.open(KEY, SHA, "feature/x", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build())
        .healthCheck(url -> true).asyncStatus(async).build();
    return orchestrator;
  }

  static PullRequestEvent opened() {
    return new PullRequestEvent(PullRequestEvent.Action.OPENED, PullRequest.open(KEY, SHA, "feature/x", "main"), "d-1");
  }

  static PreviewStatus status(PreviewState state, String message) {
    return new PreviewStatus(KEY, state, SHA, null, null, message, null, null, null, Instant.now());
  }

  @Test
  void theDeployReachesReadyWhileTheScmHangsAndThePrEndsReadyOnceItAnswers() throws Exception {
    Faults.Gate gate = faults.block("scm.publish"); // the first status hangs, as a 60 s rate-limit wait would
    orchestrator(true);
    long t0 = System.nanoTime();
    Preview preview = orchestrator.handle(opened()).get(5, TimeUnit.SECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(preview.state()).isEqualTo(PreviewState.READY);
    assertThat(took).as("the deploy does not wait for the SCM").isLessThan(Duration.ofSeconds(2));
    assertThat(gate.awaitEntered(Duration.ofSeconds(5))).isTrue();
    assertThat(scm.history(KEY)).isEmpty();

    gate.release();
    await().atMost(Duration.ofSeconds(5)).until(() -> scm.latest(KEY).map(s -> s.state() == PreviewState.READY).orElse(false));
    // the hung status went out, then only the newest: nothing in between was sent after it
    List<PreviewState> states = scm.history(KEY).stream().map(PreviewStatus::state).toList();
    assertThat(states).hasSizeLessThanOrEqualTo(2).endsWith(PreviewState.READY);
  }

  @Test
  void aBurstIsCoalescedToTheNewestAndIdenticalStatusesAreNotRepeated() throws Exception {
    delivery = new StatusDelivery(scm, StatusDelivery.Options.asynchronous(), Clock.systemUTC());
    Faults.Gate gate = faults.block("scm.publish");
    delivery.submit(status(PreviewState.PROVISIONING, "first"));
    assertThat(gate.awaitEntered(Duration.ofSeconds(5))).isTrue();
    for (int i = 0; i < 200; i++) {
      delivery.submit(status(PreviewState.PROVISIONING, "step " + i));
    }
    delivery.submit(status(PreviewState.READY, "last"));
    gate.release();
    await().atMost(Duration.ofSeconds(5)).until(() -> scm.history(KEY).size() == 2);
    assertThat(scm.history(KEY)).extracting(PreviewStatus::message).containsExactly("first", "last");

    delivery.submit(status(PreviewState.READY, "last")); // the same again, produced later
    delivery.close(Duration.ofSeconds(5));
    assertThat(scm.history(KEY)).hasSize(2);
    assertThat(faults.calls("scm.publish")).isEqualTo(2);
  }

  @Test
  void aRateLimitIsRetriedAtItsResetAndOtherFailuresWithBackoff() {
    List<Instant> calls = new CopyOnWriteArrayList<>();
    AtomicInteger n = new AtomicInteger();
    Instant reset = Instant.now().plusMillis(600);
    ScmNotifier limited = new ScmNotifier() {
      @Override
      public String name() {
        return "limited";
      }

      @Override
      public void publish(PreviewStatus status) {
        calls.add(Instant.now());
        int i = n.incrementAndGet();
        if (i == 1) {
          throw new ProviderException("limited", "rate limited (quota exhausted)", true, 403, null, reset);
        }
        if (i == 2) {
          throw new ProviderException("limited", "answered 502", true, 502, null);
        }
      }
    };
    delivery = new StatusDelivery(limited, new StatusDelivery.Options(true, 1, Duration.ofMillis(100), Duration.ofSeconds(1), 5),
        Clock.systemUTC());
    delivery.submit(status(PreviewState.READY, "ready"));
    await().atMost(Duration.ofSeconds(5)).until(() -> delivery.published(KEY) != null);
    assertThat(calls).hasSize(3);
    assertThat(calls.get(1)).as("not before the reset").isAfterOrEqualTo(reset);
    assertThat(Duration.between(calls.get(1), calls.get(2))).as("backoff after a 502").isGreaterThanOrEqualTo(Duration.ofMillis(90));
    assertThat(delivery.published(KEY).message()).isEqualTo("ready");
  }

  @Test
  void aNonRetryableFailureStopsRetryingUntilReconcileRepublishes() {
    AtomicInteger n = new AtomicInteger();
    ScmNotifier forbidden = new ScmNotifier() {
      @Override
      public String name() {
        return "forbidden";
      }

      @Override
      public void publish(PreviewStatus status) {
        if (n.incrementAndGet() == 1) {
          throw new ProviderException("forbidden", "403: the token lacks a permission", false, 403, null);
        }
      }
    };
    delivery = new StatusDelivery(forbidden, StatusDelivery.Options.asynchronous(), Clock.systemUTC());
    delivery.submit(status(PreviewState.READY, "ready"));
    await().atMost(Duration.ofSeconds(5)).until(() -> n.get() == 1);
    assertThat(delivery.published(KEY)).isNull();
    assertThat(delivery.republishDiverged()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> delivery.published(KEY) != null);
    assertThat(delivery.republishDiverged()).as("nothing diverges any more").isZero();
  }

  @Test
  void reconcileRepublishesAReadyStatusThatFailedSoThePrDoesNotKeepAnOldOne() throws Exception {
    orchestrator(false);
    faults.failAlways("scm.publish");
    assertThat(orchestrator.handle(opened()).get(5, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.READY);
    assertThat(scm.latest(KEY)).isEmpty();

    faults.heal("scm.publish");
    orchestrator.reconcile(false);
    assertThat(scm.latest(KEY)).get().extracting(PreviewStatus::state).isEqualTo(PreviewState.READY);
    int published = scm.history(KEY).size();
    orchestrator.reconcile(false);
    orchestrator.reconcile(false);
    assertThat(scm.history(KEY)).as("a status that reached the PR is not posted again").hasSize(published);
  }

  @Test
  void closeLetsTheStatusesBeingSentFinish() throws Exception {
    faults.delay("scm.publish", Duration.ofMillis(200));
    orchestrator(true);
    orchestrator.handle(opened()).get(5, TimeUnit.SECONDS);
    orchestrator.close();
    orchestrator = null;
    assertThat(scm.latest(KEY)).get().extracting(PreviewStatus::state).isEqualTo(PreviewState.READY);
  }
}
