package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.time.Duration;

/**
 * Hooks on everything the orchestrator does: state transitions, the start and end of each step with
 * its timing, and resources reclaimed by reconcile. Metrics, progress bars and audit logs hang here.
 * Called synchronously on the orchestrator's worker threads: return quickly, never throw (a
 * throwing listener is logged and ignored).
 */
public interface PreviewListener {

  /** A preview entered {@code state}. */
  default void onTransition(PreviewKey key, PreviewState state, String message) {}

  /** A step began: {@code policy}, {@code guard}, {@code database}, {@code environment}, {@code dns}, {@code readiness}, {@code notify}, {@code teardown.*}. */
  default void onStepStarted(PreviewKey key, String step) {}

  /** A step ended, successfully if {@code failure} is null. */
  default void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {}

  /** A run was abandoned at a safe point because a newer event for the same PR arrived. */
  default void onSuperseded(PreviewKey key, String revision) {}

  /** Reconcile removed (or, in a dry run, would remove) something. */
  default void onReclaimed(PreviewKey key, String what, String reason) {}

  /** What became of one attempt to publish a status to the SCM. */
  enum StatusOutcome {
    /** The SCM took it: the PR shows it. */
    PUBLISHED,
    /** It failed, and another attempt follows (after a backoff or the rate limit's reset, or at once for a newer status). */
    RETRIED,
    /** It failed and no attempt follows (not retryable, or out of attempts); the next reconcile publishes it again. */
    DROPPED
  }

  /**
   * An attempt to publish {@code key}'s status in {@code state} ended with {@code outcome}. Called on
   * the thread that published (a status thread when statuses are asynchronous). Identical statuses
   * that are not sent again, and statuses replaced before they were sent, make no attempt.
   */
  default void onStatusPublish(PreviewKey key, PreviewState state, StatusOutcome outcome) {}
}
