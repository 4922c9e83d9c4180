package dev.preview.core;

import dev.preview.spi.BuildEvent;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The previews waiting for the image CI builds for their revision, and what moves them on.
 *
 * <p>A wait holds no thread: the deploy run that finds its image missing records the key here (its
 * PR, image, deadline and next look) and ends in WAITING. The run is submitted again through the
 * {@link KeyScheduler} (a Deploy of the same PR) when a CI event says the build for its head SHA
 * ended ({@link #onEvent}), when a look finds the image ({@code build.pollImage}; looks are timed
 * on one shared {@link ScheduledExecutorService}, from {@code pollInterval} doubling up to 5
 * minutes), or when the deadline passes. That run's wait step then takes the verdict
 * ({@link #check}): go on, or fail with the CI's conclusion or the timeout.
 *
 * <p>A resubmit never replaces an op already running or pending for the key (a newer push decides
 * for itself); the verdict stays until a run takes it, and the next tick tries again. A newer push
 * replaces the wait (latest wins), a teardown drops it ({@link #cancel}). Successes and failures
 * seen for a SHA nobody waits for yet are remembered (bounded), so a CI event that arrives before
 * the PR's own event is not lost.
 *
 * <p>In memory only: after a restart a waiting PR moves on with its next event or push.
 * Thread-safe: the state is guarded by this object's monitor; provider calls and submits happen
 * outside it.
 */
final class BuildWaits implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);
  static final Duration MAX_DELAY = Duration.ofMinutes(5);
  private static final int REMEMBERED_BUILDS = 10_000;

  /** What a deploy's wait step does. */
  sealed interface Decision permits Go, Wait, Fail {}

  /** The image is there (or CI said so): deploy. */
  record Go(String why) implements Decision {}

  /** Not there yet: end the run in WAITING with {@code message}. */
  record Wait(String message) implements Decision {}

  /** It will not come: FAIL with {@code reason}. */
  record Fail(String reason) implements Decision {}

  /** One waiting preview. Guarded by the monitor of {@link BuildWaits}. */
  private static final class Waiting {
    final PullRequest pr;
    final String image;
    final Instant deadline;
    Duration delay;
    ScheduledFuture<?> next;
    /** Set when the wait is over: a {@link Go} or {@link Fail} for the next run to take. */
    Decision verdict;

    Waiting(PullRequest pr, String image, Instant deadline, Duration delay) {
      this.pr = pr;
      this.image = image;
      this.deadline = deadline;
      this.delay = delay;
    }
  }

  private final BuildSettings settings;
  private final EnvironmentProvider environment;
  private final Clock clock;
  private final KeyScheduler scheduler;
  private final ScheduledExecutorService timer;
  private final Map<PreviewKey, Waiting> waits = new LinkedHashMap<>();
  /** The last SUCCESS or FAILURE seen per repository@sha for a waitFor name, oldest first. */
  private final Map<String, BuildEvent> seen = new LinkedHashMap<>(64, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, BuildEvent> eldest) {
      return size() > REMEMBERED_BUILDS;
    }
  };

  BuildWaits(BuildSettings settings, EnvironmentProvider environment, Clock clock, KeyScheduler scheduler) {
    this.settings = settings;
    this.environment = environment;
    this.clock = clock;
    this.scheduler = scheduler;
    // One thread for every wait's timer, and only when waits are configured.
    this.timer = settings.waits() ? Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "preview-build-waits");
      t.setDaemon(true);
      return t;
    }) : null;
  }

  /**
   * The wait step of a deploy of {@code pr}, on its worker thread: takes a verdict left for this
   * revision, else goes on if the image is known to be there, else records (or keeps) the wait.
   *
   * @param running the revision the environment runs now, or null
   */
  Decision check(PullRequest pr, String image, String running) {
    PreviewKey key = pr.key();
    String sha = pr.headSha();
    synchronized (this) {
      Waiting w = waits.get(key);
      if (w != null && w.pr.headSha().equals(sha) && w.verdict != null) {
        drop(key);
        return w.verdict;
      }
      if (w != null && !w.pr.headSha().equals(sha)) {
        drop(key); // a newer push: the old revision's wait is over
        w = null;
      }
      BuildEvent known = seen.get(id(pr.key().repository(), sha));
      if (known != null) {
        drop(key);
        return verdict(known);
      }
      if (w != null) {
        return new Wait(waitingMessage(image)); // the same revision again (a label, a redelivery): keep waiting
      }
    }
    if (sha.equals(running)) {
      return new Go("the environment already runs " + sha);
    }
    if (settings.pollImage() && look(key, image) == ImageAvailability.PRESENT) {
      return new Go("the image " + image + " is there");
    }
    synchronized (this) {
      BuildEvent meanwhile = seen.get(id(pr.key().repository(), sha));
      if (meanwhile != null) {
        return verdict(meanwhile); // CI reported while we looked
      }
      Waiting w = new Waiting(pr, image, clock.instant().plus(settings.timeout()), settings.pollInterval());
      drop(key);
      waits.put(key, w);
      schedule(key, w);
    }
    log.info("{}: {}", key, waitingMessage(image));
    return new Wait(waitingMessage(image));
  }

  /** What the PR's status says while it waits. */
  String waitingMessage(String image) {
    if (settings.waitFor().isEmpty()) {
      return "waiting for the image " + image + " to appear in the registry";
    }
    return "waiting for the image " + image + " built by CI (" + (settings.waitFor().size() == 1 ? "check " : "checks ")
        + String.join(", ", settings.waitFor()) + ")";
  }

  /** Matches a CI event against the waits: repository, SHA and one of {@code build.waitFor}. */
  BuildEventResult onEvent(BuildEvent e) {
    if (settings.waitFor().isEmpty()) {
      return BuildEventResult.ignored("build.waitFor names no CI check to wait for");
    }
    String name = settings.waitFor().stream().filter(n -> n.equalsIgnoreCase(e.name())).findFirst().orElse(null);
    if (name == null) {
      return BuildEventResult.ignored(e.name() + " is not one of build.waitFor " + settings.waitFor());
    }
    if (e.conclusion() == BuildEvent.Conclusion.PENDING) {
      return BuildEventResult.ignored(e.name() + " for " + e.sha() + " is still " + e.detail());
    }
    List<PreviewKey> matched = new ArrayList<>();
    synchronized (this) {
      seen.put(id(e.repository(), e.sha()), e);
      for (Map.Entry<PreviewKey, Waiting> entry : waits.entrySet()) {
        Waiting w = entry.getValue();
        if (w.verdict == null && entry.getKey().repository().equalsIgnoreCase(e.repository())
            && w.pr.headSha().equalsIgnoreCase(e.sha())) {
          w.verdict = verdict(e);
          matched.add(entry.getKey());
        }
      }
    }
    if (matched.isEmpty()) {
      return BuildEventResult.ignored("no preview waits for " + e.repository() + "@" + e.sha()
          + " (remembered, in case its PR event comes later)");
    }
    Map<PreviewKey, CompletableFuture<Preview>> runs = new LinkedHashMap<>();
    List<String> parts = new ArrayList<>();
    for (PreviewKey key : matched) {
      CompletableFuture<Preview> f = kick(key);
      if (f != null) {
        runs.put(key, f);
        parts.add(key.id() + (e.conclusion() == BuildEvent.Conclusion.SUCCESS ? " deploys" : " fails"));
      } else {
        parts.add(key.id() + ": the run under way takes it");
      }
    }
    log.info("{}: {}", e, String.join("; ", parts));
    return new BuildEventResult(runs, e + ": " + String.join("; ", parts));
  }

  /** Reconcile's re-check: every wait looks for its image now (if the provider can tell) and meets its deadline. */
  int recheck() {
    List<PreviewKey> keys;
    synchronized (this) {
      keys = new ArrayList<>(waits.keySet());
    }
    for (PreviewKey key : keys) {
      tick(key, true);
    }
    return keys.size();
  }

  /** Drops the wait of {@code key} (torn down). */
  synchronized void cancel(PreviewKey key) {
    drop(key);
  }

  /** The revision {@code key} waits for the build of, or null if it does not wait. */
  synchronized String waitingFor(PreviewKey key) {
    Waiting w = waits.get(key);
    return w == null ? null : w.pr.headSha();
  }

  /** The keys waiting now (for tests and reports). */
  synchronized List<PreviewKey> waiting() {
    return List.copyOf(waits.keySet());
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  private void tick(PreviewKey key, boolean alwaysLook) {
    Waiting w;
    synchronized (this) {
      w = waits.get(key);
      if (w == null) {
        return;
      }
    }
    boolean over;
    synchronized (this) {
      over = w.verdict != null;
      if (!over && !clock.instant().isBefore(w.deadline)) {
        w.verdict = new Fail("no image " + w.image + " after " + human(settings.timeout()) + "; check the CI job"
            + (settings.waitFor().isEmpty() ? "" : " (" + String.join(", ", settings.waitFor()) + ")"));
        over = true;
      }
    }
    if (!over && (settings.pollImage() || alwaysLook) && look(key, w.image) == ImageAvailability.PRESENT) {
      synchronized (this) {
        if (waits.get(key) == w && w.verdict == null) {
          w.verdict = new Go("the image " + w.image + " is there");
        }
        over = w.verdict != null;
      }
    }
    if (over && kick(key) != null) {
      return;
    }
    synchronized (this) {
      if (waits.get(key) == w) {
        w.delay = over ? settings.pollInterval() : min(w.delay.multipliedBy(2), MAX_DELAY);
        schedule(key, w);
      }
    }
  }

  /** Submits the deploy that takes the verdict, unless an op for the key is already under way (it takes it). */
  private CompletableFuture<Preview> kick(PreviewKey key) {
    PullRequest pr;
    synchronized (this) {
      Waiting w = waits.get(key);
      if (w == null) {
        return null;
      }
      pr = w.pr;
    }
    try {
      return scheduler.submitIfIdle(key, new Op.Deploy(pr));
    } catch (RuntimeException e) {
      log.warn("{}: could not resume the deploy after its build: {}", key, e.toString());
      return null;
    }
  }

  /** Guarded by this. */
  private void schedule(PreviewKey key, Waiting w) {
    if (timer == null) {
      return;
    }
    if (w.next != null) {
      w.next.cancel(false);
    }
    long untilDeadline = Math.max(0, Duration.between(clock.instant(), w.deadline).toMillis());
    // A verdict not yet taken (the key was busy) is offered again after pollInterval, deadline or not.
    long delay = w.verdict != null ? w.delay.toMillis()
        : settings.pollImage() ? Math.min(w.delay.toMillis(), untilDeadline) : untilDeadline;
    try {
      w.next = timer.schedule(() -> tick(key, false), Math.max(1, delay), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  /** Guarded by this. */
  private void drop(PreviewKey key) {
    Waiting w = waits.remove(key);
    if (w != null && w.next != null) {
      w.next.cancel(false);
    }
  }

  private ImageAvailability look(PreviewKey key, String image) {
    try {
      ImageAvailability a = environment.imageAvailable(image);
      return a == null ? ImageAvailability.UNKNOWN : a;
    } catch (RuntimeException e) {
      log.debug("{}: {} could not look for {}: {}", key, environment.name(), image, e.toString());
      return ImageAvailability.UNKNOWN;
    }
  }

  private static Decision verdict(BuildEvent e) {
    if (e.conclusion() == BuildEvent.Conclusion.SUCCESS) {
      return new Go(e.name() + " succeeded");
    }
    return new Fail("CI " + e.name() + " concluded " + e.detail() + " for " + e.sha()
        + (e.url() == null ? "" : ": " + e.url()) + "; no image to deploy");
  }

  private static String id(String repository, String sha) {
    return repository.toLowerCase(Locale.ROOT) + "@" + sha.toLowerCase(Locale.ROOT);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  static String human(Duration d) {
    long s = d.toSeconds();
    if (s % 3600 == 0 && s > 0) {
      return s / 3600 + "h";
    }
    if (s % 60 == 0 && s > 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }
}
