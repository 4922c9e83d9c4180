package dev.preview.server.gateway;

import dev.preview.core.HealthCheck;
import dev.preview.core.Preview;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes sleeping previews on a visit: one wake per preview at a time, however many requests ask
 * (they all get the same future), made of {@code provider.resume(key)} and then the app's health check
 * polled until it passes or {@code timeout} runs out. A provider that cannot resume (no
 * {@code supportsSuspend}, or {@code resume} unsupported) gets its preview deployed again instead, an
 * {@code apply} of the PR's head, which the orchestrator's wake does ({@link #orchestrated}); without the
 * orchestrator such a wake is refused.
 */
final class Waker {
  private static final Logger LOG = LoggerFactory.getLogger(Waker.class);

  private final EnvironmentProvider provider;
  private final HealthCheck health;
  private final String healthPath;
  private final Duration timeout;
  private final ExecutorService executor;
  private final GatewayMetrics metrics;
  private final Consumer<Environment> woken;
  private final Map<PreviewKey, CompletableFuture<Environment>> running = new ConcurrentHashMap<>();
  /** Wakes through the orchestrator (in order with the PR's other work), or null: resume directly. */
  private volatile Function<PreviewKey, Optional<CompletableFuture<Preview>>> orchestrated;

  Waker(EnvironmentProvider provider, HealthCheck health, String healthPath, Duration timeout, ExecutorService executor,
      GatewayMetrics metrics, Consumer<Environment> woken) {
    this.provider = provider;
    this.health = health;
    this.healthPath = healthPath;
    this.timeout = timeout;
    this.executor = executor;
    this.metrics = metrics;
    this.woken = woken;
  }

  /**
   * Wake through {@code wakes} ({@code PreviewOrchestrator::wake}): the resume then runs as the next op
   * of the PR's key, never beside a deploy of it, and the PR shows READY again; when the key is busy
   * (empty), the gateway only waits for the app, which that work starts. Where the provider cannot
   * resume, that wake deploys the PR's head again (one op of the key, however many visits ask).
   */
  void orchestrated(Function<PreviewKey, Optional<CompletableFuture<Preview>>> wakes) {
    this.orchestrated = wakes;
  }

  /** The wake of {@code key}: the one running, or a new one. Completes with the running environment. */
  CompletableFuture<Environment> wake(PreviewKey key) {
    CompletableFuture<Environment> mine = new CompletableFuture<>();
    CompletableFuture<Environment> existing = running.putIfAbsent(key, mine);
    if (existing != null) {
      return existing;
    }
    executor.execute(() -> {
      long start = System.nanoTime();
      try {
        LOG.info("gateway: waking {} on a visit", key);
        Environment e = resume(key);
        awaitHealthy(key, e, start);
        metrics.wake(true, System.nanoTime() - start);
        LOG.info("gateway: {} is awake after {} ms", key, Duration.ofNanos(System.nanoTime() - start).toMillis());
        woken.accept(e);
        running.remove(key, mine);
        mine.complete(e);
      } catch (Throwable t) {
        metrics.wake(false, System.nanoTime() - start);
        LOG.warn("gateway: could not wake {}: {}", key, t.getMessage());
        running.remove(key, mine);
        mine.completeExceptionally(t);
      }
    });
    return mine;
  }

  private Environment resume(PreviewKey key) throws Exception {
    Function<PreviewKey, Optional<CompletableFuture<Preview>>> through = orchestrated;
    if (through != null) {
      // resumed, or deployed again where the provider cannot resume (PreviewOrchestrator.wake decides)
      Optional<CompletableFuture<Preview>> run = through.apply(key);
      if (run.isPresent()) {
        awaitReady(key, run.get(), "did not wake");
      }
      // busy: the PR's running work (a deploy) brings the app up; wait for the environment to have a URL
      return awaitStarted(key);
    }
    if (!provider.supportsSuspend()) {
      throw cannotResume(key, provider.name() + " cannot resume environments");
    }
    try {
      return provider.resume(key);
    } catch (UnsupportedOperationException e) {
      throw cannotResume(key, e.getMessage());
    }
  }

  private static IllegalStateException cannotResume(PreviewKey key, String why) {
    return new IllegalStateException(key + " is asleep and " + why + "; the gateway wakes such a preview by deploying it"
        + " again, which needs the orchestrator: call PreviewGateway.wakeThrough(orchestrator)");
  }

  private void awaitReady(PreviewKey key, CompletableFuture<Preview> run, String what) throws Exception {
    Preview p = run.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    if (p.state() != PreviewState.READY) {
      throw new IllegalStateException(key + " " + what + ": " + p.state() + (p.message().isEmpty() ? "" : ": " + p.message()));
    }
  }

  /** The environment of {@code key} once it runs with a URL, within {@code timeout}. */
  private Environment awaitStarted(PreviewKey key) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 25;
    while (true) {
      Optional<Environment> e = provider.find(key);
      if (e.isPresent() && e.get().url() != null && e.get().phase() != Environment.Phase.SUSPENDED) {
        return e.get();
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(key + " was not started within " + timeout.toSeconds() + "s");
      }
      Thread.sleep(pause);
      pause = Math.min(pause * 2, 500);
    }
  }

  boolean waking(PreviewKey key) {
    return running.containsKey(key);
  }

  private void awaitHealthy(PreviewKey key, Environment e, long start) throws Exception {
    if (e.url() == null) {
      throw new IllegalStateException(provider.name() + " resumed " + key + " without a URL");
    }
    URI url = e.url().resolve(healthPath.startsWith("/") ? healthPath.substring(1) : healthPath);
    long deadline = start + timeout.toNanos();
    long pause = 25;
    while (true) {
      try {
        if (health.healthy(url)) {
          return;
        }
      } catch (Exception ignored) {
        // not yet
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException(key + " did not answer its health check " + healthPath + " within " + timeout.toSeconds() + "s of its resume");
      }
      Thread.sleep(pause);
      pause = Math.min(pause * 2, 500);
    }
  }
}
