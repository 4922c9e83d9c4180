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

  /**
   * An HTTP GET that counts any 2xx as healthy, each request bounded by {@code requestTimeout}. The
   * client (and its TLS context, 0.3-0.7 s to load) is made at the first probe, not here: every
   * orchestrator builder holds one of these, and most CLI commands never probe.
   */
  static HealthCheck http(Duration requestTimeout) {
    HttpClient[] client = new HttpClient[1]; // made once, under its own lock
    return url -> {
      HttpClient c;
      synchronized (client) {
        if (client[0] == null) {
          client[0] = HttpClient.newBuilder()
              .connectTimeout(requestTimeout)
              .followRedirects(HttpClient.Redirect.NEVER)
              .build();
        }
        c = client[0];
      }
      HttpRequest request = HttpRequest.newBuilder(url).timeout(requestTimeout).GET().build();
      int status = c.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      return status >= 200 && status < 300;
    };
  }
}
