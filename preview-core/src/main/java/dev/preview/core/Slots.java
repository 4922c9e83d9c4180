package dev.preview.core;

import dev.preview.core.policy.Admission;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code policy.maxConcurrent} slots: which keys hold one, and which PRs wait for one.
 *
 * <p>A key admitted to deploy holds its slot from the policy decision until its deploy ends, before
 * its environment exists; after that its environment holds it. PRs refused for want of a slot are
 * queued, oldest first, and every freed slot (a teardown, a deploy that ended without an
 * environment, a reconcile) starts the next queued PR at once.
 *
 * <p>The queue is derivable, so it survives a restart: it is the open PRs the policy admits that
 * have no environment ({@link #derive}, called by reconcile with what it listed). PRs queued while
 * this process runs keep their arrival order; PRs found by a reconcile after a restart are queued
 * after them, by key (repository, then PR number: a lower number is an older PR).
 *
 * <p>Thread-safe: counting the slots and taking one is one step across keys (the {@code lock}), and
 * the queue is guarded by the same lock.
 */
final class Slots {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final PreviewPolicy policy;
  private final EnvironmentProvider environment;
  private final KeyScheduler scheduler;
  /** Keys admitted to deploy and not done yet: they hold a maxConcurrent slot before their environment exists. */
  private final Set<PreviewKey> admitted = ConcurrentHashMap.newKeySet();
  /** Makes counting the slots and taking one a single step across keys; guards {@code queued}. */
  private final Object lock = new Object();
  /** PRs waiting for a slot under {@code maxConcurrent}, oldest first. Guarded by {@code lock}. */
  private final Map<PreviewKey, PullRequest> queued = new LinkedHashMap<>();

  Slots(PreviewPolicy policy, EnvironmentProvider environment, KeyScheduler scheduler) {
    this.policy = policy;
    this.environment = environment;
    this.scheduler = scheduler;
  }

  /** Asks the policy about {@code pr} and, if it may deploy, takes its slot: one step across keys. */
  Admission admit(PullRequest pr) {
    synchronized (lock) {
      // a PR whose environment exists holds its slot already: a push to it is never queued, even when
      // more environments than maxConcurrent run (two replicas admitted at once, or the limit was lowered)
      Set<PreviewKey> taken = policy.maxConcurrent() <= 0 ? Set.of() : taken(null);
      Admission admission = policy.admit(pr, taken.contains(pr.key()) ? 0 : countOthers(pr.key(), taken));
      if (admission.decision() == Admission.Decision.DEPLOY) {
        admitted.add(pr.key());
      }
      return admission;
    }
  }

  /** The deploy of {@code key} is done: its environment (if any) holds the slot from now on. */
  void release(PreviewKey key) {
    admitted.remove(key);
  }

  /** Queues {@code pr} (or updates the PR of a key already queued, keeping its place); returns its 1-based position. */
  int queue(PullRequest pr) {
    synchronized (lock) {
      queued.put(pr.key(), pr);
      return position(pr.key());
    }
  }

  void dequeue(PreviewKey key) {
    synchronized (lock) {
      queued.remove(key);
    }
  }

  /** The 1-based place of {@code key} in the queue, or 0 if it is not queued. */
  int position(PreviewKey key) {
    synchronized (lock) {
      int i = 1;
      for (PreviewKey k : queued.keySet()) {
        if (k.equals(key)) {
          return i;
        }
        i++;
      }
      return 0;
    }
  }

  /** How many PRs wait for a slot. */
  int queuedCount() {
    synchronized (lock) {
      return queued.size();
    }
  }

  /** The queued keys, oldest first. */
  List<PreviewKey> queued() {
    synchronized (lock) {
      return List.copyOf(queued.keySet());
    }
  }

  /**
   * Makes the queue what reconcile observed for the repositories it could list: {@code waiting}
   * holds their open PRs that the policy admits and that have no environment. A key already queued
   * keeps its place (with the PR as listed); a new one goes to the end, in the order given; a queued
   * key of those repositories that is not in {@code waiting} (closed, deployed, excluded) leaves the
   * queue. Keys of other repositories are kept. Does nothing without {@code maxConcurrent}.
   *
   * @param listedRepositories the repositories whose open PRs were listed
   * @param waiting their open, admitted PRs without an environment (and without work in flight)
   * @param inFlight keys with work in flight: kept as they are
   */
  void derive(Set<String> listedRepositories, List<PullRequest> waiting, Set<PreviewKey> inFlight) {
    if (policy.maxConcurrent() <= 0) {
      return;
    }
    synchronized (lock) {
      Map<PreviewKey, PullRequest> wanted = new LinkedHashMap<>();
      waiting.forEach(pr -> wanted.put(pr.key(), pr));
      List<PreviewKey> gone = new ArrayList<>();
      for (PreviewKey k : queued.keySet()) {
        if (listedRepositories.contains(k.repository()) && !wanted.containsKey(k) && !inFlight.contains(k)) {
          gone.add(k);
        }
      }
      gone.forEach(queued::remove);
      for (PullRequest pr : wanted.values()) {
        if (!queued.containsKey(pr.key())) {
          log.info("{}: queued for a slot (observed by reconcile: open, admitted, no environment)", pr.key());
        }
        queued.put(pr.key(), pr); // replaces the value in place: the order is kept
      }
    }
  }

  /**
   * Starts queued PRs, oldest first, as long as slots are free; never throws (the next teardown or
   * reconcile tries again). Lists the environments to count them.
   */
  void startQueued() {
    startQueued(null);
  }

  /**
   * The same, counting the slots with {@code environments} (what reconcile knows remains after its
   * repairs, so it need not list again) instead of a fresh {@code list()}. The deploy started still
   * asks the policy with a fresh count, so a count that is a little off queues it again, nothing worse.
   */
  void startQueued(@Nullable Collection<PreviewKey> environments) {
    try {
      startFree(environments);
    } catch (RuntimeException e) {
      // The teardown or reconcile that freed the slot is done; the next one (or reconcile) tries again.
      log.warn("could not start a queued preview: {}", e.toString());
    }
  }

  private void startFree(@Nullable Collection<PreviewKey> environments) {
    List<PullRequest> candidates;
    synchronized (lock) {
      if (queued.isEmpty()) {
        return;
      }
      candidates = new ArrayList<>(queued.values());
    }
    Set<PreviewKey> taken = taken(environments);
    int free = policy.maxConcurrent() <= 0 ? Integer.MAX_VALUE : policy.maxConcurrent() - taken.size();
    for (PullRequest next : candidates) {
      if (free <= 0) {
        return;
      }
      if (taken.contains(next.key())) {
        continue;
      }
      if (!scheduler.busy(next.key())) {
        log.info("{}: a slot is free; starting the queued PR", next.key());
        scheduler.submit(next.key(), new Op.Deploy(next));
      }
      free--; // a busy queued key is on its way to its slot
    }
  }

  private Set<PreviewKey> taken(@Nullable Collection<PreviewKey> environments) {
    Set<PreviewKey> taken = new HashSet<>(admitted);
    if (environments != null) {
      taken.addAll(environments);
    } else {
      environment.list().forEach(e -> taken.add(e.key()));
    }
    return taken;
  }

  private int countOthers(PreviewKey key, @Nullable Collection<PreviewKey> environments) {
    if (policy.maxConcurrent() <= 0) {
      return 0;
    }
    Set<PreviewKey> taken = taken(environments);
    taken.remove(key);
    return taken.size();
  }

  /** The keys of the queued PRs, oldest first (a snapshot). */
  java.util.List<PreviewKey> queuedKeys() {
    synchronized (queued) {
      return java.util.List.copyOf(queued.keySet());
    }
  }

  /** The keys of {@code envs}. */
  static Set<PreviewKey> keys(Collection<Environment> envs) {
    Set<PreviewKey> keys = new HashSet<>();
    envs.forEach(e -> keys.add(e.key()));
    return keys;
  }
}
