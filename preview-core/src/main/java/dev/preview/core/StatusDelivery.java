package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.ScmNotifier;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands statuses to the {@link ScmNotifier}: per PR in order, coalesced (only the newest wanted
 * status is sent; one superseded while waiting is never sent), never re-posting a status identical
 * to the last one published (the time it was produced aside), and retried after a failure.
 *
 * <p>Two modes. <b>Asynchronous</b> (what {@code preview serve} uses): {@link #submit} returns at
 * once and a small pool of status threads delivers, so a deploy never waits for the SCM; a failure
 * is retried with exponential backoff ({@code backoff} doubling up to {@code maxBackoff}) or, if the
 * notifier said when ({@link ProviderException#retryAt()}, a rate limit's reset), at that time, up
 * to {@code maxAttempts}. <b>Synchronous</b> (the library's default): {@link #submit} delivers on the
 * caller's thread, once. In both modes a key whose newest wanted status could not be published is
 * remembered, and {@link #republishDiverged()} (called by every reconcile) publishes it again.
 *
 * <p>What is remembered per key: the newest wanted status and the last one published; the entry
 * is dropped once a DELETED status was published. Thread-safe.
 */
final class StatusDelivery implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  /** How statuses are delivered. */
  record Options(boolean async, int threads, Duration backoff, Duration maxBackoff, int maxAttempts) {
    static Options synchronous() {
      return new Options(false, 0, Duration.ZERO, Duration.ZERO, 1);
    }

    static Options asynchronous() {
      return new Options(true, 4, Duration.ofSeconds(1), Duration.ofMinutes(5), 12);
    }
  }

  private final ScmNotifier notifier;
  private final Listeners listeners;
  private final Options options;
  private final Clock clock;
  private final Map<PreviewKey, Slot> slots = new ConcurrentHashMap<>();
  private final ExecutorService workers;
  private final ScheduledExecutorService timers;
  private volatile boolean closed;

  /** The delivery state of one key; guarded by its own monitor. */
  private static final class Slot {
    final PreviewKey key;
    PreviewStatus wanted;
    PreviewStatus published;
    boolean scheduled;
    boolean removed;
    int attempts;
    ScheduledFuture<?> retry;
    boolean waitingForReset;

    Slot(PreviewKey key) {
      this.key = key;
    }
  }

  StatusDelivery(ScmNotifier notifier, Options options, Clock clock) {
    this(notifier, options, clock, new Listeners(java.util.List.of()));
  }

  /** @param listeners told the outcome of every attempt ({@link PreviewListener#onStatusPublish}) */
  StatusDelivery(ScmNotifier notifier, Options options, Clock clock, Listeners listeners) {
    this.listeners = Objects.requireNonNull(listeners, "listeners");
    this.notifier = Objects.requireNonNull(notifier, "notifier");
    this.options = Objects.requireNonNull(options, "options");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (options.async()) {
      this.workers = Executors.newFixedThreadPool(options.threads(), daemon("preview-status"));
      this.timers = Executors.newSingleThreadScheduledExecutor(daemon("preview-status-retry"));
    } else {
      this.workers = null;
      this.timers = null;
    }
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The newest status for its key; returns at once when asynchronous. */
  void submit(PreviewStatus status) {
    Objects.requireNonNull(status, "status");
    while (true) {
      Slot slot = slots.computeIfAbsent(status.key(), Slot::new);
      boolean runNow;
      synchronized (slot) {
        if (slot.removed) {
          continue; // dropped after its DELETED was published: start a new one
        }
        slot.wanted = status;
        slot.attempts = 0;
        runNow = schedule(slot);
      }
      if (runNow) {
        drain(slot);
      }
      return;
    }
  }

  /**
   * Publishes again, for every key, the newest wanted status if it is not the one last published
   * (its delivery failed and retries ran out, or were never made). Returns how many keys it
   * re-published (or queued, when asynchronous). Keys in {@code except} are left alone.
   */
  int republishDiverged() {
    return republishDiverged(java.util.Set.of());
  }

  /** {@link #republishDiverged()} but for the keys in {@code except}. */
  int republishDiverged(java.util.Set<PreviewKey> except) {
    int n = 0;
    for (Slot slot : slots.values()) {
      if (except.contains(slot.key)) {
        continue;
      }
      boolean runNow;
      synchronized (slot) {
        if (slot.removed || slot.scheduled || slot.wanted == null || same(slot.wanted, slot.published)) {
          continue;
        }
        slot.attempts = 0;
        runNow = schedule(slot);
        n++;
      }
      log.info("{}: re-publishing {} (the PR shows {})", slot.key, slot.wanted.state(),
          slot.published == null ? "nothing of ours" : slot.published.state());
      if (runNow) {
        drain(slot);
      }
    }
    return n;
  }

  /** Whether this process has published, or wants to publish, any status of {@code key}. */
  boolean knows(PreviewKey key) {
    return slots.containsKey(key);
  }

  /**
   * The newest status wanted for {@code key} if it has not been published (its delivery is under
   * way, waits for a retry, or gave up), else null.
   */
  PreviewStatus undelivered(PreviewKey key) {
    Slot slot = slots.get(key);
    if (slot == null) {
      return null;
    }
    synchronized (slot) {
      return slot.wanted == null || same(slot.wanted, slot.published) ? null : slot.wanted;
    }
  }

  /** Whether a status of {@code key} is being sent now or is due without waiting for a retry. */
  boolean sending(PreviewKey key) {
    Slot slot = slots.get(key);
    return slot != null && busy(slot);
  }

  /** The status last published for {@code key}, if any is remembered. */
  PreviewStatus published(PreviewKey key) {
    Slot slot = slots.get(key);
    if (slot == null) {
      return null;
    }
    synchronized (slot) {
      return slot.published;
    }
  }

  /**
   * Makes sure a drain of {@code slot} will run; the caller holds its monitor. Returns true if the
   * caller must drain it now, on its own thread (synchronous mode).
   */
  private boolean schedule(Slot slot) {
    if (slot.scheduled) {
      if (slot.retry != null && !slot.waitingForReset && slot.retry.cancel(false)) {
        // a backoff after a failure: a newer status need not wait for it
        slot.retry = null;
        submitDrain(slot);
      }
      return false;
    }
    slot.scheduled = true;
    if (!options.async()) {
      return true;
    }
    submitDrain(slot);
    return false;
  }

  private void submitDrain(Slot slot) {
    try {
      workers.execute(() -> drain(slot));
    } catch (RejectedExecutionException e) {
      synchronized (slot) {
        slot.scheduled = false; // closed
      }
    }
  }

  private void drain(Slot slot) {
    while (true) {
      PreviewStatus status;
      synchronized (slot) {
        slot.retry = null;
        status = slot.wanted;
        if (status == null || same(status, slot.published)) {
          slot.scheduled = false;
          forgetIfDeleted(slot);
          return;
        }
      }
      RuntimeException failure = null;
      try {
        notifier.publish(status);
      } catch (RuntimeException e) {
        failure = e;
      }
      PreviewListener.StatusOutcome outcome;
      boolean again;
      synchronized (slot) {
        if (failure == null) {
          slot.published = status;
          slot.attempts = 0;
          outcome = PreviewListener.StatusOutcome.PUBLISHED;
          again = true; // a newer one may have come meanwhile
        } else if (slot.wanted != status) {
          outcome = PreviewListener.StatusOutcome.RETRIED; // superseded while it was being sent: send the newest instead
          again = true;
        } else {
          outcome = afterFailure(slot, status, failure);
          again = false;
        }
      }
      listeners.statusPublish(slot.key, status.state(), outcome);
      if (!again) {
        return;
      }
    }
  }

  /** Schedules a retry of {@code status} if it may be retried; the caller holds {@code slot}'s monitor. */
  private PreviewListener.StatusOutcome afterFailure(Slot slot, PreviewStatus status, RuntimeException failure) {
    slot.attempts++;
    boolean retryable = !(failure instanceof ProviderException pe) || pe.retryable();
    if (!options.async() || !retryable || slot.attempts >= options.maxAttempts() || closed) {
      slot.scheduled = false;
      log.warn("{}: {} could not publish {} ({}); reconcile publishes it again: {}", slot.key, notifier.name(),
          status.state(), options.async() ? slot.attempts + " attempts" : "once", failure.toString());
      return PreviewListener.StatusOutcome.DROPPED;
    }
    Duration delay = delay(failure, slot.attempts);
    slot.waitingForReset = failure instanceof ProviderException pe && pe.retryAt().isPresent();
    log.warn("{}: {} could not publish {}; retrying in {} ms: {}", slot.key, notifier.name(), status.state(),
        delay.toMillis(), failure.toString());
    try {
      // the timer only hands over: publishing runs on a status thread
      slot.retry = timers.schedule(() -> submitDrain(slot), delay.toNanos(), TimeUnit.NANOSECONDS); // never before a reset
    } catch (RejectedExecutionException e) {
      slot.scheduled = false;
      return PreviewListener.StatusOutcome.DROPPED;
    }
    return PreviewListener.StatusOutcome.RETRIED;
  }

  /** The rate limit's reset if the notifier said it, else exponential backoff. */
  Duration delay(RuntimeException failure, int attempt) {
    if (failure instanceof ProviderException pe && pe.retryAt().isPresent()) {
      Duration untilReset = Duration.between(clock.instant(), pe.retryAt().get());
      return untilReset.isNegative() ? Duration.ZERO : untilReset;
    }
    Duration d = options.backoff().multipliedBy(1L << Math.min(attempt - 1, 20));
    return d.compareTo(options.maxBackoff()) > 0 ? options.maxBackoff() : d;
  }

  private void forgetIfDeleted(Slot slot) {
    if (slot.published != null && slot.published.state() == PreviewState.DELETED && same(slot.wanted, slot.published)) {
      slot.removed = true;
      slots.remove(slot.key, slot);
    }
  }

  /** Equal but for when they were produced. */
  static boolean same(PreviewStatus a, PreviewStatus b) {
    if (a == null || b == null) {
      return a == b;
    }
    return a.equals(b.withUpdatedAt(a.updatedAt()));
  }

  /** Waits up to {@code flush} for the statuses being delivered, then stops the status threads. */
  void close(Duration flush) {
    closed = true;
    if (workers == null) {
      return;
    }
    Instant deadline = Instant.now().plus(flush);
    while (Instant.now().isBefore(deadline) && slots.values().stream().anyMatch(this::busy)) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    timers.shutdownNow();
    workers.shutdownNow();
  }

  /** Sending now, or due to be sent without waiting for a retry. */
  private boolean busy(Slot slot) {
    synchronized (slot) {
      return slot.scheduled && slot.retry == null;
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
