package dev.preview.core;

import dev.preview.spi.PreviewKey;
import java.util.List;
import java.util.Set;

/**
 * What one {@link PreviewOrchestrator#reconcile(boolean)} found and did.
 *
 * @param actions every repair decided, in order; done unless a dry run or it failed
 * @param unknownRepositories repositories whose open PRs could not be listed (SCM error): nothing
 *     was deleted because of them
 * @param errors failures while repairing
 * @param dryRun whether nothing was changed on purpose
 * @param notes what reconcile saw but left alone, and why: an open PR without a preview while
 *     {@code reconcile.redeployMissing} is off, PRs queued for a {@code maxConcurrent} slot
 */
public record ReconcileReport(List<Action> actions, Set<String> unknownRepositories, List<String> errors, boolean dryRun,
    List<String> notes) {

  public ReconcileReport {
    actions = List.copyOf(actions);
    unknownRepositories = Set.copyOf(unknownRepositories);
    errors = List.copyOf(errors);
    notes = List.copyOf(notes);
  }

  /** A report without notes. */
  public ReconcileReport(List<Action> actions, Set<String> unknownRepositories, List<String> errors, boolean dryRun) {
    this(actions, unknownRepositories, errors, dryRun, List.of());
  }

  /** One repair. */
  public record Action(PreviewKey key, Kind kind, String reason, boolean done) {}

  public enum Kind {
    /** The PR is closed or gone: everything of the preview is removed. */
    DELETE_ORPHAN,
    /** A lifetime rule ran out: the preview is removed. */
    EXPIRE,
    /** Idle: scaled to zero. */
    SLEEP,
    /** Leftovers of a half-done deploy or teardown are removed. */
    FINISH_TEARDOWN,
    /** An open PR's preview was missing (or incomplete, or at another commit) and is deployed again. */
    REDEPLOY,
    /** The policy no longer admits the open PR (an exclude label, say): the preview is removed. */
    EXCLUDED
  }

  /** Whether the SCM could not be asked about some repository. */
  public boolean scmUnknown() {
    return !unknownRepositories.isEmpty();
  }
}
