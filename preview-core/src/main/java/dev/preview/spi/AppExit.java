package dev.preview.spi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How the app of a preview ended, as its {@link EnvironmentProvider#exitStatus provider} observes it:
 * its process (or container, or pod) exited at least once since it was started for its current
 * revision. The readiness gate asks for it between two probes, so a crash fails the deploy at once,
 * with its exit code, instead of when the readiness timeout runs out.
 *
 * @param exitCode the (last) exit code, or null where the provider cannot tell (a process of another JVM)
 * @param restarts how many times the platform restarted it since it was started for this revision
 *     (Docker's restart count, a pod's {@code restartCount}); 0 when nothing restarts it
 * @param running whether it runs again now (restarted); false while it is down
 * @param detail what the platform says besides the code ({@code CrashLoopBackOff}, {@code OOMKilled},
 *     an engine error), or null; never a secret (it goes into the PR's status)
 */
public record AppExit(@Nullable Integer exitCode, int restarts, boolean running, @Nullable String detail) {

  public AppExit {
    if (restarts < 0) {
      throw new IllegalArgumentException("restarts must not be negative: " + restarts);
    }
  }

  /** A process that exited with {@code exitCode} (null: unknown) and is not restarted. */
  public static AppExit exited(@Nullable Integer exitCode) {
    return new AppExit(exitCode, 0, false, null);
  }

  /** In words, e.g. "exited with code 3", "restarted 2 times (last exit code 1, CrashLoopBackOff)". */
  public String describe() {
    String code = exitCode == null ? null : "code " + exitCode;
    StringBuilder sb = new StringBuilder();
    if (restarts > 0) {
      sb.append("restarted ").append(restarts).append(restarts == 1 ? " time" : " times");
      String why = join(code == null ? null : "last exit " + code, detail);
      if (why != null) {
        sb.append(" (").append(why).append(')');
      }
      return sb.toString();
    }
    sb.append(code == null ? "exited (exit code unknown)" : "exited with " + code);
    if (detail != null && !detail.isBlank()) {
      sb.append(" (").append(detail).append(')');
    }
    return sb.toString();
  }

  private static @Nullable String join(@Nullable String a, @Nullable String b) {
    if (a == null || a.isBlank()) {
      return b == null || b.isBlank() ? null : b;
    }
    return b == null || b.isBlank() || Objects.equals(a, b) ? a : a + ", " + b;
  }
}
