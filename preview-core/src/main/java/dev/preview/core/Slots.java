package dev.preview.core;

import dev.preview.core.policy.Admission;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code policy.maxConcurrent} slots: which keys hold one, and which PRs wait for one.
 *
 * <p>A key admitted to deploy holds its slot from the policy decision until its deploy ends, before
 * its environment exists; after that its environment holds it. PRs refused for want of a slot are
 * queued, oldest first, and started when a teardown or reconcile frees one.
 *
 * <p>Thread-safe: counting the slots and taking one is one step across keys (the {@code lock}).
 */
final class Slots {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final PreviewPolicy policy;
  private final EnvironmentProvider environment;
  private final KeyScheduler scheduler;
  /** Keys admitted to deploy and not done yet: they hold a maxConcurrent slot before their environment exists. */
  private final Set<PreviewKey> admitted = ConcurrentHashMap.newKeySet();
  /** Makes counting the slots and taking one a single step across keys. */
  private final Object lock = new Object();
  /** PRs waiting for a slot under {@code maxConcurrent}, oldest first. */
  private final Map<PreviewKey, PullRequest> queued = Collections.synchronizedMap(new LinkedHashMap<>());

  Slots(PreviewPolicy policy, EnvironmentProvider environment, KeyScheduler scheduler) {
    this.policy = policy;
    this.environment = environment;
    this.scheduler = scheduler;
  }

  /** Asks the policy about {@code pr} and, if it may deploy, takes its slot: one step across keys. */
  Admission admit(PullRequest pr) {
    synchronized (lock) {
      Admission admission = policy.admit(pr, countOthers(pr.key()));
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

  void queue(PullRequest pr) {
    queued.put(pr.key(), pr);
  }

  void dequeue(PreviewKey key) {
    queued.remove(key);
  }

  /** Starts the oldest queued PR if a slot is free; never throws (the next teardown or reconcile tries again). */
  void startQueued() {
    try {
      startNextQueued();
    } catch (RuntimeException e) {
      // The teardown or reconcile that freed the slot is done; the next one (or reconcile) tries again.
      log.warn("could not start a queued preview: {}", e.toString());
    }
  }

  private void startNextQueued() {
    PullRequest next;
    synchronized (queued) {
      if (queued.isEmpty()) {
        return;
      }
      next = queued.values().iterator().next();
    }
    if (policy.maxConcurrent() > 0 && countOthers(next.key()) >= policy.maxConcurrent()) {
      return;
    }
    if (!scheduler.busy(next.key())) {
      scheduler.submit(next.key(), new Op.Deploy(next));
    }
  }

  private int countOthers(PreviewKey key) {
    if (policy.maxConcurrent() <= 0) {
      return 0;
    }
    Set<PreviewKey> taken = new HashSet<>(admitted);
    environment.list().forEach(e -> taken.add(e.key()));
    taken.remove(key);
    return taken.size();
  }

  /** The keys of the queued PRs, oldest first (a snapshot). */
  java.util.List<PreviewKey> queuedKeys() {
    synchronized (queued) {
      return java.util.List.copyOf(queued.keySet());
    }
  }
}
