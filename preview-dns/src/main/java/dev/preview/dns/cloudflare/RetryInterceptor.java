package dev.preview.dns.cloudflare;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Interceptor;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retries 429 (waiting what {@code Retry-After} says, capped) and 5xx (exponential backoff), and
 * counts every request that goes over the wire.
 */
final class RetryInterceptor implements Interceptor {
  private static final Logger LOG = LoggerFactory.getLogger(RetryInterceptor.class);

  /** How the interceptor waits; replaced in tests to record the waits instead of sleeping. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final int maxRetries;
  private final Duration baseDelay;
  private final Duration maxWait;
  private final Sleeper sleeper;
  private final AtomicLong requests = new AtomicLong();

  RetryInterceptor(int maxRetries, Duration baseDelay, Duration maxWait, Sleeper sleeper) {
    this.maxRetries = maxRetries;
    this.baseDelay = baseDelay;
    this.maxWait = maxWait;
    this.sleeper = sleeper;
  }

  long requests() {
    return requests.get();
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    for (int attempt = 0; ; attempt++) {
      requests.incrementAndGet();
      Response response = chain.proceed(chain.request());
      int code = response.code();
      boolean retry = code == 429 || code >= 500;
      if (!retry || attempt >= maxRetries) {
        return response;
      }
      Duration wait = code == 429 ? retryAfter(response.header("Retry-After"), attempt) : backoff(attempt);
      LOG.warn("cloudflare: {} {} answered {}; retry {}/{} in {} ms", chain.request().method(),
          chain.request().url().encodedPath(), code, attempt + 1, maxRetries, wait.toMillis());
      response.close();
      try {
        sleeper.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting to retry");
      }
    }
  }

  private Duration retryAfter(String header, int attempt) {
    if (header != null) {
      try {
        Duration d = Duration.ofSeconds(Long.parseLong(header.trim()));
        return d.compareTo(maxWait) > 0 ? maxWait : d;
      } catch (NumberFormatException e) {
        // an HTTP date or garbage: fall back to our own backoff
      }
    }
    return backoff(attempt);
  }

  private Duration backoff(int attempt) {
    Duration d = baseDelay.multipliedBy(1L << Math.min(attempt, 20));
    return d.compareTo(maxWait) > 0 ? maxWait : d;
  }
}
