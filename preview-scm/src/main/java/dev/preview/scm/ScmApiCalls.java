package dev.preview.scm;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Observes every SCM API call the GitHub and GitLab clients of this JVM make: provider, HTTP status
 * and the remaining rate budget the answer reported. Metrics hang here (the server's
 * {@code PreviewMetrics} listens); this module stays free of any metrics library. Listeners are
 * called on the calling thread: return quickly, never throw (a throwing one is ignored).
 */
public final class ScmApiCalls {
  /** Called once per HTTP answer (or I/O failure, status -1). */
  public interface Listener {
    /**
     * @param provider {@code github} or {@code gitlab}
     * @param status the HTTP status, or -1 if no answer came
     * @param remaining the rate budget left as the answer reported it, or -1 if it did not say
     */
    void onCall(String provider, int status, long remaining);
  }

  private static final List<Listener> LISTENERS = new CopyOnWriteArrayList<>();

  private ScmApiCalls() {}

  /** Starts calling {@code listener}; closing the handle stops it. */
  public static AutoCloseable listen(Listener listener) {
    Objects.requireNonNull(listener, "listener");
    LISTENERS.add(listener);
    return () -> LISTENERS.remove(listener);
  }

  /** For the API clients of this module. */
  public static void record(String provider, int status, long remaining) {
    for (Listener l : LISTENERS) {
      try {
        l.onCall(provider, status, remaining);
      } catch (RuntimeException e) {
        // a metrics listener must never break an API call
      }
    }
  }
}
