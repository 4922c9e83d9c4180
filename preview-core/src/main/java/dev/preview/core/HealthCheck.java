package dev.preview.core;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One probe of a preview's health URL. The orchestrator's readiness gate calls it with backoff until
 * it answers true or the deadline passes. Must be thread-safe.
 */
@FunctionalInterface
public interface HealthCheck {

  /** Whether {@code url} answers healthy now. Exceptions count as "not yet". */
  boolean healthy(URI url) throws Exception;

  /** An HTTP GET that counts any 2xx as healthy, each request bounded by {@code requestTimeout}. */
  static HealthCheck http(Duration requestTimeout) {
    HttpClient client = HttpClient.newBuilder()
        .connectTimeout(requestTimeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
    return url -> {
      HttpRequest request = HttpRequest.newBuilder(url).timeout(requestTimeout).GET().build();
      int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      return status >= 200 && status < 300;
    };
  }
}
