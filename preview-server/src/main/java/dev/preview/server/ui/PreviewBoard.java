package dev.preview.server.ui;

import dev.preview.core.Preview;
import dev.preview.core.PreviewListener;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.Environment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * What the dashboard shows: the previews the infrastructure holds ({@link PreviewOrchestrator#environments()}),
 * joined with what this server saw of their runs as a {@link PreviewListener} (state, failed step and
 * reason, step timings, last push), and the summary: previews by state, time to URL (from the first
 * step of a run to READY) over the last 7 days, and resources reclaimed by reconcile over 7 days.
 * What the server saw is memory: after a restart the rows show what the infrastructure holds, and the
 * summary starts again. Register it with {@code PreviewOrchestrator.builder().listener(board)}.
 *
 * <p>Thread-safe; listener calls are cheap (a map update).
 */
public final class PreviewBoard implements PreviewListener {
  /** The window of the summary's figures. */
  public static final Duration WINDOW = Duration.ofDays(7);
  /** At most this many time-to-URL samples and reclaims are kept. */
  static final int MAX_SAMPLES = 10_000;

  private final Clock clock;
  private final Map<PreviewKey, Run> runs = new ConcurrentHashMap<>();
  private final Deque<Sample> timeToUrl = new ArrayDeque<>();
  private final Deque<Reclaim> reclaimed = new ArrayDeque<>();
  private volatile PreviewOrchestrator orchestrator;
  private volatile Function<PreviewKey, URI> pullRequestLinks = k -> null;

  private record Sample(Instant at, Duration took) {}

  private record Reclaim(Instant at, PreviewKey key, String what) {}

  /** What this server saw of one preview's latest run. Guarded by itself. */
  private static final class Run {
    PreviewState state;
    String message = "";
    String failedStep;
    String revision;
    Instant started;
    Instant lastPush;
    Map<String, Duration> timings = new LinkedHashMap<>();
    boolean active;
  }

  public PreviewBoard(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The orchestrator whose previews this board shows (set once it is built: the board listens to it). */
  public PreviewBoard orchestrator(PreviewOrchestrator o) {
    this.orchestrator = Objects.requireNonNull(o, "orchestrator");
    return this;
  }

  /** How to link a PR in the SCM (e.g. {@code https://github.com/{repository}/pull/{number}}); null: no link. */
  public PreviewBoard pullRequestLinks(Function<PreviewKey, URI> links) {
    this.pullRequestLinks = Objects.requireNonNull(links, "links");
    return this;
  }

  PreviewOrchestrator orchestrator() {
    PreviewOrchestrator o = orchestrator;
    if (o == null) {
      throw new IllegalStateException("PreviewBoard.orchestrator(..) was not called");
    }
    return o;
  }

  // ---------------------------------------------------------------- listener

  @Override
  public void onStepStarted(PreviewKey key, String step) {
    Run r = runs.computeIfAbsent(key, k -> new Run());
    synchronized (r) {
      if (!r.active) {
        r.active = true;
        r.started = clock.instant();
        r.timings = new LinkedHashMap<>();
        r.failedStep = null;
      }
    }
  }

  @Override
  public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
    Run r = runs.computeIfAbsent(key, k -> new Run());
    synchronized (r) {
      r.timings.put(step, took);
    }
  }

  @Override
  public void onTransition(PreviewKey key, PreviewState state, String message) {
    if (state == PreviewState.DELETED) {
      runs.remove(key);
      return;
    }
    Instant now = clock.instant();
    Run r = runs.computeIfAbsent(key, k -> new Run());
    Sample sample = null;
    synchronized (r) {
      r.state = state;
      String m = message == null ? "" : message;
      switch (state) {
        case PROVISIONING, BUILDING -> {
          if (m.matches("[0-9a-f]{4,64}")) {
            if (!m.equals(r.revision)) {
              r.lastPush = now;
            }
            r.revision = m;
            r.message = "";
          } else {
            r.message = m;
          }
        }
        case READY -> {
          r.message = "";
          r.failedStep = null;
          if (r.active && r.started != null) {
            sample = new Sample(now, Duration.between(r.started, now));
          }
          r.active = false;
        }
        case FAILED -> {
          int colon = m.indexOf(": ");
          r.failedStep = colon > 0 ? m.substring(0, colon) : null;
          r.message = colon > 0 ? m.substring(colon + 2) : m;
          r.active = false;
        }
        case SLEEPING -> {
          r.message = m;
          r.active = false;
        }
        default -> r.message = m;
      }
    }
    if (sample != null) {
      synchronized (timeToUrl) {
        timeToUrl.addLast(sample);
        while (timeToUrl.size() > MAX_SAMPLES) {
          timeToUrl.removeFirst();
        }
      }
    }
  }

  @Override
  public void onReclaimed(PreviewKey key, String what, String reason) {
    synchronized (reclaimed) {
      reclaimed.addLast(new Reclaim(clock.instant(), key, what));
      while (reclaimed.size() > MAX_SAMPLES) {
        reclaimed.removeFirst();
      }
    }
  }

  // ---------------------------------------------------------------- views

  /** Every preview: those on the infrastructure, and those this server saw that have none yet (queued, building, failed early). */
  public List<PreviewRow> rows() {
    PreviewOrchestrator o = orchestrator();
    List<PreviewRow> out = new ArrayList<>();
    Set<PreviewKey> seen = new HashSet<>();
    for (Environment e : o.environments()) {
      seen.add(e.key());
      out.add(row(o, e.key(), e, o.preview(e)));
    }
    runs.forEach((key, run) -> {
      if (!seen.contains(key)) {
        PreviewRow r = row(o, key, null, null);
        if (r != null) {
          out.add(r);
        }
      }
    });
    out.sort((a, b) -> a.key().compareTo(b.key()));
    return out;
  }

  /** One preview, if the infrastructure or this server knows it. */
  public Optional<PreviewRow> row(PreviewKey key) {
    PreviewOrchestrator o = orchestrator();
    Optional<Environment> env = o.environments().stream().filter(e -> e.key().equals(key)).findFirst();
    return Optional.ofNullable(row(o, key, env.orElse(null), env.map(o::preview).orElse(null)));
  }

  private @Nullable PreviewRow row(PreviewOrchestrator o, PreviewKey key, @Nullable Environment env, @Nullable Preview p) {
    Run run = runs.get(key);
    PreviewStatus status = o.lastStatus(key).orElse(null);
    PreviewState state;
    String reason = "";
    String failedStep = null;
    Map<String, Duration> timings = Map.of();
    Instant lastPush = null;
    if (run != null) {
      synchronized (run) {
        state = run.state;
        reason = run.message;
        failedStep = run.failedStep;
        timings = new LinkedHashMap<>(run.timings);
        lastPush = run.lastPush;
      }
    } else {
      state = null;
    }
    if (p != null && (state == null || p.state() == PreviewState.SLEEPING
        || (p.state() == PreviewState.FAILED && state == PreviewState.READY))) {
      state = p.state(); // asleep, or crashed since: the infrastructure knows better
    }
    if (state == null) {
      return null;
    }
    if (state == PreviewState.SLEEPING && status != null && status.state() == PreviewState.SLEEPING && reason.isEmpty()) {
      reason = status.message();
    }
    if (timings.isEmpty() && status != null) {
      timings = status.steps();
    }
    if (state == PreviewState.FAILED && failedStep == null && status != null && status.state() == PreviewState.FAILED) {
      failedStep = status.failedStep();
      reason = status.message();
    }
    URI url = p != null ? p.url() : null;
    return new PreviewRow(key, state, p != null ? p.revision() : run == null ? null : run.revision, url,
        status != null ? status.links() : Map.of(), key.isPullRequest() ? pullRequestLinks.apply(key) : null,
        env == null ? null : env.created().orElse(null), p == null ? null : p.expires(),
        p == null ? null : p.lastActivity(), later(env == null ? null : PreviewRow.lastPush(env), lastPush),
        env == null ? null : PreviewRow.lastVisit(env), env == null ? null : PreviewRow.pin(env),
        status == null ? null : status.database(), failedStep, reason, timings,
        status == null ? List.of() : status.changes());
  }

  private static @Nullable Instant later(@Nullable Instant a, @Nullable Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  /**
   * The summary strip.
   *
   * @param byState how many previews are in each state (states with none left out)
   * @param timeToUrlMedian median time from a run's first step to READY over {@link #WINDOW}, or null
   * @param timeToUrlP90 its 90th percentile, or null
   * @param samples how many runs that is
   * @param reclaimed resources reconcile removed over {@link #WINDOW}
   * @param reclaimedPreviews of how many previews
   */
  public record Summary(Map<PreviewState, Integer> byState, @Nullable Duration timeToUrlMedian,
      @Nullable Duration timeToUrlP90, int samples, int reclaimed, int reclaimedPreviews) {}

  public Summary summary(List<PreviewRow> rows) {
    Map<PreviewState, Integer> byState = new EnumMap<>(PreviewState.class);
    rows.forEach(r -> byState.merge(r.state(), 1, Integer::sum));
    Instant since = clock.instant().minus(WINDOW);
    List<Duration> took = new ArrayList<>();
    synchronized (timeToUrl) {
      timeToUrl.removeIf(s -> s.at().isBefore(since));
      timeToUrl.forEach(s -> took.add(s.took()));
    }
    Collections.sort(took);
    int count;
    Set<PreviewKey> keys = new HashSet<>();
    synchronized (reclaimed) {
      reclaimed.removeIf(r -> r.at().isBefore(since));
      count = reclaimed.size();
      reclaimed.forEach(r -> keys.add(r.key()));
    }
    return new Summary(Collections.unmodifiableMap(byState), percentile(took, 50), percentile(took, 90), took.size(),
        count, keys.size());
  }

  /** Nearest-rank percentile of sorted values; null if none. */
  static @Nullable Duration percentile(List<Duration> sorted, int p) {
    if (sorted.isEmpty()) {
      return null;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
