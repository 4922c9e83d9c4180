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
 * What the server saw of runs is memory: after a restart the rows show what the infrastructure holds.
 * The summary survives a restart: each run that reaches READY writes its time to URL on the preview
 * ({@link dev.preview.spi.Labels#TIME_TO_URL}, so every replica counts the live previews' last runs), and
 * with {@link #figuresFile} every run and reclaim is also appended to a file. Register it with
 * {@code PreviewOrchestrator.builder().listener(board)}.
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
  private volatile FiguresLog figures;
  /** The environments the last {@link #rows()} saw: their time-to-URL labels feed the summary. */
  private volatile List<Environment> lastSeen = List.of();
  /** Writes the time-to-URL label off the listener's thread. */
  private final java.util.concurrent.ExecutorService labeller = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "preview-board-labels");
    t.setDaemon(true);
    return t;
  });

  private record Sample(Instant at, PreviewKey key, Duration took) {}

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

  /**
   * Keeps the summary's events in {@code file} too ({@code dashboard.figuresFile}): the figures then
   * survive a restart, and replicas that share the file show the same ones. Lines older than 7 days are
   * dropped now.
   */
  public PreviewBoard figuresFile(java.nio.file.Path file) {
    this.figures = new FiguresLog(Objects.requireNonNull(file, "file"), clock.instant().minus(WINDOW));
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
            sample = new Sample(now, key, Duration.between(r.started, now));
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
      persist(sample);
    }
  }

  /** The sample on the preview itself (a lifecycle label) and in the figures file, off the deploy's thread. */
  private void persist(Sample s) {
    FiguresLog f = figures;
    PreviewOrchestrator o = orchestrator;
    try {
      labeller.execute(() -> {
        if (f != null) {
          f.append(new FiguresLog.Event("url", s.at(), s.key(), s.took().toMillis(), ""));
        }
        if (o != null && o.supportsRelabel()) {
          try {
            o.relabel(s.key(), Map.of(dev.preview.spi.Labels.TIME_TO_URL, s.took().toMillis() + "@" + s.at()));
          } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(PreviewBoard.class).warn("{}: could not record its time to URL: {}", s.key(),
                e.getMessage());
          }
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /** A time-to-URL label ({@code <ms>@<instant>}) as a sample, or null. */
  static @Nullable Sample sample(Environment e) {
    String v = e.labels().get(dev.preview.spi.Labels.TIME_TO_URL);
    if (v == null) {
      return null;
    }
    int at = v.indexOf('@');
    try {
      return new Sample(Instant.parse(v.substring(at + 1)), e.key(), Duration.ofMillis(Long.parseLong(v.substring(0, at))));
    } catch (RuntimeException ex) {
      return null;
    }
  }

  @Override
  public void onReclaimed(PreviewKey key, String what, String reason) {
    Reclaim r = new Reclaim(clock.instant(), key, what);
    synchronized (reclaimed) {
      reclaimed.addLast(r);
      while (reclaimed.size() > MAX_SAMPLES) {
        reclaimed.removeFirst();
      }
    }
    FiguresLog f = figures;
    if (f != null) {
      try {
        labeller.execute(() -> f.append(new FiguresLog.Event("reclaim", r.at(), key, -1, what)));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing
      }
    }
  }

  // ---------------------------------------------------------------- views

  /** Every preview: those on the infrastructure, and those this server saw that have none yet (queued, building, failed early). */
  public List<PreviewRow> rows() {
    PreviewOrchestrator o = orchestrator();
    List<PreviewRow> out = new ArrayList<>();
    Set<PreviewKey> seen = new HashSet<>();
    List<Environment> environments = o.environments();
    lastSeen = environments;
    for (Environment e : environments) {
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
    // one sample per (preview, time it got READY), from: the labels of live previews (every replica,
    // after a restart), the figures file if there is one (previews gone since too), this process's memory
    Map<String, Duration> samples = new LinkedHashMap<>();
    for (Environment e : lastSeen) {
      Sample s = sample(e);
      if (s != null && !s.at().isBefore(since)) {
        samples.putIfAbsent(s.key().id() + "@" + s.at(), s.took());
      }
    }
    Map<String, Reclaim> reclaims = new LinkedHashMap<>();
    FiguresLog f = figures;
    if (f != null) {
      for (FiguresLog.Event e : f.events()) {
        if (e.at().isBefore(since)) {
          continue;
        }
        if (e.type().equals("url") && e.ms() >= 0) {
          samples.putIfAbsent(e.key().id() + "@" + e.at(), Duration.ofMillis(e.ms()));
        } else if (e.type().equals("reclaim")) {
          reclaims.putIfAbsent(e.key().id() + "@" + e.at() + "@" + e.what(), new Reclaim(e.at(), e.key(), e.what()));
        }
      }
    }
    synchronized (timeToUrl) {
      timeToUrl.removeIf(s -> s.at().isBefore(since));
      timeToUrl.forEach(s -> samples.putIfAbsent(s.key().id() + "@" + s.at(), s.took()));
    }
    List<Duration> took = new ArrayList<>(samples.values());
    Collections.sort(took);
    Set<PreviewKey> keys = new HashSet<>();
    synchronized (reclaimed) {
      reclaimed.removeIf(r -> r.at().isBefore(since));
      reclaimed.forEach(r -> reclaims.putIfAbsent(r.key().id() + "@" + r.at() + "@" + r.what(), r));
    }
    reclaims.values().forEach(r -> keys.add(r.key()));
    int count = reclaims.size();
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
