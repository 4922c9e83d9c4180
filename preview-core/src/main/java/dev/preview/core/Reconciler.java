package dev.preview.core;

import dev.preview.core.ReconcilePlanner.Facts;
import dev.preview.core.ReconcilePlanner.PlannedAction;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One reconcile: gathers the {@link Facts} (one {@code list()} per provider, the open PRs per
 * repository), asks the {@link ReconcilePlanner}, then carries the actions out through the
 * {@link KeyScheduler}, like every other change, so a repair never overlaps a run for its key.
 *
 * <p>Thread-safe: holds no state between calls; concurrent reconciles are serialised per key by
 * the scheduler.
 */
final class Reconciler {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final EnvironmentProvider environment;
  private final DatabaseProvider database;
  private final DnsProvider dns;
  private final PullRequestSource pullRequests;
  private final PreviewPolicy policy;
  private final Clock clock;
  private final boolean redeployMissing;
  private final Set<String> watchedRepositories;
  /** More repositories to list: those of PRs the status publisher shows something other than DELETED. */
  private volatile java.util.function.Supplier<Set<String>> alsoList = Set::of;
  /** Told, after the repairs, what was observed and which keys were acted on (the status convergence). */
  private final Settled settled;

  /** What a reconcile tells the status convergence once its repairs are done. */
  interface Settled {
    void reconciled(Facts facts, Set<PreviewKey> acted, long started);
  }
  private final KeyScheduler scheduler;
  private final Slots slots;
  private final Listeners listeners;
  private final BuildWaits waits;
  private final Workspaces workspaces;
  /** How many repairs run at once. */
  private final int parallelism;
  /** Whether previews get a hostname (so, with a DNS provider, a record each). */
  private final boolean hostnames;

  /** @param workspaces the checkouts of {@code build.from: source}, or null */
  Reconciler(EnvironmentProvider environment, DatabaseProvider database, DnsProvider dns,
      PullRequestSource pullRequests, PreviewPolicy policy, Clock clock, boolean redeployMissing,
      Set<String> watchedRepositories, KeyScheduler scheduler, Slots slots, Listeners listeners, BuildWaits waits,
      Workspaces workspaces, Settled settled, int parallelism, boolean hostnames) {
    this.settled = settled;
    this.hostnames = hostnames;
    this.parallelism = parallelism;
    this.watchedRepositories = Set.copyOf(watchedRepositories);
    this.waits = waits;
    this.workspaces = workspaces;
    this.environment = environment;
    this.database = database;
    this.dns = dns;
    this.pullRequests = pullRequests;
    this.policy = policy;
    this.clock = clock;
    this.redeployMissing = redeployMissing;
    this.scheduler = scheduler;
    this.slots = slots;
    this.listeners = listeners;
  }

  ReconcileReport reconcile(boolean dryRun) {
    Instant now = clock.instant();
    long started = scheduler.stamp(); // taken before any listing: later work on a key makes our view of it stale
    List<ReconcileReport.Action> actions = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    Facts facts = gather(now, started, errors);

    // Repairs run in parallel, up to the bound, each through its key's queue (never beside other
    // work for that key); their outcomes are read in plan order.
    List<PlannedAction> planned = ReconcilePlanner.plan(facts);
    List<Repair> repairs = new ArrayList<>();
    java.util.concurrent.ExecutorService pool = dryRun || planned.isEmpty() ? null : pool(planned.size());
    try {
      for (PlannedAction a : planned) {
        PreviewKey key = a.key();
        if (stale(key, started)) {
          continue; // work on the key began while the listing ran: our facts about it are stale
        }
        if (a.heldBack()) {
          actions.add(new ReconcileReport.Action(key, a.kind(), a.reason() + " (not done: the SCM state is unknown)", false));
          continue;
        }
        Repair r = new Repair(a);
        if (!dryRun) {
          try {
            r.future = submit(a, facts, started, pool);
          } catch (RuntimeException e) {
            r.error = e;
          }
        }
        repairs.add(r);
      }
    } finally {
      if (pool != null) {
        pool.shutdown(); // the repairs submitted run to their end; the pool's threads then stop
      }
    }
    Set<PreviewKey> removed = new TreeSet<>();
    for (Repair r : repairs) {
      PlannedAction a = r.action;
      PreviewKey key = a.key();
      boolean done = false;
      if (!dryRun) {
        try {
          if (r.error != null) {
            throw r.error;
          }
          done = outcome(a, r.future);
          if (done && PlannedAction.deletes(a.kind())) {
            removed.add(key);
          }
        } catch (RuntimeException e) {
          errors.add(key + ": " + listeners.redaction().text(e.getMessage()));
        }
      }
      String what = describe(key, facts.environments().containsKey(key), facts.databases().contains(key),
          facts.dnsRecords().getOrDefault(key, List.of()), facts.workspaces().contains(key));
      log.warn("reconcile{}: {} {} because {}", dryRun ? " (dry run)" : "", kindVerb(a.kind()), what, a.reason());
      listeners.reclaimed(key, what, a.reason());
      actions.add(new ReconcileReport.Action(key, a.kind(), a.reason(), done));
    }
    List<String> notes = new ArrayList<>(ReconcilePlanner.notes(facts));
    List<PullRequest> waiting = ReconcilePlanner.queued(facts);
    if (!dryRun) {
      Set<PreviewKey> acted = new TreeSet<>();
      actions.forEach(a -> acted.add(a.key()));
      // The queue as the infrastructure shows it (it survives a restart), then every free slot is
      // given away, counted from what this run listed and removed (no second listing).
      slots.derive(facts.openPullRequests().keySet(), waiting, facts.busy());
      Set<PreviewKey> remaining = new TreeSet<>(facts.environments().keySet());
      remaining.removeAll(removed);
      slots.startQueued(remaining);
      // A missed CI event must not strand a waiting PR: look for its image, and meet its deadline.
      waits.recheck();
      settled.reconciled(facts, acted, started);
    }
    if (!waiting.isEmpty()) {
      notes.add(waiting.size() + " open PR(s) wait for a maxConcurrent slot: "
          + String.join(", ", waiting.stream().map(pr -> pr.key().toString()).toList()));
    }
    return new ReconcileReport(actions, facts.unknownRepositories(), errors, dryRun, notes);
  }

