package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deploy guard's memory and rule: a deploy never rolls a preview back to an older revision, and
 * never creates anything for a PR that closed meanwhile.
 *
 * <p>The rule, for a deploy of an event's PR at head X:
 * <ol>
 *   <li>With a {@link PullRequestSource} that answers: a closed, merged or missing PR is reported as
 *       such (the guard step tears down). An open PR whose head is X (or X abbreviated) is deployed
 *       as the event has it. An open PR whose head is another SHA H is deployed as the SCM returned
 *       it (H, its labels, draft, target), logged at info: a labels, ready or retarget event for an
 *       old commit never redeploys it. One exception: when this orchestrator saw X as the head after
 *       H (see below), the SCM's answer is taken as lagging behind its own webhooks and X is kept.
 *   <li>Without a source, or when it cannot be asked (unknown is not "older"): X is replaced by
 *       the newest head this orchestrator has seen for the key, when it has seen X as the head
 *       before that one. Otherwise X is deployed.
 * </ol>
 *
 * <p>"Seen as the head" comes from the events in the order they reached {@link #arrived}: a SHA is
 * seen when an event first carries it; a push ({@link PullRequestEvent.Action#UPDATED}) says the
 * head moved to its SHA at that moment, so it counts as seen again (a force-push back to an earlier
 * commit is deployed); other actions (labels, ready, draft, retarget, reopen) only repeat the head
 * they were sent with, so an old SHA they carry stays old. An answer of the SCM counts like a push.
 * Limits: a SHA has no order by itself, so what was never seen here is taken as new, which means:
 * after a restart (the memory is in this process only) or for the first event of a PR, the event
 * is applied; a push delivered late, after a later push, is applied (nothing in the event says it
 * is older); labels of a late event are applied to the newest head. The environment's
 * {@code preview.dev/revision} label says what is deployed, but alone it cannot order two SHAs,
 * so it is not consulted. A closed PR's memory is dropped. At most {@value #MAX_PER_KEY} SHAs are
 * kept per PR.
 *
 * <p>Thread-safe: {@link #arrived} runs on the caller's thread and only touches memory;
 * {@link #check} runs on the key's worker (it may call the SCM).
 */
final class RevisionGuard {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);
  static final int MAX_PER_KEY = 32;

  /**
   * What the guard decided: the PR as the SCM has it (or as the event has it, when the SCM was not
   * asked), the PR to deploy, and whether there is an SCM to ask that could not answer (then nothing is
   * known of the PR but the event: unknown, never "closed" nor "excluded").
   */
  record Verdict(Optional<PullRequest> current, PullRequest deploy, boolean scmUnknown) {}

  private final @Nullable PullRequestSource pullRequests;
  /**
   * Per key: SHA -> when it was last seen as the head (an arrival count). Each key's map is guarded
   * by itself, so the webhook threads recording arrivals and the workers checking other keys never
   * wait for each other.
   */
  private final Map<PreviewKey, Map<String, Long>> seen = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong arrivals = new java.util.concurrent.atomic.AtomicLong();

  RevisionGuard(@Nullable PullRequestSource pullRequests) {
    this.pullRequests = pullRequests;
  }

  /** Records an event as it arrives (before it is queued): what its head says, and when. */
  void arrived(PullRequestEvent event) {
    if (event.action().ends()) {
      seen.remove(event.key());
      return;
    }
    record(event.key(), event.headSha(), event.action() == PullRequestEvent.Action.UPDATED);
  }

  private void record(PreviewKey key, String sha, boolean movesHead) {
    Map<String, Long> m = seen.computeIfAbsent(key, k -> new LinkedHashMap<>());
    synchronized (m) {
      record(m, sha, movesHead);
    }
  }

  private void record(Map<String, Long> m, String sha, boolean movesHead) {
    String known = known(m, sha);
    long now = arrivals.incrementAndGet();
    if (known == null) {
      m.put(sha, now);
    } else if (movesHead) {
      m.put(known, now);
    }
    while (m.size() > MAX_PER_KEY) {
      String oldest = null;
      for (Map.Entry<String, Long> e : m.entrySet()) {
        if (oldest == null || e.getValue() < m.get(oldest)) {
          oldest = e.getKey();
        }
      }
      m.remove(oldest);
    }
  }

  /** The key of {@code m} that is the same revision as {@code sha} (one may be abbreviated), or null. */
  private static @Nullable String known(Map<String, Long> m, String sha) {
    for (String s : m.keySet()) {
      if (same(s, sha)) {
        return s;
      }
    }
    return null;
  }

  static boolean same(String a, String b) {
    return a.startsWith(b) || b.startsWith(a);
  }

  /** Whether this orchestrator saw {@code sha} as the head before it saw {@code other}; false if either is unknown. */
  boolean olderThan(PreviewKey key, String sha, String other) {
    Map<String, Long> m = seen.get(key);
    if (m == null) {
      return false;
    }
    synchronized (m) {
      return olderThan(m, sha, other);
    }
  }

  private static boolean olderThan(Map<String, Long> m, String sha, String other) {
    String a = known(m, sha);
    String b = known(m, other);
    return a != null && b != null && !a.equals(b) && m.get(a) < m.get(b);
  }

  /** The head seen last for {@code key} if {@code sha} was seen before it, else null. */
  @Nullable String newerThan(PreviewKey key, String sha) {
    Map<String, Long> m = seen.get(key);
    if (m == null) {
      return null;
    }
    synchronized (m) {
      return newerThan(m, sha);
    }
  }

  private static @Nullable String newerThan(Map<String, Long> m, String sha) {
    if (known(m, sha) == null) {
      return null;
    }
    String newest = null;
    for (Map.Entry<String, Long> e : m.entrySet()) {
      if (newest == null || e.getValue() > m.get(newest)) {
        newest = e.getKey();
      }
    }
    return same(newest, sha) ? null : newest;
  }

  /** Decides what a deploy of {@code pr} deploys; asks the SCM when there is a source. */
  Verdict check(PullRequest pr) {
    PreviewKey key = pr.key();
    if (pullRequests != null) {
      Optional<PullRequest> now;
      try {
        now = pullRequests.find(key);
      } catch (RuntimeException e) {
        // Unknown is not "closed" nor "older": deploy, and let reconcile clean up if the PR did close.
        log.warn("{}: could not re-check the PR before deploying ({}); going on", key, e.toString());
        return fromMemory(pr, true);
      }
      if (now.isEmpty()) {
        return new Verdict(Optional.of(pr.withState(PullRequest.State.CLOSED)), pr, false);
      }
      PullRequest scm = now.get();
      if (!scm.isOpen()) {
        return new Verdict(now, pr, false);
      }
      if (same(scm.headSha(), pr.headSha())) {
        record(key, pr.headSha(), true);
        return new Verdict(now, pr, false);
      }
      if (olderThan(key, scm.headSha(), pr.headSha())) {
        log.info("{}: the SCM still reports {} as the head, but {} came after it: deploying {}", key,
            scm.headSha(), pr.headSha(), pr.headSha());
        return new Verdict(now, pr, false);
      }
      log.info("{}: the event is for {} but the SCM says the head is {}: deploying {} as the SCM has it", key,
          pr.headSha(), scm.headSha(), scm.headSha());
      record(key, scm.headSha(), true);
      return new Verdict(now, scm, false);
    }
    return fromMemory(pr, false);
  }

  private Verdict fromMemory(PullRequest pr, boolean scmUnknown) {
    String newer = newerThan(pr.key(), pr.headSha());
    if (newer == null) {
      return new Verdict(Optional.of(pr), pr, scmUnknown);
    }
    log.info("{}: {} was the head before {} (in the order events arrived here): deploying {}", pr.key(),
        pr.headSha(), newer, newer);
    PullRequest at = pr.withHeadSha(newer);
    return new Verdict(Optional.of(at), at, scmUnknown);
  }
}
