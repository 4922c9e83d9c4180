package dev.preview.spi;

import org.jspecify.annotations.Nullable;

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

  public ProviderException(String provider, String message, boolean retryable) {
    this(provider, message, retryable, -1, null);
  }

  public ProviderException(String provider, String message, boolean retryable, @Nullable Throwable cause) {
    this(provider, message, retryable, -1, cause);
  }

  public ProviderException(String provider, String message, boolean retryable, int httpStatus, @Nullable Throwable cause) {
    super(provider + ": " + message, cause);
    this.provider = provider;
    this.retryable = retryable;
    this.httpStatus = httpStatus;
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
}
