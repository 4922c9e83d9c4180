package dev.preview.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How long an SCM read that disagrees with a webhook is retried before the SCM is believed: an
 * {@code opened}/{@code reopened} whose PR the SCM still shows closed (its API lags behind its own
 * webhooks), a {@code closed} whose PR it still shows open (or cannot be asked). Retry {@code n}
 * (0-based) comes {@code first * 2^n} after the previous read, on the scheduler: no thread waits.
 *
 * @param attempts how many retries at most (0: believe the first read)
 * @param first the delay before the first retry
 */
record ScmRetry(int attempts, Duration first) {
  static final ScmRetry DEFAULT = new ScmRetry(4, Duration.ofSeconds(1));

  ScmRetry {
    Objects.requireNonNull(first, "first");
    if (attempts < 0 || first.isNegative()) {
      throw new IllegalArgumentException("attempts and delay must not be negative");
    }
  }

  /** The delay before retry {@code attempt} (0-based). */
  Duration delay(int attempt) {
    return first.multipliedBy(1L << Math.min(attempt, 20));
  }
}
