package dev.preview.core;

import dev.preview.core.policy.Admission;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.core.policy.Verdict;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides what reconcile repairs, from what was observed: a pure function of {@link Facts} (no
 * provider calls, no clock, no state). Stateless and thread-safe.
 *
 * <p>Per key (sorted), first match wins: its PR is known gone (a pull-request key, absent from its
 * repository's open PRs) -> {@code DELETE_ORPHAN}; no environment -> {@code REDEPLOY} if its PR is
 * open and {@code redeployMissing}, {@code FINISH_TEARDOWN} if no open PR is known; an environment
 * at another commit than its open PR's head -> {@code REDEPLOY} if {@code redeployMissing} (after
 * expiry and sleep, which win); otherwise the
 * policy's verdict -> {@code EXPIRE}, or {@code SLEEP} if the environment provider can suspend. A
 * deleting action is held back when the SCM could not list some repository; keys with work in flight
 * are left alone. A workspace of {@code build.from: source} counts as something the key owns, like a
 * database: one left without an environment goes by the same rules (removed when its PR is gone or
 * not known open; kept, or redeployed, while its PR is open). With {@code redeployMissing}, an open PR
 * that the policy admits (or would queue) and that has nothing at all deployed -> {@code REDEPLOY}
 * too (a lost {@code opened}, or a wait for its image a restart forgot).
 */
final class ReconcilePlanner {

  private ReconcilePlanner() {}

  /**
   * What reconcile observed.
   *
   * @param environments environments by key
   * @param databases keys that own a database
   * @param dnsRecords DNS records by owner
   * @param workspaces keys that own a workspace ({@code build.from: source}; empty otherwise)
   * @param openPullRequests the open PRs of each repository the SCM listed (no entry: not asked or unknown)
   * @param unknownRepositories repositories whose open PRs could not be listed
   * @param busy keys with a run in flight or pending: left alone
   * @param touchedSinceListing keys with work submitted or finished since the listing began: their facts are stale
   * @param now the time of the reconcile
   * @param redeployMissing whether an open PR whose environment is missing is deployed again
   * @param suspendSupported whether the environment provider can suspend
   * @param policy the lifetime rules
   * @param dnsExpected whether every environment should have a DNS record (a DNS provider, a hostname
   *     rule, and the records were listed)
   * @param databaseExpected whether every environment should have a database (a database provider
   *     whose databases were listed)
   */
  record Facts(Map<PreviewKey, Environment> environments, Set<PreviewKey> databases,
      Map<PreviewKey, List<DnsRecord>> dnsRecords, Set<PreviewKey> workspaces, Map<String, Map<PreviewKey, PullRequest>> openPullRequests,
      Set<String> unknownRepositories, Set<PreviewKey> busy, Set<PreviewKey> touchedSinceListing, Instant now, boolean redeployMissing,
      boolean suspendSupported, PreviewPolicy policy, boolean dnsExpected, boolean databaseExpected) {

    /** Every key some provider owns something for, sorted. */
    Set<PreviewKey> keys() {
      Set<PreviewKey> all = new TreeSet<>(environments.keySet());
      all.addAll(databases);
      all.addAll(dnsRecords.keySet());
      all.addAll(workspaces);
      return all;
    }

    /** The open PR of {@code key}, or null if it is not open or not known. */
    PullRequest openPullRequest(PreviewKey key) {
      Map<PreviewKey, PullRequest> repoOpen = openPullRequests.get(key.repository());
      return repoOpen == null ? null : repoOpen.get(key);
    }
  }

  /**
   * One repair decided.
   *
   * @param heldBack a deleting action not to do because the SCM state is unknown
   */
  record PlannedAction(PreviewKey key, ReconcileReport.Kind kind, String reason, boolean heldBack) {

    /** Whether an action of {@code kind} removes something (every kind but SLEEP and REDEPLOY). */
    static boolean deletes(ReconcileReport.Kind kind) {
      return kind != ReconcileReport.Kind.SLEEP && kind != ReconcileReport.Kind.REDEPLOY;
    }
  }

