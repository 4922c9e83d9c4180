package dev.preview.core;

import dev.preview.core.policy.Admission;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PullRequest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one deploy knows so far, filled in by its {@link DeployStep}s in order: each step reads what
 * the earlier ones left and adds its own. A step ends the run early with {@link #finish(Preview)}.
 * Confined to the run's worker thread.
 */
final class DeployRun extends StepRun {
  /** The PR to deploy: the event's, until the guard puts the PR at its newest head in its place. */
  PullRequest pr;
  /** {@code pr}'s head SHA. */
  String revision;
  private final KeyScheduler.SafePoints safePoints;

  /** The policy's decision (step "policy"). */
  Admission admission;
  /** The PR as the SCM sees it now (step "guard"). */
  Optional<PullRequest> current;
  /** Whether the SCM could not be asked (step "guard"): nothing is known of the PR but the event. */
  boolean scmUnknown;
  /** The op this run carries out. */
  final Op.Deploy op;
  /** When the lifecycle labels were computed: the deploy's activity time. */
  Instant now;
  /** Ownership, lifecycle and instance labels for every resource; null until computed. */
  Map<String, String> labels;
  /** The database (step "database"), null without a database provider. */
  DatabaseConnection database;
  /** The name of {@link #database}, for the status and a failure report. */
  String databaseName;
  /** What the wait for the revision's image decided (step "wait"), null without one. */
  BuildWaits.Decision buildWait;
  EnvironmentSpec spec;
  /** What this preview changes against the main line ({@link ChangeSummary}); empty until the spec is made. */
  List<String> changes = List.of();
  /** The PR's checkout (step "build", {@code build.from: source}), null otherwise. */
  Path workspace;
  /** Output to show on a FAILED status instead of the app's logs (a failed build's), or null. */
  List<String> failureLog;
  /** The environment as applied (step "environment"). */
  Environment environment;
  private Preview outcome;

  DeployRun(Op.Deploy op, KeyScheduler.SafePoints safePoints, Listeners listeners) {
    super(op.pr().key(), listeners);
    PullRequest pr = op.pr();
    this.op = op;
    this.pr = pr;
    this.revision = pr.headSha();
    this.safePoints = safePoints;
  }

  /** Deploys {@code newer} instead of the event's PR (same key); step "guard". */
  void deploy(PullRequest newer) {
    if (!newer.key().equals(key)) {
      throw new IllegalArgumentException(newer.key() + " is not " + key);
    }
    this.pr = newer;
    this.revision = newer.headSha();
  }

  /** Ends the run with {@code preview}: no further step runs. */
  void finish(Preview preview) {
    this.outcome = preview;
  }

  /** The outcome set by {@link #finish}, or null while the run goes on. */
  Preview outcome() {
    return outcome;
  }

  KeyScheduler.SafePoints safePoints() {
    return safePoints;
  }
}
