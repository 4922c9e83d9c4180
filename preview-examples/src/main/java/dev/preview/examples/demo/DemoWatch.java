package dev.preview.examples.demo;

import dev.preview.core.PreviewListener;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * What the demo knows of each preview, learnt only from the orchestrator's listener (the events
 * themselves arrive through the webhook server, so the demo never holds the runs' futures): the last
 * state and its message, the revision being deployed, the step that failed, and every key that had
 * any step at all. {@link #await} waits on these, with a deadline. Thread-safe.
 */
final class DemoWatch implements PreviewListener {
  /** Re-checks conditions that are not fed by this listener (e.g. the server's events in flight) this often. */
  private static final long RECHECK_MS = 10;

  private final Map<PreviewKey, PreviewState> states = new HashMap<>();
  private final Map<PreviewKey, String> messages = new HashMap<>();
  private final Map<PreviewKey, String> revisions = new HashMap<>();
  private final Map<PreviewKey, String> failedSteps = new HashMap<>();
  private final Set<PreviewKey> touched = new HashSet<>();
  private final Set<PreviewKey> deleting = new HashSet<>();

  @Override
  public synchronized void onTransition(PreviewKey key, PreviewState state, String message) {
    states.put(key, state);
    messages.put(key, message);
    touched.add(key);
    if (state == PreviewState.DELETING) {
      deleting.add(key);
    }
    if (state == PreviewState.PROVISIONING) {
      deleting.remove(key);
      // the orchestrator names the revision it deploys in this transition
      revisions.put(key, message);
      failedSteps.remove(key);
    }
    notifyAll();
  }

  @Override
  public synchronized void onStepStarted(PreviewKey key, String step) {
    touched.add(key);
    notifyAll();
  }

  @Override
  public synchronized void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
    if (failure != null) {
      failedSteps.putIfAbsent(key, step);
    }
    notifyAll();
  }

  synchronized PreviewState state(PreviewKey key) {
    return states.get(key);
  }

  synchronized String message(PreviewKey key) {
    return messages.getOrDefault(key, "");
  }

  synchronized String revision(PreviewKey key) {
    return revisions.get(key);
  }

  synchronized String failedStep(PreviewKey key) {
    return failedSteps.get(key);
  }

  /** Whether the orchestrator did anything at all for {@code key}. */
  synchronized boolean touched(PreviewKey key) {
    return touched.contains(key);
  }

  /** Whether {@code key} is READY at {@code revision}, or FAILED while deploying it. */
  synchronized boolean settled(PreviewKey key, String revision) {
    PreviewState s = states.get(key);
    return revision.equals(revisions.get(key)) && (s == PreviewState.READY || s == PreviewState.FAILED);
  }

  /** Whether a teardown of {@code key} began and ended (DELETED, or FAILED if it could not finish). */
  synchronized boolean tornDown(PreviewKey key) {
    PreviewState s = states.get(key);
    return deleting.contains(key) && (s == PreviewState.DELETED || s == PreviewState.FAILED);
  }

  /** Waits until {@code condition} holds; false if {@code timeout} passed first. */
  boolean await(BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (!condition.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          wait(Math.max(1, Math.min(RECHECK_MS, Duration.ofNanos(left).toMillis())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }
}