  static List<PlannedAction> plan(Facts facts) {
    boolean scmFailed = !facts.unknownRepositories().isEmpty();
    List<PlannedAction> actions = new ArrayList<>();
    for (PreviewKey key : facts.keys()) {
      if (facts.busy().contains(key) || facts.touchedSinceListing().contains(key)) {
        continue;
      }
      Environment env = facts.environments().get(key);
      Map<PreviewKey, PullRequest> repoOpen = facts.openPullRequests().get(key.repository());
      PullRequest pr = repoOpen == null ? null : repoOpen.get(key);
      boolean prKnownGone = repoOpen != null && pr == null && key.isPullRequest();

      ReconcileReport.Kind kind = null;
      String reason = null;
      Admission admission = pr == null ? null : facts.policy().admit(pr, 0);
      if (prKnownGone) {
        kind = ReconcileReport.Kind.DELETE_ORPHAN;
        reason = "its PR is no longer open";
      } else if (admission != null && admission.decision() == Admission.Decision.SKIP) {
        // an exclude label, a draft, a branch rule: the event that said so was lost or its teardown failed
        kind = ReconcileReport.Kind.EXCLUDED;
        reason = "the policy no longer admits its PR: " + admission.reason();
      } else if (env == null) {
        if (pr != null && facts.redeployMissing() && facts.policy().maxConcurrent() > 0
            && facts.policy().admit(pr, 0).decision() != Admission.Decision.SKIP) {
          kind = null; // queued for a slot: reconcile starts it when one is free (see Slots)
        } else if (pr != null && facts.redeployMissing()) {
          kind = ReconcileReport.Kind.REDEPLOY;
          reason = "its PR is open but the environment is missing";
        } else if (pr == null) {
          kind = ReconcileReport.Kind.FINISH_TEARDOWN;
          reason = "leftovers without an environment (half-done deploy or teardown)";
        }
      } else {
        Verdict v = facts.policy().evaluate(env, pr == null ? null : pr.labels(), facts.now());
        if (v.action() == Verdict.Action.EXPIRE) {
          kind = ReconcileReport.Kind.EXPIRE;
          reason = v.reason();
        } else if (v.action() == Verdict.Action.SLEEP && facts.suspendSupported()) {
          kind = ReconcileReport.Kind.SLEEP;
          reason = v.reason();
        } else if (pr != null && facts.redeployMissing() && env.revision() != null && !sameCommit(env.revision(), pr.headSha())
            && !failedItsGate(env, pr.headSha())) {
          // A push whose webhook was lost, or a wait for its build that a restart forgot: the head
          // the SCM reports is not what runs (the deploy's guard and wait steps take it from there).
          kind = ReconcileReport.Kind.REDEPLOY;
          reason = "its PR's head is " + abbreviate(pr.headSha()) + " but " + abbreviate(env.revision()) + " is deployed";
        } else if (pr != null && facts.redeployMissing() && (missingDns(facts, key) || missingDatabase(facts, key))) {
          // a deploy that failed after its environment (at the DNS step, say) left a preview without it
          kind = ReconcileReport.Kind.REDEPLOY;
          reason = "its " + (missingDns(facts, key) ? "DNS record" : "database") + " is missing";
        }
      }
      if (kind != null) {
        // The SCM could not tell us what is open: an error is "unknown", never "no open PRs".
        actions.add(new PlannedAction(key, kind, reason, PlannedAction.deletes(kind) && scmFailed));
      }
    }
    if (facts.redeployMissing()) {
      actions.addAll(withoutAnyPreview(facts));
    }
    return actions;
  }

  private static boolean missingDns(Facts facts, PreviewKey key) {
    return facts.dnsExpected() && facts.dnsRecords().getOrDefault(key, List.of()).isEmpty();
  }

  private static boolean missingDatabase(Facts facts, PreviewKey key) {
    return facts.databaseExpected() && !facts.databases().contains(key);
  }

