package dev.preview.testkit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * How an integration test reacts to a missing server: in CI (env {@code CI} or
 * {@code PREVIEW_IT_REQUIRED} set to {@code true}, as {@code .ci/run} does) it fails, because a
 * skipped integration test proves nothing; on a developer's machine it is skipped with a message
 * that says how to start the server.
 */
public final class Servers {
  private Servers() {}

  /** Whether a missing server must fail the test rather than skip it. */
  public static boolean required() {
    return "true".equalsIgnoreCase(System.getenv("PREVIEW_IT_REQUIRED"))
        || "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /**
   * Fails (in CI) or skips (locally) unless {@code available}.
   *
   * @param what the server, e.g. "Docker engine at unix:///var/run/docker.sock"
   * @param howToStart what to run to start it, e.g. "dockerd &" or ".ci/run"
   */
  public static void require(String what, boolean available, String howToStart) {
    if (available) {
      return;
    }
    String message = what + " is not reachable. Start it with: " + howToStart;
    if (required()) {
      Assertions.fail(message + " (this integration test is required here: CI/PREVIEW_IT_REQUIRED is set)");
    }
    Assumptions.abort(message);
  }
}
