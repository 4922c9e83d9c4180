package dev.preview.core;

import dev.preview.spi.AppExit;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deploy's last step: the app's health URL must answer 2xx within {@code app.readiness.timeout}.
 *
 * <ul>
 *   <li>HTTP probes with backoff (from {@code app.readiness.interval} up to 5 s apart); between two
 *       ticks of the interval it asks the provider whether the app has exited or restarted
 *       ({@link EnvironmentProvider#exitStatus}, else {@link EnvironmentProvider#find} reporting
 *       FAILED): a crash fails the step at once, with the exit code and the app's last lines, not
 *       when the timeout runs out.</li>
 *   <li>A failed gate takes the revision out of service ({@link EnvironmentProvider#rejectRevision}):
 *       rolled back to the revision that still serves, or stopped; the reason says which, and the
 *       provider records it on the infrastructure, so no later {@code list} says READY for it.</li>
 *   <li>Reasons are words: the HTTP status, the connection error ({@link HealthCheck#probe}), the exit.</li>
 *   <li>A newer event for the key supersedes the wait at once (the wait is a safe point).</li>
 * </ul>
 *
 * <p>What the app printed goes into the reason and the status's log lines; {@link DeployPipeline}
 * redacts both before they leave. Immutable; one run per key at a time.
 */
final class ReadinessGate implements DeployStep {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);
  /** Lines of the app's output quoted in the reason (the status shows {@link #LOG_TAIL}). */
  static final int REASON_LINES = 5;
  static final int LOG_TAIL = 20;
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  private final EnvironmentProvider environment;
  private final AppTemplate app;
  private final HealthCheck check;

  ReadinessGate(EnvironmentProvider environment, AppTemplate app, HealthCheck check) {
    this.environment = environment;
    this.app = app;
    this.check = check;
  }

  @Override
  public String name() {
    return "readiness";
  }

  @Override
  public void run(DeployRun run) {
    Environment env = run.environment;
    if (env.url() == null) {
      throw new IllegalStateException(environment.name() + " gave the environment no URL to check");
    }
    new Wait(run, env.url().resolve(run.spec.healthPath())).await();
    try {
      environment.acceptRevision(run.key, run.revision); // the previous revision, kept to roll back to, may go
    } catch (RuntimeException e) {
      log.warn("{}: {} could not let the previous revision go: {}; the next deploy does", run.key, environment.name(),
          e.toString());
    }
  }

  /** One wait for one revision. */
  private final class Wait {
    private final DeployRun run;
    private final PreviewKey key;
    private final URI health;
    /** Restarts the provider reported at the first look (older than this wait); null before it. */
    private Integer restartsBefore;

    Wait(DeployRun run, URI health) {
      this.run = run;
      this.key = run.key;
      this.health = health;
    }

    void await() {
      long interval = Math.max(1, app.readinessInterval().toMillis());
      long maxDelay = Math.max(interval, MAX_BACKOFF_MILLIS);
      long start = System.nanoTime();
      long deadline = start + app.readinessTimeout().toNanos();
      long nextProbe = start;
      long delay = interval;
      HealthCheck.Probe last = null;
      int probes = 0;
      while (true) {
        if (System.nanoTime() - nextProbe >= 0) {
          last = check.probe(health);
          probes++;
          if (last.healthy()) {
            return;
          }
          nextProbe = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
          delay = Math.min(delay * 2, maxDelay);
        }
        Optional<String> crash = crash();
        if (crash.isPresent()) {
          throw fail(crash.get(), true);
        }
        long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (remaining <= 0) {
          throw fail("not healthy at " + health + " within " + seconds(app.readinessTimeout().toMillis()) + " ("
              + probes + (probes == 1 ? " probe" : " probes") + "; last: " + last.reason() + ")", false);
        }
        long untilProbe = TimeUnit.NANOSECONDS.toMillis(nextProbe - System.nanoTime());
        try {
          run.safePoints().pause(Math.max(1, Math.min(Math.min(interval, Math.max(untilProbe, 1)), remaining)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for readiness");
        }
      }
    }

    /** Why the app cannot become ready any more (it exited, restarted, failed, vanished), or empty. */
    private Optional<String> crash() {
      Optional<AppExit> exit = exitStatus();
      if (exit.isPresent()) {
        AppExit x = exit.get();
        if (restartsBefore == null) {
          restartsBefore = x.running() ? x.restarts() : -1;
        }
        if (!x.running() || x.restarts() > restartsBefore) {
          return Optional.of("the app " + x.describe() + " during the readiness wait");
        }
        return Optional.empty();
      }
      if (restartsBefore == null) {
        restartsBefore = 0;
      }
      Optional<Environment> now;
      try {
        now = environment.find(key);
      } catch (RuntimeException e) {
        log.debug("{}: {} could not be asked for the environment: {}", key, environment.name(), e.toString());
        return Optional.empty(); // a provider hiccup is not the app's crash: the probes and the deadline decide
      }
      if (now.isEmpty()) {
        return Optional.of("the environment disappeared during the readiness wait");
      }
      if (now.get().phase() == Environment.Phase.FAILED) {
        // it may have ended between the two questions: its exit code says more than the phase
        Optional<AppExit> ended = exitStatus().filter(x -> !x.running());
        if (ended.isPresent()) {
          return Optional.of("the app " + ended.get().describe() + " during the readiness wait");
        }
        return Optional.of("the " + environment.name() + " provider reports the app FAILED (exited or crashed)"
            + " during the readiness wait");
      }
      return Optional.empty();
    }

    private Optional<AppExit> exitStatus() {
      try {
        return environment.exitStatus(key);
      } catch (RuntimeException e) {
        log.debug("{}: {} could not tell whether the app exited: {}", key, environment.name(), e.toString());
        return Optional.empty();
      }
    }

    /** The failure to throw: logs read first (a stopped revision may lose them), then the revision taken out. */
    private IllegalStateException fail(String why, boolean quoteLines) {
      List<String> tail = logs();
      run.failureLog = tail;
      StringBuilder reason = new StringBuilder(why);
      if (quoteLines) {
        // the app's own lines: not the markers a provider writes between two starts
        List<String> own = tail.stream().filter(l -> !l.startsWith("--- preview:") && !l.isBlank()).toList();
        if (own.isEmpty()) {
          reason.append("; it printed nothing");
        } else {
          reason.append("; last lines: ")
              .append(String.join(" | ", own.subList(Math.max(0, own.size() - REASON_LINES), own.size())));
        }
      }
      reason.append("; ").append(takeOut());
      return new IllegalStateException(reason.toString());
    }

    /** Rolls back or stops the failed revision; says which. */
    private String takeOut() {
      String revision = run.revision;
      Optional<Environment> after;
      try {
        after = environment.rejectRevision(key, revision);
      } catch (RuntimeException e) {
        log.warn("{}: could not take the failed revision {} out of service: {}", key, revision, e.toString());
        return "revision " + shortSha(revision) + " could not be stopped (" + e.getMessage() + "); it may still run";
      }
      if (after.isEmpty()) {
        return "nothing of it runs any more";
      }
      Environment e = after.get();
      if (e.revision() != null && !e.revision().equals(revision) && e.phase() == Environment.Phase.RUNNING) {
        log.info("{}: {} failed its readiness gate; rolled back to {}", key, revision, e.revision());
        return "rolled back to " + shortSha(e.revision()) + ", which still serves";
      }
      if (e.phase() == Environment.Phase.RUNNING || e.phase() == Environment.Phase.STARTING) {
        log.warn("{}: {} failed its readiness gate and is left running: {} cannot stop a revision", key, revision,
            environment.name());
        return "revision " + shortSha(revision) + " was left running (the " + environment.name()
            + " provider cannot stop a revision)";
      }
      log.info("{}: {} failed its readiness gate; stopped it", key, revision);
      return "stopped " + shortSha(revision) + " (no healthy revision was kept serving)";
    }

    private List<String> logs() {
      try {
        return environment.logs(key, LOG_TAIL);
      } catch (RuntimeException e) {
        return List.of();
      }
    }
  }

  /** The first 7 characters of a commit SHA, as Git shows it; other revisions whole. */
  static String shortSha(String revision) {
    return revision != null && revision.length() > 7 && revision.matches("[0-9a-f]+") ? revision.substring(0, 7)
        : String.valueOf(revision);
  }

  private static String seconds(long millis) {
    return millis % 1000 == 0 ? (millis / 1000) + " s" : millis + " ms";
  }
}
