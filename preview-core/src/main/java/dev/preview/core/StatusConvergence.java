package dev.preview.core;

import dev.preview.core.ReconcilePlanner.Facts;
import dev.preview.core.policy.Admission;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes what each PR shows a function of what reconcile observed: for every key reconcile looked at
 * and left alone (no repair, no run in flight, nothing submitted since the listing), it reads back
 * what the PR shows ({@link dev.preview.spi.ScmNotifier#published}) and publishes the observed status
 * where they differ. A read-back that fails means "unknown": nothing is published for that key.
 *
 * <p>The observed status, first match wins:
 * <ul>
 *   <li>an environment that runs its PR's head (or whose PR the SCM could not list): SUSPENDED ->
 *       SLEEPING; RUNNING -> READY if its app answers healthy now, else FAILED at {@code readiness} (unless the
 *       PR shows FAILED at readiness already);
 *       FAILED and marked {@link Labels#FAILED_REVISION} for its own revision (its readiness gate
 *       stopped it) -> FAILED at {@code readiness}; FAILED otherwise (exited) or STARTING with no run in
 *       flight (an interrupted deploy) -> FAILED at {@code environment}. A PR that shows FAILED for the revision that runs is left alone: it
 *       says why it failed, which nothing observed can say better.</li>
 *   <li>an environment at another revision than the PR's head: the head is not deployed and no run
 *       deploys it; a PR that shows a run in progress for it (PROVISIONING, BUILDING, WAITING) -> FAILED.</li>
 *   <li>no environment, PR open and queued -> PENDING with its place in the queue.</li>
 *   <li>no environment, PR open, the policy refuses it (an exclude label came while it was queued) ->
 *       DELETED, if the PR shows anything else.</li>
 *   <li>no environment, PR open and admitted, nothing in flight, not queued, and the PR shows a run in
 *       progress (WAITING, BUILDING, PROVISIONING: the process that had it stopped, e.g. while it waited
 *       for CI): the run is taken up again at the PR's head (without {@code maxConcurrent}), whatever
 *       {@code redeployMissing} says.</li>
 *   <li>no environment, PR open and admitted, nothing in flight, not queued: its environment is gone
 *       and nothing will redeploy it (reconcile's {@code redeployMissing} is off, or a restart lost its
 *       place in the queue) -> FAILED, if the PR shows anything but FAILED or DELETED.</li>
 * </ul>
 * The keys looked at: the environments, the open PRs, the PRs this process showed something other
 * than DELETED, and the PRs closed lately ({@link PullRequestSource#listRecentlyClosed}, up to
 * {@value #RECENTLY_CLOSED} per repository) that it has not yet found settled (read back showing
 * DELETED or nothing of ours; one told DELETED is read back once more at the next reconcile, as a
 * status sent by a process just before it died may land after it): so a new process corrects a closed PR the old one left showing DELETING or a
 * teardown failure. A closed PR is read back once per process (then it is settled; a reopen unsettles it).
 *
 * <p>When the notifier cannot read back (it returns empty), what this process last published stands
 * in for it, so a console is not re-posted at every reconcile. When the status a run wanted to
 * publish never got through and still matches what is observed, that status is published whole
 * (links, timings, database) instead of a summary; a key whose status is being sent is left to it.
 *
 * <p>Reads back in bulk where the notifier can ({@link dev.preview.spi.ScmNotifier#publishedAll}: one
 * listing per repository instead of one read per PR; a failed listing is "unknown" for the whole
 * repository), and per PR where it cannot. The health probes of the RUNNING environments are made
 * before the comparisons, in parallel, at most {@code probeParallelism} at once.
 *
 * <p>Called on the reconcile's thread; stateless; publishing goes through the {@link StatusPublisher}
 * (per PR in order, coalesced, redacted), and each state it publishes is a transition for the
 * listeners, so what they count follows the observed state too.
 */
final class StatusConvergence {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final StatusPublisher status;
  private final AppTemplate app;
  private final HealthCheck healthCheck;
  private final PreviewPolicy policy;
  private final Slots slots;
  private final KeyScheduler scheduler;
  private final Listeners listeners;
  private final @Nullable PullRequestSource pullRequests;
  /**
   * Closed PRs read back showing DELETED or nothing of ours (or told DELETED) since this process
   * started: the sweep of recently closed PRs does not read them back again. A reopen drops one.
   */
  private final Set<PreviewKey> settled = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** How many health probes run at once. */
  private final int probeParallelism;

  /** How many recently closed PRs per repository each reconcile looks at ({@link PullRequestSource#listRecentlyClosed}). */
  static final int RECENTLY_CLOSED = 50;

  StatusConvergence(StatusPublisher status, AppTemplate app, HealthCheck healthCheck, PreviewPolicy policy, Slots slots,
      KeyScheduler scheduler, Listeners listeners) {
    this(status, app, healthCheck, policy, slots, scheduler, listeners, null, 1);
  }

  StatusConvergence(StatusPublisher status, AppTemplate app, HealthCheck healthCheck, PreviewPolicy policy, Slots slots,
      KeyScheduler scheduler, Listeners listeners, @Nullable PullRequestSource pullRequests, int probeParallelism) {
    this.pullRequests = pullRequests;
    this.probeParallelism = Math.max(1, probeParallelism);
    this.status = status;
    this.app = app;
    this.healthCheck = healthCheck;
    this.policy = policy;
    this.slots = slots;
    this.scheduler = scheduler;
    this.listeners = listeners;
  }

  /** What the PR should show; {@code revision} and {@code url} as a deploy would publish them. */
  record Observed(PreviewState state, @Nullable String revision, @Nullable URI url, String message,
      @Nullable String failedStep) {}

  /**
   * Compares and publishes for every key of {@code facts} (environments and open PRs) not in
   * {@code acted}, not busy and not touched since {@code started}. Returns the keys it looked at
   * (whether or not it published), so the caller does not re-publish an older wanted status for them.
   */
  Set<PreviewKey> converge(Facts facts, Set<PreviewKey> acted, long started) {
    Set<PreviewKey> keys = new TreeSet<>(facts.environments().keySet());
    facts.openPullRequests().values().forEach(m -> keys.addAll(m.keySet()));
    // and the PRs this process told something other than DELETED: a closed one whose teardown failed
    // once and was finished later (or whose leftovers went another way) must not keep showing FAILED
    keys.addAll(status.shownKeys());
    // and, after a restart, the PRs closed lately that this process has not read back yet: one whose
    // last status never got through, or whose teardown the old process did not finish telling
    Set<PreviewKey> closed = recentlyClosed(facts);
    keys.addAll(closed);
    List<PreviewKey> queue = slots.queuedKeys();
    Set<PreviewKey> looked = new TreeSet<>();
    Map<PreviewKey, Boolean> health = probe(keys, facts, acted, started);
    Map<String, Listing> listings = new java.util.HashMap<>();
    for (PreviewKey key : keys) {
      if (skipped(key, facts, acted, started)) {
        continue; // work in flight (a status being sent included) says what the PR will show
      }
      looked.add(key);
      Listing listing = listings.computeIfAbsent(key.repository(), this::list);
      if (listing.failed()) {
        continue; // unknown for the whole repository (said once, by list)
      }
      Optional<PublishedStatus> shown;
      try {
        shown = listing.statuses() != null ? status.shown(key, listing.statuses()) : status.shown(key);
      } catch (RuntimeException e) {
        log.warn("{}: could not read back what the PR shows; publishing nothing for it: {}", key,
            listeners.redaction().exception(e).toString());
        continue;
      }
      Observed o = observe(key, facts, queue, shown.orElse(null), health);
      if (closed.contains(key) && (shown.isEmpty() || shown.get().state() == PreviewState.DELETED)) {
        // read back showing that nothing is left: no need to read it again. Not when it is told so
        // now: a status a dead process sent just before it died can still land after this one, so
        // the next reconcile reads it back once more
        settled.add(key);
      }
      if (o == null || (shown.isPresent() && !differs(shown.get(), o))) {
        continue;
      }
      if (shown.isEmpty() && o.state() == PreviewState.DELETED) {
        continue; // never tell a PR that shows nothing of ours that its preview is deleted
      }
      log.info("{}: the PR shows {}, reconcile observes {}: publishing {}", key,
          shown.map(s -> s.state().toString()).orElse("nothing of ours"), o.state(), o.state());
      // listeners (metrics' previews by state and queue length, the operator log) follow the observed state too
      listeners.transition(key, o.state(), o.message());
      PreviewStatus undelivered = status.undelivered(key);
      if (undelivered != null && o.state() != PreviewState.PENDING && !differs(PublishedStatus.of(undelivered), o)) {
        // what the run wanted to say is still true: say it whole (links, timings, database), not a summary;
        // a PENDING says the place in the queue instead, which only reconcile knows
        status.republish(undelivered);
      } else {
        status.publish(key, o.state(), o.revision(), o.url(), o.message(), o.failedStep(), List.of(), Map.of());
      }
    }
    return looked;
  }

  /**
   * The recently closed PRs of every repository reconcile listed, but those known settled; a PR seen
   * open again is no longer settled. A listing that fails leaves that repository out (this time).
   */
  private Set<PreviewKey> recentlyClosed(Facts facts) {
    Set<PreviewKey> closed = new TreeSet<>();
    facts.openPullRequests().values().forEach(open -> settled.removeAll(open.keySet()));
    if (pullRequests == null) {
      return closed;
    }
    for (Map.Entry<String, Map<PreviewKey, PullRequest>> repo : facts.openPullRequests().entrySet()) {
      try {
        for (PullRequest pr : pullRequests.listRecentlyClosed(repo.getKey(), RECENTLY_CLOSED)) {
          if (!pr.isOpen() && !repo.getValue().containsKey(pr.key()) && !settled.contains(pr.key())) {
            closed.add(pr.key());
          }
        }
      } catch (RuntimeException e) {
        log.warn("reconcile: the SCM could not list the recently closed PRs of {}; their statuses are looked at next"
            + " time: {}", repo.getKey(), listeners.redaction().exception(e).toString());
      }
    }
    return closed;
  }

  /** Whether convergence leaves {@code key} alone: work in flight (a status being sent included) says what the PR will show. */
  private boolean skipped(PreviewKey key, Facts facts, Set<PreviewKey> acted, long started) {
    return acted.contains(key) || facts.busy().contains(key) || facts.touchedSinceListing().contains(key)
        || scheduler.busy(key) || scheduler.touchedSince(key, started) || status.sending(key);
  }

  /**
   * One bulk read-back of a repository: {@code statuses} null when the notifier cannot list in bulk
   * (read per key), {@code failed} when the listing failed (unknown: nothing is published there).
   */
  private record Listing(@Nullable Map<PreviewKey, PublishedStatus> statuses, boolean failed) {}

  private Listing list(String repository) {
    try {
      return new Listing(status.shownAll(repository).orElse(null), false);
    } catch (RuntimeException e) {
      log.warn("{}: could not read back what its PRs show; publishing nothing for them: {}", repository,
          listeners.redaction().exception(e).toString());
      return new Listing(null, true);
    }
  }

  /**
   * Probes, in parallel (at most {@code probeParallelism} at once), the app of every environment
   * whose observed status depends on its health now: RUNNING, at its PR's head (or its PR unknown),
   * and not left alone. Unhealthy and failed probes are false.
   */
  private Map<PreviewKey, Boolean> probe(Set<PreviewKey> keys, Facts facts, Set<PreviewKey> acted, long started) {
    List<PreviewKey> candidates = new java.util.ArrayList<>();
    for (PreviewKey key : keys) {
      Environment env = facts.environments().get(key);
      PullRequest pr = env == null ? null : facts.openPullRequest(key);
      if (env != null && env.phase() == Environment.Phase.RUNNING
          && (pr == null || env.revision() == null || ReconcilePlanner.sameCommit(env.revision(), pr.headSha()))
          && !skipped(key, facts, acted, started)) {
        candidates.add(key);
      }
    }
    Map<PreviewKey, Boolean> out = new java.util.concurrent.ConcurrentHashMap<>();
    if (candidates.size() <= 1 || probeParallelism == 1) {
      candidates.forEach(k -> out.put(k, healthy(facts.environments().get(k))));
      return out;
    }
    java.util.concurrent.ExecutorService pool =
        Reconciler.runPool("preview-probe-", Math.min(probeParallelism, candidates.size()));
    try {
      List<java.util.concurrent.Future<?>> probes = new java.util.ArrayList<>();
      for (PreviewKey k : candidates) {
        probes.add(pool.submit(() -> out.put(k, healthy(facts.environments().get(k)))));
      }
      for (java.util.concurrent.Future<?> f : probes) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          // healthy() catches what the probe throws; a key without an answer is probed again by running()
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      pool.shutdownNow();
    }
    return out;
  }

  private boolean healthy(Environment env) {
    try {
      return env.url() != null && healthCheck.healthy(env.url().resolve(app.healthPath()));
    } catch (Exception e) {
      return false;
    }
  }

  /** Whether the PR showing {@code shown} must be told {@code o}. */
  static boolean differs(PublishedStatus shown, Observed o) {
    if (shown.state() != o.state()) {
      return true;
    }
    if (o.revision() != null && (shown.revision() == null || !ReconcilePlanner.sameCommit(shown.revision(), o.revision()))) {
      return true;
    }
    if (o.state() == PreviewState.READY && !Objects.equals(shown.url(), o.url())) {
      return true;
    }
    if (o.state() == PreviewState.FAILED && o.failedStep() != null && !o.failedStep().equals(shown.failedStep())) {
      return true; // it names another step than the one observed failing
    }
    return false;
  }

  /** The status {@code key} should show, or null when nothing observed says better than what it shows. */
  @Nullable Observed observe(PreviewKey key, Facts facts, List<PreviewKey> queue, @Nullable PublishedStatus shown) {
    return observe(key, facts, queue, shown, Map.of());
  }

  /** {@link #observe(PreviewKey, Facts, List, PublishedStatus)} with the health probes made already. */
  @Nullable Observed observe(PreviewKey key, Facts facts, List<PreviewKey> queue, @Nullable PublishedStatus shown,
      Map<PreviewKey, Boolean> health) {
    Environment env = facts.environments().get(key);
    boolean repoKnown = facts.openPullRequests().containsKey(key.repository());
    PullRequest pr = facts.openPullRequest(key);
    if (env != null) {
      if (pr != null && env.revision() != null && !ReconcilePlanner.sameCommit(env.revision(), pr.headSha())) {
        if (shown != null && inProgress(shown.state())) {
          return new Observed(PreviewState.FAILED, shown.revision() != null ? shown.revision() : pr.headSha(), null,
              "the deploy of this revision was interrupted (no run is in flight; " + abbreviate(env.revision())
                  + " still runs); push again to deploy it", null);
        }
        return null;
      }
      if (shown != null && shown.state() == PreviewState.FAILED && env.revision() != null && shown.revision() != null
          && ReconcilePlanner.sameCommit(shown.revision(), env.revision()) && env.phase() != Environment.Phase.RUNNING
          && env.phase() != Environment.Phase.SUSPENDED) {
        return null; // it says why it failed; nothing observed says better
      }
      return switch (env.phase()) {
        case SUSPENDED -> new Observed(PreviewState.SLEEPING, env.revision(), null,
            "asleep (observed by reconcile); the next push wakes it", null);
        case RUNNING -> running(key, env, shown, health.get(key));
        case FAILED -> env.revision() != null && env.revision().equals(env.labels().get(Labels.FAILED_REVISION))
            ? new Observed(PreviewState.FAILED, env.revision(), null, "revision " + abbreviate(env.revision())
                + " failed its readiness gate and was stopped (observed by reconcile); push a fix to deploy again",
                "readiness")
            : new Observed(PreviewState.FAILED, env.revision(), null,
                "the environment exited (observed by reconcile); push again to redeploy", "environment");
        case STARTING -> new Observed(PreviewState.FAILED, env.revision(), null,
            "the environment did not start and no deploy is running (it was interrupted); push again to redeploy",
            "environment");
      };
    }
    if (repoKnown && pr == null && shown != null && shown.state() != PreviewState.DELETED && nothingLeft(key, facts)) {
      return new Observed(PreviewState.DELETED, shown.revision(), null,
          "the PR is closed and nothing of its preview is left (observed by reconcile)", null);
    }
    if (!repoKnown || pr == null) {
      return null; // a PR known closed with leftovers is torn down by reconcile; unknown: nothing to say
    }
    int place = queue.indexOf(key);
    if (place >= 0) {
      return new Observed(PreviewState.PENDING, pr.headSha(), null,
          "waiting for a free slot (policy.maxConcurrent): " + (place == 0 ? "next in line" : place + " ahead of it"), null);
    }
    Admission admission = policy.admit(pr, 0);
    if (admission.decision() == Admission.Decision.SKIP) {
      if (shown == null || shown.state() == PreviewState.DELETED) {
        return null;
      }
      return new Observed(PreviewState.DELETED, shown.revision(), null, "no preview: " + admission.reason(), null);
    }
    if (shown == null || shown.state() == PreviewState.FAILED || shown.state() == PreviewState.DELETED) {
      return null;
    }
    if (runWasInFlight(shown.state()) && policy.maxConcurrent() <= 0) {
      // The PR shows a run that no process has (the one that had it died, e.g. while it waited for CI
      // to build the image): the SCM holds the intent, so take the run up again at the PR's head; it
      // publishes what it does. Under maxConcurrent the queue rebuilt from the infrastructure does it.
      log.info("{}: the PR shows {} but no deploy is running (the process that had it stopped): deploying {} again",
          key, shown.state(), abbreviate(pr.headSha()));
      scheduler.submit(key, new Op.Deploy(pr));
      return null;
    }
    return new Observed(PreviewState.FAILED, shown.revision() != null ? shown.revision() : pr.headSha(), null,
        shown.state() == PreviewState.PENDING
            ? "its place in the queue was lost (the orchestrator restarted); push again to deploy it"
            : "its environment is gone and no deploy is running (interrupted, or removed by hand); push again to deploy it",
        null);
  }

  private Observed running(PreviewKey key, Environment env, @Nullable PublishedStatus shown, @Nullable Boolean probed) {
    boolean healthy = probed != null ? probed : healthy(env);
    if (healthy) {
      URI publicUrl = app.publicUrl(key);
      return new Observed(PreviewState.READY, env.revision(), publicUrl != null ? publicUrl : env.url(),
          "ready (observed by reconcile)", null);
    }
    if (shown != null && shown.state() == PreviewState.FAILED && "readiness".equals(shown.failedStep())) {
      return null; // still unhealthy: what it says about why stands
    }
    // FAILED at another step (a deploy that failed after its environment, at dns say) says something
    // that is no longer what is wrong: the app that runs does not answer healthy
    return new Observed(PreviewState.FAILED, env.revision(), null,
        "its app does not answer healthy at " + app.healthPath() + " (observed by reconcile)", "readiness");
  }

  private static boolean nothingLeft(PreviewKey key, Facts facts) {
    return !facts.environments().containsKey(key) && !facts.databases().contains(key)
        && facts.dnsRecords().getOrDefault(key, List.of()).isEmpty() && !facts.workspaces().contains(key);
  }

  /** A state only a run in flight publishes before it has an environment: a wait, a build, a provisioning. */
  private static boolean runWasInFlight(PreviewState s) {
    return s == PreviewState.WAITING || s == PreviewState.BUILDING || s == PreviewState.PROVISIONING;
  }

  private static boolean inProgress(PreviewState s) {
    return s == PreviewState.PROVISIONING || s == PreviewState.BUILDING || s == PreviewState.WAITING
        || s == PreviewState.DELETING;
  }

  private static String abbreviate(String sha) {
    return sha.length() > 7 ? sha.substring(0, 7) : sha;
  }
}
