package dev.preview.spi;

import org.jspecify.annotations.Nullable;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A provider call failed. Says which provider, whether retrying the same call may succeed,
 * and the remote HTTP status where there is one.
 */
public class ProviderException extends PreviewException {
  private static final long serialVersionUID = 1L;
  private final String provider;
  private final boolean retryable;
  private final int httpStatus;
  private final @Nullable Instant retryAt;
  private final List<String> logTail;

  public ProviderException(String provider, String message, boolean retryable) {
    this(provider, message, retryable, -1, null);
  }

  public ProviderException(String provider, String message, boolean retryable, @Nullable Throwable cause) {
    this(provider, message, retryable, -1, cause);
  }

  public ProviderException(String provider, String message, boolean retryable, int httpStatus, @Nullable Throwable cause) {
    this(provider, message, retryable, httpStatus, cause, null);
  }

  /** A failure the remote side says may be retried at {@code retryAt} (a rate limit's reset), not before. */
  public ProviderException(String provider, String message, boolean retryable, int httpStatus, @Nullable Throwable cause,
      @Nullable Instant retryAt) {
    this(provider, message, retryable, httpStatus, cause, retryAt, List.of());
  }

  /**
   * A failure that comes with the last lines of what failed (a build's output): shown on the PR as
   * the failure's log lines (redacted), not squeezed into the message.
   */
  public ProviderException(String provider, String message, boolean retryable, @Nullable Throwable cause,
      List<String> logTail) {
    this(provider, message, retryable, -1, cause, null, logTail);
  }

  private ProviderException(String provider, String message, boolean retryable, int httpStatus, @Nullable Throwable cause,
      @Nullable Instant retryAt, List<String> logTail) {
    super(provider + ": " + message, cause);
    this.provider = provider;
    this.retryable = retryable;
    this.httpStatus = httpStatus;
    this.retryAt = retryAt;
    this.logTail = List.copyOf(logTail);
  }

  public String provider() {
    return provider;
  }

  public boolean retryable() {
    return retryable;
  }

  /** The remote HTTP status, if the failure came from an HTTP API. */
  public OptionalInt httpStatus() {
    return httpStatus < 0 ? OptionalInt.empty() : OptionalInt.of(httpStatus);
  }

  /** The last lines of what failed (a build's output), oldest first; empty when there are none. */
  public List<String> logTail() {
    return logTail;
  }

  /** When the remote side said a retry may succeed (e.g. a rate limit's reset time), if it said so. */
  public Optional<Instant> retryAt() {
    return Optional.ofNullable(retryAt);
  }
}
