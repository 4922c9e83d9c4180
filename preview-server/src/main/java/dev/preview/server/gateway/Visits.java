package dev.preview.server.gateway;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last visit of each preview, in memory, written back to the environment's
 * {@link Labels#LAST_VISIT} and {@link Labels#LAST_ACTIVITY} labels by {@link #flush()} (the gateway calls it every
 * {@code visitFlushInterval}, so each preview is relabelled at most once per interval). The label only
 * moves forward: a visit older than what the infrastructure holds (a push since) is not written.
 * Many visits of one preview between two flushes are one write.
 * Providers that cannot relabel keep visits here only (lost with a restart); {@link VisitAwareEnvironmentProvider}
 * shows them to the policy either way. Thread-safe.
 */
final class Visits {
  private static final Logger LOG = LoggerFactory.getLogger(Visits.class);

  private final EnvironmentProvider provider;
  private final Clock clock;
  private final Map<PreviewKey, Instant> last = new ConcurrentHashMap<>();
  private final Map<PreviewKey, Instant> written = new ConcurrentHashMap<>();

  Visits(EnvironmentProvider provider, Clock clock) {
    this.provider = provider;
    this.clock = clock;
  }

  void record(PreviewKey key) {
    Instant now = clock.instant();
    last.merge(key, now, (a, b) -> a.isAfter(b) ? a : b);
  }

  Optional<Instant> last(PreviewKey key) {
    return Optional.ofNullable(last.get(key));
  }

  /**
   * After a deploy of {@code key} that wrote {@code applied} as its last visit: a newer visit (seen
   * while it ran) is written again by the next flush.
   */
  void applied(PreviewKey key, Optional<Instant> applied) {
    Instant visit = last.get(key);
    if (visit != null && (applied.isEmpty() || applied.get().isBefore(visit))) {
      written.remove(key);
    }
  }

  void forget(PreviewKey key) {
    last.remove(key);
    written.remove(key);
  }

  /** Writes every visit newer than the last one written; returns how many environments were relabelled. */
  int flush() {
    if (!provider.supportsRelabel()) {
      return 0;
    }
    int n = 0;
    for (Map.Entry<PreviewKey, Instant> e : last.entrySet()) {
      PreviewKey key = e.getKey();
      Instant visit = e.getValue();
      Instant done = written.get(key);
      if (done != null && !visit.isAfter(done)) {
        continue;
      }
      try {
        Optional<Environment> env = provider.find(key);
        if (env.isEmpty()) {
          forget(key);
          continue;
        }
        Map<String, String> changes = new java.util.HashMap<>();
        Optional<Instant> held = env.get().lastActivity();
        if (held.isEmpty() || held.get().isBefore(visit)) {
          changes.put(Labels.LAST_ACTIVITY, visit.toString());
        }
        Optional<Instant> heldVisit = Labels.instant(env.get().labels(), Labels.LAST_VISIT);
        if (heldVisit.isEmpty() || heldVisit.get().isBefore(visit)) {
          changes.put(Labels.LAST_VISIT, visit.toString());
        }
        if (!changes.isEmpty()) {
          provider.relabel(key, changes);
          n++;
        }
        written.put(key, visit);
      } catch (RuntimeException ex) {
        LOG.warn("gateway: could not record the last visit of {} on {}: {}", key, provider.name(), ex.getMessage());
      }
    }
    return n;
  }
}
