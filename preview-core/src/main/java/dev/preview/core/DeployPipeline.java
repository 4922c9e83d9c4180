package dev.preview.core;

import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a deploy as a list of {@link DeployStep}s over one {@link DeployRun}, with a safe point
 * between two steps, then reports READY. A failing step reports FAILED with the step, the reason
 * and the app's last log lines; what was created stays for the next push to adopt, or for reconcile
 * to remove. Whatever happens, the run's maxConcurrent slot is released at its end.
 *
 * <p>Immutable; one deploy per key at a time, on the key's worker thread.
 */
final class DeployPipeline {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);
  private static final int LOG_TAIL_LINES = 20;

  private final List<DeployStep> steps;
  private final EnvironmentProvider environment;
  private final AppTemplate app;
  private final Slots slots;
  private final StatusPublisher status;
  private final Listeners listeners;

  DeployPipeline(List<DeployStep> steps, EnvironmentProvider environment, AppTemplate app, Slots slots,
      StatusPublisher status, Listeners listeners) {
    this.steps = List.copyOf(steps);
    this.environment = environment;
    this.app = app;
    this.slots = slots;
    this.status = status;
    this.listeners = listeners;
  }

  /** Deploys {@code pr}; throws {@link KeyScheduler.Superseded} if a newer event for its key came in. */
  Preview deploy(Op.Deploy op, KeyScheduler.SafePoints safePoints) {
    DeployRun run = new DeployRun(op, safePoints, listeners);
    boolean superseded = false;
    try {
      boolean first = true;
      for (DeployStep step : steps) {
        if (!step.appliesTo(run)) {
          continue;
        }
        if (!first) {
          safePoints.check();
        }
        first = false;
        step.prepare(run);
        run.step(step.name(), () -> step.run(run));
        step.then(run);
        if (run.outcome() != null) {
          return run.outcome();
        }
      }
      return ready(run);
    } catch (KeyScheduler.Superseded s) {
      superseded = true;
      throw s;
    } catch (RuntimeException e) {
      return failed(run, e);
    } finally {
      slots.release(run.key);
      if (!superseded) {
        // A run that ended without an environment (a failed first deploy, a skip) freed its slot:
        // the next queued PR starts now, not at the next teardown. (A superseded run keeps its
        // place: the newer event for its key runs next.)
        slots.startQueued();
      }
    }
  }

  private Preview ready(DeployRun run) {
    PreviewKey key = run.key;
    URI publicUrl = run.spec.hostname() != null ? app.publicUrl(key) : run.environment.url();
    Instant expires = run.labels.containsKey(Labels.EXPIRES) ? Instant.parse(run.labels.get(Labels.EXPIRES)) : null;
    String reason = run.admission.reason();
    Preview preview = new Preview(key, PreviewState.READY, run.revision, publicUrl, run.databaseName, reason, null,
        run.timings, run.now, expires);
    listeners.transition(key, PreviewState.READY, String.valueOf(publicUrl));
    status.publish(key, PreviewState.READY, run.revision, publicUrl, reason, null, List.of(), run.timings,
        run.databaseName, run.changes);
    return preview;
  }

  private Preview failed(DeployRun run, RuntimeException e) {
    PreviewKey key = run.key;
    String step = run.step;
    Redaction redaction = listeners.redaction();
    // The reason may quote what the app printed (a crash's last lines): no secret goes further.
    String reason = redaction.text(String.valueOf(e.getMessage()));
    List<String> own = run.failureLog != null ? run.failureLog
        : e instanceof dev.preview.spi.ProviderException pe && !pe.logTail().isEmpty() ? pe.logTail() : null;
    List<String> tail = redaction.lines(own != null ? own : logTail(key));
    log.warn("{}: deploy of {} failed at step {}: {}", key, run.revision, step, reason);
    listeners.transition(key, PreviewState.FAILED, step + ": " + reason);
    status.publish(key, PreviewState.FAILED, run.revision, null, reason, step, tail, run.timings, run.databaseName,
        run.changes);
    return new Preview(key, PreviewState.FAILED, run.revision, null, run.databaseName, reason, step, run.timings,
        null, null);
  }

  private List<String> logTail(PreviewKey key) {
    try {
      return environment.logs(key, LOG_TAIL_LINES);
    } catch (RuntimeException e) {
      return List.of();
    }
  }
}