  /** One repair submitted: its action and its outcome to come. */
  private static final class Repair {
    final PlannedAction action;
    CompletableFuture<Preview> future;
    RuntimeException error;

    Repair(PlannedAction action) {
      this.action = action;
    }
  }

  /** The repairs' threads: at most {@code parallelism}, none kept once the run's repairs are done. */
  private java.util.concurrent.ExecutorService pool(int repairs) {
    return runPool("preview-reconcile-", Math.min(parallelism, repairs));
  }

  /** A reconcile run's own daemon threads ({@code prefix} + n), at least one; the run shuts it down. */
  static java.util.concurrent.ExecutorService runPool(String prefix, int threads) {
    java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    return java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, threads), r -> {
      Thread t = new Thread(r, prefix + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  private boolean stale(PreviewKey key, long started) {
    return scheduler.busy(key) || scheduler.touchedSince(key, started);
  }

  private Facts gather(Instant now, long started, List<String> errors) {
    Map<PreviewKey, Environment> envs = new TreeMap<>();
    for (Environment e : environment.list()) {
      envs.put(e.key(), e);
    }
    // A DNS or database provider that cannot list must not stop the cleanup of the others.
    Set<PreviewKey> dbs = new TreeSet<>();
    boolean databasesListed = false;
    boolean recordsListed = false;
    if (database != null) {
      try {
        dbs.addAll(database.list());
        databasesListed = true;
      } catch (RuntimeException e) {
        errors.add("could not list databases: " + listeners.redaction().text(e.getMessage()));
        log.warn("reconcile: {} could not list its databases: {}", database.name(), listeners.redaction().exception(e).toString());
      }
    }
    Map<PreviewKey, List<DnsRecord>> records = new TreeMap<>();
    if (dns != null) {
      try {
        for (DnsRecord r : dns.list()) {
          records.computeIfAbsent(r.owner(), k -> new ArrayList<>()).add(r);
        }
        recordsListed = true;
      } catch (RuntimeException e) {
        errors.add("could not list DNS records: " + listeners.redaction().text(e.getMessage()));
        log.warn("reconcile: {} could not list its records: {}", dns.name(), listeners.redaction().exception(e).toString());
      }
    }
    Set<PreviewKey> spaces = new TreeSet<>();
    if (workspaces != null) {
      try {
        Workspaces.Listing l = workspaces.list();
        spaces.addAll(l.keys());
        for (java.nio.file.Path dir : l.unmapped()) {
          log.warn("reconcile: {} is in the workspaces root but no readable {}.key next to it says whose it is; left alone"
              + " (remove it by hand if no preview uses it)", dir, dir.getFileName());
        }
      } catch (RuntimeException e) {
        errors.add("could not list workspaces: " + listeners.redaction().text(e.getMessage()));
        log.warn("reconcile: could not list the workspaces in {}: {}", workspaces.root(), listeners.redaction().exception(e).toString());
      }
    }
    Set<PreviewKey> all = new TreeSet<>(envs.keySet());
    all.addAll(dbs);
    all.addAll(records.keySet());
    all.addAll(spaces);

    // What the SCM says is open, per repository; no entry when unknown.
    Map<String, Map<PreviewKey, PullRequest>> open = new TreeMap<>();
    Set<String> unknown = new TreeSet<>();
    if (pullRequests != null) {
      Set<String> repositories = new TreeSet<>(watchedRepositories);
      all.forEach(k -> repositories.add(k.repository()));
      repositories.addAll(alsoList.get());
      for (String repo : repositories) {
        try {
          Map<PreviewKey, PullRequest> m = new LinkedHashMap<>();
          for (PullRequest pr : pullRequests.listOpen(repo)) {
            m.put(pr.key(), pr);
          }
          open.put(repo, m);
        } catch (RuntimeException e) {
          unknown.add(repo);
          errors.add("could not list open PRs of " + repo + ": " + listeners.redaction().text(e.getMessage()));
          log.warn("reconcile: the SCM could not list open PRs of {} ({}); deleting nothing", repo, listeners.redaction().exception(e).toString());
        }
      }
    }
    Set<PreviewKey> busy = new TreeSet<>();
    Set<PreviewKey> touched = new TreeSet<>();
    open.values().forEach(m -> all.addAll(m.keySet())); // an open PR with nothing deployed may be in flight too
    for (PreviewKey key : all) {
      if (scheduler.busy(key) || waitsForItsHead(key, open)) {
        busy.add(key);
      } else if (scheduler.touchedSince(key, started)) {
        touched.add(key);
      }
    }
    return new Facts(envs, dbs, records, spaces, open, unknown, busy, touched, now, redeployMissing,
        environment.supportsSuspend(), policy, recordsListed && hostnames, databasesListed);
  }

  /**
   * Whether {@code key} waits for the build of the head its PR has now (or the SCM could not say):
   * a wait in flight, not something to redeploy. One waiting for an older head, or for a PR known
   * closed, is not.
   */
  private boolean waitsForItsHead(PreviewKey key, Map<String, Map<PreviewKey, PullRequest>> open) {
    String sha = waits.waitingFor(key);
    if (sha == null) {
      return false;
    }
    Map<PreviewKey, PullRequest> repoOpen = open.get(key.repository());
    if (repoOpen == null) {
      return true; // the SCM was not asked, or could not answer: nothing says the wait is stale
    }
    PullRequest pr = repoOpen.get(key);
    // a PR known gone is not waited for: reconcile removes what it has (and the teardown ends the wait)
    return pr != null && ReconcilePlanner.sameCommit(sha, pr.headSha());
  }

  /**
   * Starts the repair of {@code a} through its key's queue (on {@code pool}); null when an event for
   * the key came in since the listing (the facts are stale), or for a redeploy (not waited for).
   */
  private CompletableFuture<Preview> submit(PlannedAction a, Facts facts, long started,
      java.util.concurrent.Executor pool) {
    PreviewKey key = a.key();
    switch (a.kind()) {
      case SLEEP: {
        // Through the key's worker, like every other change: a push never overlaps the suspend, and
        // one arriving meanwhile runs after it (and wakes the preview).
        String revision = facts.environments().get(key).revision();
        return scheduler.submitUnlessTouchedAfter(key, new Op.Sleep(a.reason(), revision), started, pool);
      }
      case REDEPLOY:
        scheduler.submit(key, new Op.Deploy(facts.openPullRequest(key)));
        return CompletableFuture.completedFuture(null);
      default:
        // the records and the revision it listed go with the teardown: the DNS is not listed again per
        // orphan, nor the environment looked up
        List<DnsRecord> listed = facts.dnsRecords().getOrDefault(key, List.of());
        Environment env = facts.environments().get(key);
        return scheduler.submitUnlessTouchedAfter(key,
            new Op.Teardown(a.reason(), listed, Op.Origin.RECONCILE, 0, env == null ? null : env.revision()), started, pool);
    }
  }

  /** Whether the repair {@code f} of {@code a} got done; throws with the reason when it failed. */
  private static boolean outcome(PlannedAction a, CompletableFuture<Preview> f) {
    if (f == null) {
      return false; // an event for this key came in since our listing: our facts are stale
    }
    Preview p = f.join();
    if (a.kind() == ReconcileReport.Kind.REDEPLOY) {
      return true; // submitted
    }
    if (a.kind() == ReconcileReport.Kind.SLEEP) {
      if (p != null && p.state() == PreviewState.FAILED) {
        throw new IllegalStateException(p.message()); // reported in the reconcile's errors
      }
      return p != null && p.state() == PreviewState.SLEEPING;
    }
    return p != null && p.state() == PreviewState.DELETED;
  }

  private static String kindVerb(ReconcileReport.Kind kind) {
    return switch (kind) {
      case SLEEP -> "suspending";
      case REDEPLOY -> "redeploying";
      default -> "reclaiming";
    };
  }

  private static String describe(PreviewKey key, boolean env, boolean db, Collection<DnsRecord> records,
      boolean workspace) {
    List<String> parts = new ArrayList<>();
    if (env) {
      parts.add("environment");
    }
    if (db) {
      parts.add("database");
    }
    for (DnsRecord r : records) {
      parts.add("DNS " + r.hostname());
    }
    if (workspace) {
      parts.add("workspace");
    }
    return key + " [" + String.join(", ", parts) + "]";
  }

  /** Also lists the open PRs of these repositories (read at every run). */
  void alsoList(java.util.function.Supplier<Set<String>> repositories) {
    this.alsoList = java.util.Objects.requireNonNull(repositories, "repositories");
  }
}