  /**
   * Open PRs that nothing at all is deployed for, though the policy admits them (or would queue
   * them): their {@code opened} was lost, or the wait for their image was in a process that restarted.
   */
  private static List<PlannedAction> withoutAnyPreview(Facts facts) {
    Set<PreviewKey> owned = facts.keys();
    Set<PreviewKey> candidates = new TreeSet<>();
    facts.openPullRequests().values().forEach(m -> candidates.addAll(m.keySet()));
    List<PlannedAction> actions = new ArrayList<>();
    for (PreviewKey key : candidates) {
      if (owned.contains(key) || facts.busy().contains(key) || facts.touchedSinceListing().contains(key)) {
        continue;
      }
      PullRequest pr = facts.openPullRequest(key);
      if (pr == null || facts.policy().admit(pr, 0).decision() == Admission.Decision.SKIP
          || facts.policy().maxConcurrent() > 0) { // under maxConcurrent it is queued instead (see queued(Facts))
        continue;
      }
      actions.add(new PlannedAction(key, ReconcileReport.Kind.REDEPLOY,
          "its PR is open but has no preview (its opened event was lost, or a wait for its build was forgotten by a restart)",
          false));
    }
    return actions;
  }

  /**
   * The open PRs the policy admits that have no environment and no work in flight, by key: under
   * {@code maxConcurrent}, the queue as the infrastructure shows it (a restart forgets nothing).
   */
  static List<PullRequest> queued(Facts facts) {
    List<PullRequest> waiting = new ArrayList<>();
    if (facts.policy().maxConcurrent() <= 0) {
      return waiting;
    }
    Set<PreviewKey> candidates = new TreeSet<>();
    facts.openPullRequests().values().forEach(m -> candidates.addAll(m.keySet()));
    for (PreviewKey key : candidates) {
      PullRequest pr = facts.openPullRequest(key);
      if (pr != null && !facts.environments().containsKey(key) && !facts.busy().contains(key)
          && !facts.touchedSinceListing().contains(key)
          && facts.policy().admit(pr, 0).decision() != Admission.Decision.SKIP) {
        waiting.add(pr);
      }
    }
    return waiting;
  }

  /**
   * What reconcile sees but does not repair, and why: open PRs the policy admits whose environment
   * is missing while {@code redeployMissing} is off (and no {@code maxConcurrent} queue takes them).
   */
  static List<String> notes(Facts facts) {
    List<String> notes = new ArrayList<>();
    if (facts.redeployMissing() || facts.policy().maxConcurrent() > 0) {
      return notes;
    }
    Set<PreviewKey> candidates = new TreeSet<>();
    facts.openPullRequests().values().forEach(m -> candidates.addAll(m.keySet()));
    for (PreviewKey key : candidates) {
      PullRequest pr = facts.openPullRequest(key);
      if (pr == null || facts.environments().containsKey(key) || facts.busy().contains(key)
          || facts.touchedSinceListing().contains(key) || facts.policy().admit(pr, 0).decision() == Admission.Decision.SKIP) {
        continue;
      }
      notes.add(key + ": its PR is open and admitted but has no environment; not deployed because"
          + " reconcile.redeployMissing is off (turn it on, or push to the PR)");
    }
    return notes;
  }

  /** Whether two commit ids name the same commit (one may be an abbreviation of the other). */
  /**
   * Whether {@code head} already failed its readiness gate on {@code env} (the provider marked it and
   * rolled back to the revision that runs): redeploying it at every reconcile would only fail and
   * roll back again; the next push deploys.
   */
  static boolean failedItsGate(Environment env, String head) {
    String failed = env.labels().get(dev.preview.spi.Labels.FAILED_REVISION);
    return failed != null && !failed.isEmpty() && sameCommit(failed, head);
  }

  static boolean sameCommit(String a, String b) {
    String x = a.toLowerCase(java.util.Locale.ROOT);
    String y = b.toLowerCase(java.util.Locale.ROOT);
    return x.startsWith(y) || y.startsWith(x);
  }

  private static String abbreviate(String sha) {
    return sha.length() > 7 ? sha.substring(0, 7) : sha;
  }
}
