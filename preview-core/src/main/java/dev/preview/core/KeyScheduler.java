package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Op}s one at a time per {@link PreviewKey}, different keys in parallel on a fixed pool.
 *
 * <p>Owns the per-key queues: at most one op running and one pending per key. A newer submit
 * replaces the pending op (latest wins; the replaced op's callers get the newer op's outcome) and
 * makes the running op give way at its next {@link SafePoints safe point} by throwing
 * {@link Superseded}. It also stamps every submit and finished run, so that reconcile can tell when
 * what it listed about a key went stale ({@link #stamp()}, {@link #touchedSince}).
 *
 * <p>What an op does is the {@link Runner}'s business; this class knows nothing of providers.
 *
 * <p>Thread-safe: each key's queue is guarded by its worker's monitor, which is also what a
 * readiness wait sleeps on so that a submit wakes it.
 */
final class KeyScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  /** Does one op for one key, on a worker thread; may throw {@link Superseded} at a safe point. */
  interface Runner {
    Preview run(PreviewKey key, Op op, SafePoints safePoints);
  }

  /** Where a running op may give way to a newer one for its key. */
  interface SafePoints {
    /** Throws {@link Superseded} if a newer op is pending. */
    void check();

    /** Waits up to {@code millis}, woken early by a submit; throws {@link Superseded} if a newer op is pending. */
    void pause(long millis) throws InterruptedException;
  }

  /** Thrown at a safe point when a newer op is pending for the key. */
  static final class Superseded extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Superseded() {
      super(null, null, false, false);
    }
  }

  /** An op and the callers waiting for its outcome. */
  private static final class Queued {
    final Op op;
    final List<CompletableFuture<Preview>> waiters = new ArrayList<>();

    Queued(Op op) {
      this.op = op;
    }
  }

  /** The queue of one key: at most one op running and one pending (the latest). */
  private static final class KeyWorker implements SafePoints {
    final PreviewKey key;
    Queued pending;
    boolean running;
    /** The {@code touches} stamp of the last submit or finished run for this key. */
    long touched;
    /** The {@code touches} stamp of the last submit for this key. */
    long submitted;

    KeyWorker(PreviewKey key) {
      this.key = key;
    }

    @Override
    public synchronized void check() {
      if (pending != null) {
        throw new Superseded();
      }
    }

    @Override
    public synchronized void pause(long millis) throws InterruptedException {
      if (pending != null) {
        throw new Superseded();
      }
      wait(millis); // woken early by a newer event
      if (pending != null) {
        throw new Superseded();
      }
    }
  }

  private final ExecutorService executor;
  /** Runs delayed submits ({@link #submitLater}): one thread that only queues ops, never runs them. */
  private final ScheduledExecutorService timer;
  private final Runner runner;
  /**
   * Keys with a drain loop running, plus delayed submits not yet made: zero when quiescent. Atomic,
   * so that submits (webhook threads) and finished runs (workers) never queue on one monitor; only
   * reaching zero takes {@code idle}, to wake {@link #awaitQuiescence}.
   */
  private final AtomicInteger active = new AtomicInteger();
  private final Object idle = new Object();
  private final Listeners listeners;
  private final Map<PreviewKey, KeyWorker> workers = new ConcurrentHashMap<>();
  /** Stamps submits and finished runs, so reconcile can tell its facts about a key went stale. */
  private final AtomicLong touches = new AtomicLong();

  KeyScheduler(int parallelism, Runner runner, Listeners listeners) {
    this.runner = runner;
    this.listeners = listeners;
    AtomicInteger n = new AtomicInteger();
    ThreadFactory tf = r -> {
      Thread t = new Thread(r, "preview-worker-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    this.executor = Executors.newFixedThreadPool(parallelism, tf);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "preview-retry");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Submits {@code op} for {@code key} after {@code delay}, unless by then the key had a submit after
   * {@code stamp} (a newer event, a repair) or has work in flight: a retry that no thread sleeps for,
   * and that never replaces newer work. Counts as activity for {@link #awaitQuiescence} until it is made or dropped.
   */
  void submitLater(PreviewKey key, Op op, java.time.Duration delay, long stamp) {
    enterActive();
    try {
      timer.schedule(() -> {
        try {
          if (submitIfNoSubmitSince(key, op, stamp) == null) {
            log.info("{}: a retry was dropped: newer work for the key came first", key);
          }
        } catch (RuntimeException e) {
          log.warn("{}: a retry could not be submitted: {}", key, e.toString());
        } finally {
          leaveActive();
        }
      }, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      leaveActive();
      log.info("{}: not retrying: the orchestrator is closing", key);
    }
  }

  /**
   * Waits until no op runs or is pending for any key and no delayed submit is waiting; true if so
   * within {@code timeout}.
   */
  boolean awaitQuiescence(java.time.Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idle) {
      while (active.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(idle, left);
      }
      return true;
    }
  }

  private void enterActive() {
    active.incrementAndGet();
  }

  private void leaveActive() {
    if (active.decrementAndGet() == 0) {
      // a waiter checks the count holding idle and waits in the same hold: it sees zero, or gets this
      synchronized (idle) {
        idle.notifyAll();
      }
    }
  }

  /** The current stamp: a key {@link #touchedSince} it had a submit or a finished run after it was taken. */
  long stamp() {
    return touches.get();
  }

  /** Queues {@code op} for {@code key}; the future completes with its outcome (or a newer op's). */
  CompletableFuture<Preview> submit(PreviewKey key, Op op) {
    return submit(key, op, Long.MAX_VALUE);
  }

  /** Like {@link #submit}, but returns null if the key is busy or was touched after {@code stamp}. */
  CompletableFuture<Preview> submitUnlessTouchedAfter(PreviewKey key, Op op, long stamp) {
    return submit(key, op, stamp);
  }

  /**
   * Like {@link #submitUnlessTouchedAfter(PreviewKey, Op, long)}, but the key's run starts on
   * {@code on} (reconcile's bounded pool of repairs) instead of this scheduler's pool: the key's ops
   * still run one at a time, whoever runs them.
   */
  CompletableFuture<Preview> submitUnlessTouchedAfter(PreviewKey key, Op op, long stamp, Executor on) {
    return submit(key, op, stamp, on);
  }

  /**
   * Like {@link #submit}, but returns null if the key has an op running or pending: that op (a
   * newer push, say) is left to decide, never replaced by this one.
   */
  CompletableFuture<Preview> submitIfIdle(PreviewKey key, Op op) {
    return submit(key, op, IF_IDLE);
  }

  /** A stamp no key is ever touched after: {@link #submit(PreviewKey, Op, long)} then checks only that the key is idle. */
  private static final long IF_IDLE = Long.MAX_VALUE - 1;

  private CompletableFuture<Preview> submit(PreviewKey key, Op op, long unlessTouchedAfter) {
    return submit(key, op, unlessTouchedAfter, executor);
  }

  /** Submits {@code op} unless {@code key} is busy or had a submit after {@code stamp}; null if not submitted. */
  private CompletableFuture<Preview> submitIfNoSubmitSince(PreviewKey key, Op op, long stamp) {
    KeyWorker w = workers.computeIfAbsent(key, KeyWorker::new);
    synchronized (w) {
      if (w.running || w.pending != null || w.submitted > stamp) {
        return null;
      }
      // the key's monitor is reentrant: nothing can slip in between this check and the submit
      return submit(key, op, Long.MAX_VALUE, executor);
    }
  }

  private CompletableFuture<Preview> submit(PreviewKey key, Op op, long unlessTouchedAfter, Executor on) {
    CompletableFuture<Preview> f = new CompletableFuture<>();
    Queued q = new Queued(op);
    q.waiters.add(f);
    KeyWorker w = workers.computeIfAbsent(key, KeyWorker::new);
    boolean start;
    synchronized (w) {
      if (unlessTouchedAfter != Long.MAX_VALUE && (w.running || w.pending != null || w.touched > unlessTouchedAfter)) {
        return null;
      }
      w.touched = touches.incrementAndGet();
      w.submitted = w.touched;
      if (w.pending != null) {
        q.waiters.addAll(w.pending.waiters); // replaced: its callers get this op's outcome
      }
      w.pending = q;
      start = !w.running;
      w.running = true;
      w.notifyAll(); // wakes a readiness wait, which then gives way
    }
    if (start) {
      enterActive();
      try {
        if (on != executor && executor.isShutdown()) {
          throw new RejectedExecutionException("the orchestrator is closed");
        }
        on.execute(() -> drain(w));
      } catch (RuntimeException e) {
        leaveActive();
        // Refused (closed): fail every caller waiting on this key, including an op submitted meanwhile.
        List<CompletableFuture<Preview>> waiting = new ArrayList<>(q.waiters);
        synchronized (w) {
          if (w.pending != null && w.pending != q) {
            waiting.addAll(w.pending.waiters);
          }
          w.running = false;
          w.pending = null;
        }
        for (CompletableFuture<Preview> waiter : waiting) {
          waiter.completeExceptionally(e);
        }
      }
    }
    return f;
  }

  private void drain(KeyWorker w) {
    Queued q;
    synchronized (w) {
      q = w.pending;
      w.pending = null;
      if (q == null) {
        w.running = false;
        leaveActive();
        return;
      }
    }
    while (true) {
      Preview result = null;
      String revision = q.op.deployRevision();
      try {
        result = runner.run(w.key, q.op, w);
      } catch (Superseded s) {
        listeners.fire(l -> l.onSuperseded(w.key, revision));
        log.info("{}: run for {} superseded by a newer event", w.key, revision == null ? "teardown" : revision);
      } catch (RuntimeException | Error e) {
        log.error("{}: unexpected failure", w.key, listeners.redaction().exception(e));
        result = Preview.of(w.key, PreviewState.FAILED, revision, String.valueOf(e));
      }
      Queued next;
      synchronized (w) {
        w.touched = touches.incrementAndGet();
        next = w.pending;
        w.pending = null;
        if (next == null) {
          w.running = false; // before completing the futures, so callers see the key idle
          leaveActive();
        } else if (result == null) {
          next.waiters.addAll(q.waiters); // superseded: its callers get the newer run's outcome
        }
      }
      if (result == null && next == null) {
        result = Preview.of(w.key, PreviewState.PENDING, null, "superseded");
      }
      if (result != null) {
        for (CompletableFuture<Preview> f : q.waiters) {
          f.complete(result);
        }
      }
      if (next == null) {
        return;
      }
      q = next;
    }
  }

  /** Whether {@code key} has an op running or pending. */
  boolean busy(PreviewKey key) {
    KeyWorker w = workers.get(key);
    if (w == null) {
      return false;
    }
    synchronized (w) {
      return w.running || w.pending != null;
    }
  }

  /** Whether {@code key} had a submit or a finished run after {@code stamp} was taken. */
  boolean touchedSince(PreviewKey key, long stamp) {
    KeyWorker w = workers.get(key);
    if (w == null) {
      return false;
    }
    synchronized (w) {
      return w.touched > stamp;
    }
  }

  /** Stops accepting ops and waits up to 30 s for the running ones. */
  @Override
  public void close() {
    timer.shutdownNow();
    executor.shutdown();
    try {
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }
}
