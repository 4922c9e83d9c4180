package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FaultsTest {
  private static final PreviewKey A = PreviewKey.pr("acme/shop", 1);
  private static final PreviewKey B = PreviewKey.pr("acme/shop", 2);
  private static final PreviewKey C = PreviewKey.pr("acme/shop", 3);

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final Faults faults = new Faults();

  @AfterEach
  void stop() {
    faults.clear();
    pool.shutdownNow();
  }

  private boolean succeeds(String op) {
    try {
      faults.run("fake", op, A, () -> {});
      return true;
    } catch (ProviderException e) {
      return false;
    }
  }

  @Test
  void failNthFailsExactlyTheNthCallCountedFromNow() {
    assertThat(succeeds("environment.apply")).isTrue(); // before the rule: not counted for it
    faults.failNth("environment.apply", 3);

    List<Boolean> outcomes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      outcomes.add(succeeds("environment.apply"));
    }

    assertThat(outcomes).containsExactly(true, true, false, true, true);
    assertThat(faults.calls("environment.apply")).isEqualTo(6);
  }

  @Test
  void failureIsANonRetryableProviderExceptionNamingTheCall() {
    faults.failNth("apply", 2);
    faults.run("fake", "environment.apply", A, () -> {});

    assertThatThrownBy(() -> faults.run("fake", "environment.apply", A, () -> {}))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.provider()).isEqualTo("fake");
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).contains("injected failure: apply call 2");
        });
  }

  @Test
  void shortNamesMatchEveryAreaButFullNamesOnlyTheirOwn() {
    faults.failNext("environment.delete");
    assertThat(succeeds("dns.delete")).isTrue();
    assertThat(succeeds("environment.delete")).isFalse();

    faults.failNext("delete");
    assertThat(succeeds("dns.delete")).isFalse();
    assertThat(faults.calls("delete")).isEqualTo(3);
    assertThat(faults.calls("dns.delete")).isEqualTo(2);
    assertThat(faults.calls()).containsEntry("environment.delete", 1).containsEntry("delete", 3);
  }

  @Test
  void failAlwaysFailsUntilHealed() {
    faults.failAlways("scm.publish");
    assertThat(succeeds("scm.publish")).isFalse();
    assertThat(succeeds("scm.publish")).isFalse();
    assertThat(succeeds("environment.apply")).isTrue();

    faults.heal("scm.publish");
    assertThat(succeeds("scm.publish")).isTrue();
  }

  @Test
  void clearRemovesRulesButKeepsCounts() {
    faults.failAlways("apply").failNth("create", 1);
    faults.clear();
    assertThat(succeeds("environment.apply")).isTrue();
    assertThat(succeeds("database.create")).isTrue();
    assertThat(faults.calls("apply")).isEqualTo(1);
  }

  @Test
  void blockHoldsTheNextCallInsideUntilReleased() throws Exception {
    Faults.Gate gate = faults.block("environment.apply");
    CountDownLatch bodyRan = new CountDownLatch(1);
    Future<?> call = pool.submit(() -> faults.run("fake", "environment.apply", A, bodyRan::countDown));

    assertThat(gate.awaitEntered(Duration.ofSeconds(5))).isTrue();
    assertThat(bodyRan.getCount()).isEqualTo(1);
    assertThat(call.isDone()).isFalse();
    // the gate holds only one call: the next one passes while the first still waits
    assertThat(succeeds("environment.apply")).isTrue();

    gate.release();
    call.get(5, TimeUnit.SECONDS);
    assertThat(bodyRan.getCount()).isZero();
  }

  @Test
  void awaitEnteredIsFalseWhenNoCallArrives() {
    Faults.Gate gate = faults.block("environment.delete");
    succeeds("environment.apply");
    assertThat(gate.awaitEntered(Duration.ofMillis(50))).isFalse();
    assertThat(gate.entered()).isFalse();
  }

  @Test
  void delayMakesCallsSlow() {
    faults.delay("environment.apply", Duration.ofMillis(300));
    long start = System.nanoTime();
    succeeds("environment.apply");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));

    // a removed delay is gone: with the 10-minute one still in effect this would time out
    faults.delay("environment.apply", Duration.ofMinutes(10));
    faults.delay("environment.apply", Duration.ZERO);
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> succeeds("environment.apply"));
  }

  @Test
  void concurrencyIsTrackedPerKeyAndAcrossKeys() throws Exception {
    Faults.Gate a1 = faults.block("environment.apply");
    Faults.Gate a2 = faults.block("environment.apply");
    Faults.Gate b = faults.block("environment.apply");
    Future<?> f1 = pool.submit(() -> faults.run("fake", "environment.apply", A, () -> {}));
    assertThat(a1.awaitEntered(Duration.ofSeconds(5))).isTrue();
    Future<?> f2 = pool.submit(() -> faults.run("fake", "environment.apply", A, () -> {}));
    assertThat(a2.awaitEntered(Duration.ofSeconds(5))).isTrue();
    Future<?> f3 = pool.submit(() -> faults.run("fake", "environment.apply", B, () -> {}));
    assertThat(b.awaitEntered(Duration.ofSeconds(5))).isTrue();

    assertThat(faults.maxConcurrentPerKey()).isEqualTo(2);
    assertThat(faults.maxConcurrent()).isEqualTo(3);
    faults.clear();
    for (Future<?> f : List.of(f1, f2, f3)) {
      f.get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void serialisedCallsPerKeyKeepMaxConcurrentPerKeyAtOne() throws Exception {
    List<CompletableFuture<Void>> runs = new ArrayList<>();
    for (PreviewKey key : List.of(A, B, C)) {
      runs.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < 20; i++) {
          faults.run("fake", "environment.apply", key, () -> {});
        }
      }, pool));
    }
    CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

    assertThat(faults.maxConcurrentPerKey()).isEqualTo(1);
    assertThat(faults.calls("apply")).isEqualTo(60);
  }

  @Test
  void failedAndBlockedCallsLeaveNothingInFlight() throws Exception {
    faults.failNext("environment.apply");
    succeeds("environment.apply");
    Faults.Gate gate = faults.block("environment.apply");
    Future<?> held = pool.submit(() -> faults.run("fake", "environment.apply", A, () -> {}));
    assertThat(gate.awaitEntered(Duration.ofSeconds(5))).isTrue();
    gate.release();
    held.get(5, TimeUnit.SECONDS);

    faults.resetConcurrency();
    assertThat(faults.maxConcurrent()).isZero();
    assertThat(faults.maxConcurrentPerKey()).isZero();
  }

  @Test
  void faultsSharedByFakesMakeTheScmLookDown() {
    FakePullRequestSource scm = new FakePullRequestSource(faults);
    scm.put(PullRequest.open(A, "abc1234", "feature", "main"));
    assertThat(scm.listOpen("acme/shop")).hasSize(1);

    faults.failAlways("pullRequests.listOpen");
    assertThatThrownBy(() -> scm.listOpen("acme/shop")).isInstanceOf(ProviderException.class);
    assertThat(scm.find(A)).isPresent();

    scm.close(A);
    faults.heal("pullRequests.listOpen");
    await().atMost(Duration.ofSeconds(1)).until(() -> scm.listOpen("acme/shop").isEmpty());
    assertThat(scm.find(A)).get().extracting(PullRequest::state).isEqualTo(PullRequest.State.CLOSED);
  }
}
