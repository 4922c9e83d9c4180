package dev.preview.core;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * One probe of a preview's health URL. The orchestrator's readiness gate calls it with backoff until
 * it answers healthy or the deadline passes. Must be thread-safe.
 *
 * <p>A lambda ({@code url -> true}) implements {@link #healthy}; the gate asks {@link #probe}, which
 * also says, in words, why an answer was not healthy.
 */
@FunctionalInterface
public interface HealthCheck {

  /** Whether {@code url} answers healthy now. Exceptions count as "not yet". */
  boolean healthy(URI url) throws Exception;

  /**
   * One probe with its reason: {@link #healthy} in words. Never throws (but for an interrupt, which
   * it passes on as the thread's interrupt flag).
   */
  default Probe probe(URI url) {
    try {
      return healthy(url) ? Probe.HEALTHY : Probe.unhealthy("the health check of " + url + " answered not healthy");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Probe.unhealthy("interrupted while probing " + url);
    } catch (Exception e) {
      return Probe.unhealthy(describe(e, url, null));
    }
  }

  /**
   * The answer of one probe: healthy, or why not, in words a PR author can act on
   * ("GET /health answered 404 Not Found (expected 2xx)", "connection refused on 127.0.0.1:41234
   * (nothing listens: the app is not started or crashed)", "timed out after 5 s").
   */
  record Probe(boolean healthy, String reason) {
    static final Probe HEALTHY = new Probe(true, "healthy");

    public Probe {
      Objects.requireNonNull(reason, "reason");
    }

    public static Probe unhealthy(String reason) {
      return new Probe(false, reason);
    }
  }

  /**
   * An HTTP GET that counts any 2xx as healthy, each request bounded by {@code requestTimeout};
   * redirects are not followed (a 302 to a login page is not healthy). The client (and its TLS
   * context, 0.3-0.7 s to load) is made at the first probe, not here: every orchestrator builder
   * holds one of these, and most CLI commands never probe.
   */
  static HealthCheck http(Duration requestTimeout) {
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    return new HealthCheck() {
      private HttpClient client; // made once, under this object's lock

      private synchronized HttpClient client() {
        if (client == null) {
          client = HttpClient.newBuilder()
              .connectTimeout(requestTimeout)
              .followRedirects(HttpClient.Redirect.NEVER)
              .build();
        }
        return client;
      }

      private int status(URI url) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(requestTimeout).GET().build();
        return client().send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      }

      @Override
      public boolean healthy(URI url) throws Exception {
        int status = status(url);
        return status >= 200 && status < 300;
      }

      @Override
      public Probe probe(URI url) {
        int status;
        try {
          status = status(url);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Probe.unhealthy("interrupted while probing " + url);
        } catch (IOException | RuntimeException e) {
          return Probe.unhealthy(describe(e, url, requestTimeout));
        }
        if (status >= 200 && status < 300) {
          return Probe.HEALTHY;
        }
        return Probe.unhealthy("GET " + pathOf(url) + " answered " + status + reasonPhrase(status) + " (expected 2xx"
            + (status >= 300 && status < 400 ? "; redirects are not followed" : "") + ")");
      }

      @Override
      public String toString() {
        return "HealthCheck.http(" + requestTimeout + ")";
      }
    };
  }

  /**
   * A failed probe in words: refused connection, timeout, TLS, unknown host, a connection closed
   * before the answer; else the exception's own message. {@code timeout} (may be null) is the
   * request's bound, named in a timeout.
   */
  static String describe(Throwable e, URI url, @Nullable Duration timeout) {
    String where = hostPort(url);
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof HttpConnectTimeoutException) {
        return "connecting to " + where + ("https".equalsIgnoreCase(url.getScheme()) ? " (TCP and TLS handshake)" : "")
            + " timed out" + after(timeout);
      }
      if (t instanceof HttpTimeoutException) {
        return "GET " + pathOf(url) + " timed out" + after(timeout) + " (" + where + " accepted the connection but"
            + " sent no answer)";
      }
      if (t instanceof ConnectException) {
        return "connection refused on " + where + " (nothing listens: the app is not started or crashed)";
      }
      if (t instanceof NoRouteToHostException) {
        return "no route to " + where + " (" + t.getMessage() + ")";
      }
      if (t instanceof UnknownHostException) {
        return "cannot resolve " + url.getHost() + " (unknown host: is its DNS record there yet?)";
      }
      if (t instanceof SSLException) {
        return "TLS handshake failed with " + where + ": " + t.getMessage();
      }
    }
    if (e instanceof IOException && e.getMessage() != null
        && (e.getMessage().contains("closed") || e.getMessage().contains("reset") || e.getMessage().contains("EOF"))) {
      return "the connection to " + where + " was closed before an answer (" + e.getMessage() + ")";
    }
    String m = e.getMessage();
    return "GET " + pathOf(url) + " failed: " + e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
  }

  private static String after(@Nullable Duration timeout) {
    if (timeout == null) {
      return "";
    }
    long ms = timeout.toMillis();
    return " after " + (ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms");
  }

  private static String hostPort(URI url) {
    int port = url.getPort();
    if (port < 0) {
      port = "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
    }
    return url.getHost() + ":" + port;
  }

  private static String pathOf(URI url) {
    String p = url.getRawPath();
    return (p == null || p.isEmpty() ? "/" : p) + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
  }

  /** The standard reason phrase ({@code java.net.http} does not expose the server's), with a leading space. */
  private static String reasonPhrase(int status) {
    String phrase = switch (status) {
      case 301 -> "Moved Permanently";
      case 302 -> "Found";
      case 303 -> "See Other";
      case 304 -> "Not Modified";
      case 307 -> "Temporary Redirect";
      case 308 -> "Permanent Redirect";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> null;
    };
    return phrase == null ? "" : " " + phrase;
  }
}
