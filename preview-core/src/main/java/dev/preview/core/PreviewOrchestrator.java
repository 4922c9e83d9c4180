package dev.preview.core;

import dev.preview.core.policy.Admission;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.core.policy.Verdict;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the life of every preview: composes one {@link EnvironmentProvider} with optional
 * {@link DatabaseProvider}, {@link DnsProvider}, {@link ScmNotifier} and {@link PullRequestSource},
 * under a {@link PreviewPolicy} and an {@link AppTemplate}.
 *
 * <h2>Concurrency</h2>
 * Events for one PR run one at a time, in arrival order; different PRs run in parallel up to
 * {@link Builder#parallelism(int)}. A newer event for a PR replaces an older one still queued
 * (latest push wins), and supersedes a running deploy at the next safe point: between two steps or
 * while waiting for readiness, never inside a provider call. What the abandoned run created is
 * adopted by the next one (every step is idempotent). The futures of replaced events complete with
 * the outcome of the event that replaced them.
 *
 * <h2>A deploy</h2>
 * policy -> guard (is the PR still open?) -> database -> environment -> DNS -> readiness gate ->
 * notify READY. A failing step notifies FAILED with the step, the reason and the app's last log lines;
 * what was created stays for the next push to adopt, or for {@link #reconcile} to remove once the PR
 * is gone.
 *
 * <h2>A teardown</h2>
 * environment, DNS, database, then notify DELETED. Each step runs even if an earlier one failed;
 * a teardown left incomplete is finished by {@link #reconcile}.
 *
 * <p>Thread-safe. {@link #close()} waits for running work and closes the providers.
 */
public final class PreviewOrchestrator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);
  private static final int LOG_TAIL_LINES = 20;

  private final EnvironmentProvider environment;
  private final DatabaseProvider database;
  private final DnsProvider dns;
  private final ScmNotifier notifier;
  private final PullRequestSource pullRequests;
  private final AppTemplate app;
  private final PreviewPolicy policy;
  private final Clock clock;
  private final HealthCheck healthCheck;
  private final List<PreviewListener> listeners;
  private final String instance;
  private final String databaseBaseline;
  private final String dnsTarget;
  private final int dnsTtl;
  private final boolean redeployMissing;
  private final boolean closeProviders;
  private final ExecutorService executor;
  private final Map<PreviewKey, KeyWorker> workers = new ConcurrentHashMap<>();
  /** Stamps submits and finished runs, so reconcile can tell its facts about a key went stale. */
  private final java.util.concurrent.atomic.AtomicLong touches = new java.util.concurrent.atomic.AtomicLong();
  /** Keys admitted to deploy and not done yet: they hold a maxConcurrent slot before their environment exists. */
  private final Set<PreviewKey> admitted = ConcurrentHashMap.newKeySet();
  /** Makes counting the slots and taking one a single step across keys. */
  private final Object slots = new Object();
  /** PRs waiting for a slot under {@code maxConcurrent}, oldest first. */
  private final Map<PreviewKey, PullRequest> queued = java.util.Collections.synchronizedMap(new LinkedHashMap<>());

  private PreviewOrchestrator(Builder b) {
    this.environment = Objects.requireNonNull(b.environment, "an EnvironmentProvider is required");
    this.database = b.database;
    this.dns = b.dns;
    this.notifier = b.notifier;
    this.pullRequests = b.pullRequests;
    this.app = b.app;
    this.policy = b.policy;
    this.clock = b.clock;
    this.healthCheck = b.healthCheck;
    this.listeners = List.copyOf(b.listeners);
    this.instance = b.instance;
    this.databaseBaseline = b.databaseBaseline;
    this.dnsTarget = b.dnsTarget;
    this.dnsTtl = b.dnsTtl;
    this.redeployMissing = b.redeployMissing;
    this.closeProviders = b.closeProviders;
    AtomicInteger n = new AtomicInteger();
    ThreadFactory tf = r -> {
      Thread t = new Thread(r, "preview-worker-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    this.executor = Executors.newFixedThreadPool(b.parallelism, tf);
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- public API

  /**
   * Acts on a PR event: deploy (opened, pushed, reopened, labels, ready, retargeted) or tear down
   * (closed, merged). Returns at once; the future completes when the run that carries this event
   * (or a newer event that replaced it) ends. It never completes exceptionally for a failed deploy:
   * the {@link Preview} says FAILED and why.
   */
  public CompletableFuture<Preview> handle(PullRequestEvent event) {
    Objects.requireNonNull(event, "event");
    Op op = event.action().ends()
        ? new Op(event.key(), null, "the PR was " + (event.action() == PullRequestEvent.Action.MERGED ? "merged" : "closed"))
        : new Op(event.key(), event.pullRequest(), null);
    return submit(op);
  }

  /** Tears down {@code key}'s preview whatever its PR's state. Idempotent. */
  public CompletableFuture<Preview> teardown(PreviewKey key, String reason) {
    return submit(new Op(Objects.requireNonNull(key, "key"), null, reason == null ? "torn down on request" : reason));
  }

  /** Every preview the environment provider knows, as observed on the infrastructure. */
  public List<Preview> list() {
    return environment.list().stream().sorted((a, b) -> a.key().compareTo(b.key())).map(this::observed).toList();
  }

  /** The preview of {@code key}, as observed on the infrastructure. */
  public Optional<Preview> get(PreviewKey key) {
    return environment.find(key).map(this::observed);
  }

  /**
   * Compares what every provider owns with the open PRs and the policy, and repairs: removes
   * orphans (PR closed or gone) and expired previews, finishes half-done teardowns, puts idle
   * previews to sleep, and (if configured) redeploys open PRs whose environment is missing.
   * Level-triggered: running it again is harmless. If the SCM cannot be asked, nothing is deleted.
   * Previews with work in flight are left alone. Reclaimed resources are logged as warnings.
   */
  public ReconcileReport reconcile(boolean dryRun) {
    Instant now = clock.instant();
    long started = touches.get(); // taken before any listing: later work on a key makes our view of it stale
    List<ReconcileReport.Action> actions = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    Set<String> unknown = new TreeSet<>();

    Map<PreviewKey, Environment> envs = new TreeMap<>();
    for (Environment e : environment.list()) {
      envs.put(e.key(), e);
    }
    // A DNS or database provider that cannot list must not stop the cleanup of the others.
    Set<PreviewKey> dbs = new TreeSet<>();
    if (database != null) {
      try {
        dbs.addAll(database.list());
      } catch (RuntimeException e) {
        errors.add("could not list databases: " + e.getMessage());
        log.warn("reconcile: {} could not list its databases: {}", database.name(), e.toString());
      }
    }
    Map<PreviewKey, List<DnsRecord>> records = new TreeMap<>();
    if (dns != null) {
      try {
        for (DnsRecord r : dns.list()) {
          records.computeIfAbsent(r.owner(), k -> new ArrayList<>()).add(r);
        }
      } catch (RuntimeException e) {
        errors.add("could not list DNS records: " + e.getMessage());
        log.warn("reconcile: {} could not list its records: {}", dns.name(), e.toString());
      }
    }
    Set<PreviewKey> all = new TreeSet<>();
    all.addAll(envs.keySet());
    all.addAll(dbs);
    all.addAll(records.keySet());

    // What the SCM says is open, per repository; null when unknown.
    Map<String, Map<PreviewKey, PullRequest>> open = new TreeMap<>();
    Set<String> repositories = all.stream().map(PreviewKey::repository).collect(Collectors.toCollection(TreeSet::new));
    if (pullRequests != null) {
      for (String repo : repositories) {
        try {
          Map<PreviewKey, PullRequest> m = new LinkedHashMap<>();
          for (PullRequest pr : pullRequests.listOpen(repo)) {
            m.put(pr.key(), pr);
          }
          open.put(repo, m);
        } catch (RuntimeException e) {
          unknown.add(repo);
          errors.add("could not list open PRs of " + repo + ": " + e.getMessage());
          log.warn("reconcile: the SCM could not list open PRs of {} ({}); deleting nothing", repo, e.toString());
        }
      }
    }
    boolean scmFailed = !unknown.isEmpty();

    for (PreviewKey key : all) {
      if (busy(key) || touchedSince(key, started)) {
        continue;
      }
      Environment env = envs.get(key);
      Map<PreviewKey, PullRequest> repoOpen = open.get(key.repository());
      PullRequest pr = repoOpen == null ? null : repoOpen.get(key);
      boolean prKnownGone = repoOpen != null && pr == null && key.isPullRequest();

      ReconcileReport.Kind kind = null;
      String reason = null;
      if (prKnownGone) {
        kind = ReconcileReport.Kind.DELETE_ORPHAN;
        reason = "its PR is no longer open";
      } else if (env == null) {
        if (pr != null && redeployMissing) {
          kind = ReconcileReport.Kind.REDEPLOY;
          reason = "its PR is open but the environment is missing";
        } else if (pr == null) {
          kind = ReconcileReport.Kind.FINISH_TEARDOWN;
          reason = "leftovers without an environment (half-done deploy or teardown)";
        }
      } else {
        Verdict v = policy.evaluate(env, pr == null ? null : pr.labels(), now);
        if (v.action() == Verdict.Action.EXPIRE) {
          kind = ReconcileReport.Kind.EXPIRE;
          reason = v.reason();
        } else if (v.action() == Verdict.Action.SLEEP && environment.supportsSuspend()) {
          kind = ReconcileReport.Kind.SLEEP;
          reason = v.reason();
        }
      }
      if (kind == null) {
        continue;
      }
      boolean deletes = kind != ReconcileReport.Kind.SLEEP && kind != ReconcileReport.Kind.REDEPLOY;
      if (deletes && scmFailed) {
        // The SCM could not tell us what is open: an error is "unknown", never "no open PRs".
        actions.add(new ReconcileReport.Action(key, kind, reason + " (not done: the SCM state is unknown)", false));
        continue;
      }
      boolean done = false;
      if (!dryRun) {
        try {
          done = repair(key, kind, reason, env, pr, started);
        } catch (RuntimeException e) {
          errors.add(key + ": " + e.getMessage());
        }
      }
      String what = describe(key, env != null, dbs.contains(key), records.getOrDefault(key, List.of()));
      log.warn("reconcile{}: {} {} because {}", dryRun ? " (dry run)" : "", kindVerb(kind), what, reason);
      String why = reason;
      fire(l -> l.onReclaimed(key, what, why));
      actions.add(new ReconcileReport.Action(key, kind, reason, done));
    }
    if (!dryRun) {
      startQueued();
    }
    return new ReconcileReport(actions, unknown, errors, dryRun);
  }

  /** Stops accepting work, waits up to 30 s for running work, and closes the providers (if the builder said so). */
  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
    if (closeProviders) {
      for (AutoCloseable c : new AutoCloseable[] {environment, database, dns, notifier, pullRequests}) {
        if (c != null) {
          try {
            c.close();
          } catch (Exception e) {
            log.warn("closing {} failed: {}", c, e.toString());
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- per-key serialisation

  /** One wanted outcome for a key: a deploy of {@code pr}, or a teardown when {@code pr} is null. */
  private static final class Op {
    final PreviewKey key;
    final PullRequest pr;
    final String teardownReason;
    /** Set for a suspend by reconcile (then {@code pr} and {@code teardownReason} are null). */
    final String sleepReason;
    final String sleepRevision;
    final List<CompletableFuture<Preview>> waiters = new ArrayList<>();

    Op(PreviewKey key, PullRequest pr, String teardownReason) {
      this(key, pr, teardownReason, null, null);
    }

    private Op(PreviewKey key, PullRequest pr, String teardownReason, String sleepReason, String sleepRevision) {
      this.key = key;
      this.pr = pr;
      this.teardownReason = teardownReason;
      this.sleepReason = sleepReason;
      this.sleepRevision = sleepRevision;
    }

    static Op sleep(PreviewKey key, String reason, String revision) {
      return new Op(key, null, null, reason, revision);
    }

    boolean isDeploy() {
      return pr != null;
    }
  }

  /** The queue of one key: at most one op running and one pending (the latest). */
  private static final class KeyWorker {
    final PreviewKey key;
    Op pending;
    boolean running;
    /** The {@code touches} stamp of the last submit or finished run for this key. */
    long touched;

    KeyWorker(PreviewKey key) {
      this.key = key;
    }
  }

  /** Thrown at a safe point when a newer op is pending for the key. */
  private static final class Superseded extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Superseded() {
      super(null, null, false, false);
    }
  }

  private CompletableFuture<Preview> submit(Op op) {
    return submit(op, Long.MAX_VALUE);
  }

  /** Submits {@code op}, or returns null if the key is busy or was touched after stamp {@code unlessTouchedAfter}. */
  private CompletableFuture<Preview> submit(Op op, long unlessTouchedAfter) {
    CompletableFuture<Preview> f = new CompletableFuture<>();
    op.waiters.add(f);
    KeyWorker w = workers.computeIfAbsent(op.key, KeyWorker::new);
    boolean start;
    synchronized (w) {
      if (unlessTouchedAfter != Long.MAX_VALUE && (w.running || w.pending != null || w.touched > unlessTouchedAfter)) {
        return null;
      }
      w.touched = touches.incrementAndGet();
      if (w.pending != null) {
        op.waiters.addAll(w.pending.waiters); // replaced: its callers get this op's outcome
      }
      w.pending = op;
      start = !w.running;
      w.running = true;
      w.notifyAll(); // wakes a readiness wait, which then gives way
    }
    if (start) {
      try {
        executor.execute(() -> drain(w));
      } catch (RuntimeException e) {
        // Refused (closed): fail every caller waiting on this key, including an op submitted meanwhile.
        List<CompletableFuture<Preview>> waiting = new ArrayList<>(op.waiters);
        synchronized (w) {
          if (w.pending != null && w.pending != op) {
            waiting.addAll(w.pending.waiters);
          }
          w.running = false;
          w.pending = null;
        }
        for (CompletableFuture<Preview> waiter : waiting) {
          waiter.completeExceptionally(e);
        }
      }
    }
    return f;
  }

  private void drain(KeyWorker w) {
    Op op;
    synchronized (w) {
      op = w.pending;
      w.pending = null;
      if (op == null) {
        w.running = false;
        return;
      }
    }
    while (true) {
      Preview result = null;
      try {
        result = op.isDeploy() ? deploy(w, op.pr)
            : op.sleepReason != null ? runSleep(op.key, op.sleepReason, op.sleepRevision)
            : runTeardown(op.key, op.teardownReason);
      } catch (Superseded s) {
        Op superseded = op;
        fire(l -> l.onSuperseded(superseded.key, superseded.pr == null ? null : superseded.pr.headSha()));
        log.info("{}: run for {} superseded by a newer event", op.key, op.pr == null ? "teardown" : op.pr.headSha());
      } catch (RuntimeException | Error e) {
        log.error("{}: unexpected failure", op.key, e);
        result = Preview.of(op.key, PreviewState.FAILED, op.pr == null ? null : op.pr.headSha(), String.valueOf(e));
      }
      Op next;
      synchronized (w) {
        w.touched = touches.incrementAndGet();
        next = w.pending;
        w.pending = null;
        if (next == null) {
          w.running = false; // before completing the futures, so callers see the key idle
        } else if (result == null) {
          next.waiters.addAll(op.waiters); // superseded: its callers get the newer run's outcome
        }
      }
      if (result == null && next == null) {
        result = Preview.of(op.key, PreviewState.PENDING, null, "superseded");
      }
      if (result != null) {
        for (CompletableFuture<Preview> f : op.waiters) {
          f.complete(result);
        }
      }
      if (next == null) {
        return;
      }
      op = next;
    }
  }

  private boolean busy(PreviewKey key) {
    KeyWorker w = workers.get(key);
    if (w == null) {
      return false;
    }
    synchronized (w) {
      return w.running || w.pending != null;
    }
  }

  private boolean touchedSince(PreviewKey key, long stamp) {
    KeyWorker w = workers.get(key);
    if (w == null) {
      return false;
    }
    synchronized (w) {
      return w.touched > stamp;
    }
  }

  private static void safePoint(KeyWorker w) {
    synchronized (w) {
      if (w.pending != null) {
        throw new Superseded();
      }
    }
  }

  // ---------------------------------------------------------------- deploy

  /** Step timings and the current step of one run. */
  private final class Run {
    final PreviewKey key;
    final Map<String, Duration> timings = new LinkedHashMap<>();
    String step;

    Run(PreviewKey key) {
      this.key = key;
    }

    <T> T step(String name, java.util.function.Supplier<T> body) {
      step = name;
      fire(l -> l.onStepStarted(key, name));
      long t0 = System.nanoTime();
      try {
        T r = body.get();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        timings.put(name, took);
        fire(l -> l.onStepFinished(key, name, took, null));
        return r;
      } catch (RuntimeException e) {
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        timings.put(name, took);
        if (!(e instanceof Superseded)) {
          fire(l -> l.onStepFinished(key, name, took, e));
        }
        throw e;
      }
    }

    void step(String name, Runnable body) {
      step(name, () -> {
        body.run();
        return null;
      });
    }
  }

  private Preview deploy(KeyWorker w, PullRequest pr) {
    PreviewKey key = pr.key();
    Run run = new Run(key);
    String revision = pr.headSha();

    Admission admission;
    boolean exists;
    try {
      // countOthers and the existence check ask providers too: their failures are reported like a step's.
      synchronized (slots) {
        admission = run.step("policy", () -> policy.admit(pr, countOthers(key)));
        if (admission.decision() == Admission.Decision.DEPLOY) {
          admitted.add(key);
        }
      }
      exists = admission.decision() == Admission.Decision.SKIP
          && (environment.find(key).isPresent() || (database != null && database.list().contains(key)));
    } catch (RuntimeException e) {
      return failed(run, revision, e, null);
    }
    switch (admission.decision()) {
      case SKIP: {
        queued.remove(key);
        if (exists) {
          Preview p = runTeardown(key, admission.reason());
          return new Preview(key, p.state(), revision, null, null, admission.reason(), null, p.timings(), null, null);
        }
        log.info("{}: no preview: {}", key, admission.reason());
        return new Preview(key, PreviewState.DELETED, revision, null, null, admission.reason(), null, run.timings, null, null);
      }
      case QUEUE:
        queued.put(key, pr);
        transition(key, PreviewState.PENDING, admission.reason());
        publish(key, PreviewState.PENDING, revision, null, admission.reason(), null, List.of(), run.timings);
        return new Preview(key, PreviewState.PENDING, revision, null, null, admission.reason(), null, run.timings, null, null);
      default:
        queued.remove(key);
    }

    transition(key, PreviewState.PROVISIONING, revision);
    publish(key, PreviewState.PROVISIONING, revision, null, admission.reason(), null, List.of(), run.timings);
    String dbName = null;
    try {
      safePoint(w);
      // Deploy guard: a close that raced with this deploy must not leave an orphan behind.
      Optional<PullRequest> current = run.step("guard", () -> guard(pr));
      if (current.isPresent() && !current.get().isOpen()) {
        String reason = "the PR was " + current.get().state().name().toLowerCase(java.util.Locale.ROOT) + " meanwhile";
        log.info("{}: not deploying {}: {}", key, revision, reason);
        return runTeardown(key, reason);
      }
      safePoint(w);

      Instant now = clock.instant();
      Optional<Environment> existing = environment.find(key);
      Map<String, String> labels = new LinkedHashMap<>(Labels.ownership(key, revision));
      labels.putAll(policy.lifecycleLabels(existing, pr, now));
      if (instance != null) {
        labels.put(Labels.INSTANCE, instance);
      }

      DatabaseConnection db = null;
      if (database != null) {
        db = run.step("database", () -> database.create(key, new DatabaseSpec(databaseBaseline, labels, app.buildContext())));
        dbName = db.name();
        safePoint(w);
      }

      EnvironmentSpec spec = spec(pr, admission, labels, db);
      Environment env = run.step("environment", () -> environment.apply(spec));
      safePoint(w);

      String hostname = spec.hostname();
      if (dns != null && hostname != null) {
        Environment applied = env;
        run.step("dns", () -> dns.upsert(dnsRecord(key, hostname, applied)));
        safePoint(w);
      }

      URI publicUrl = hostname != null ? app.publicUrl(key) : env.url();
      Environment ready = env;
      run.step("readiness", () -> awaitReady(w, ready, spec));

      Instant expires = labels.containsKey(Labels.EXPIRES) ? Instant.parse(labels.get(Labels.EXPIRES)) : null;
      Preview preview = new Preview(key, PreviewState.READY, revision, publicUrl, dbName, admission.reason(), null,
          run.timings, now, expires);
      transition(key, PreviewState.READY, String.valueOf(publicUrl));
      publish(key, PreviewState.READY, revision, publicUrl, admission.reason(), null, List.of(), run.timings, dbName);
      return preview;
    } catch (Superseded s) {
      throw s;
    } catch (RuntimeException e) {
      return failed(run, revision, e, dbName);
    } finally {
      admitted.remove(key);
    }
  }

  private Preview failed(Run run, String revision, RuntimeException e, String dbName) {
    PreviewKey key = run.key;
    String step = run.step;
    String reason = String.valueOf(e.getMessage());
    List<String> tail = logTail(key);
    log.warn("{}: deploy of {} failed at step {}: {}", key, revision, step, reason);
    transition(key, PreviewState.FAILED, step + ": " + reason);
    publish(key, PreviewState.FAILED, revision, null, reason, step, tail, run.timings, dbName);
    return new Preview(key, PreviewState.FAILED, revision, null, dbName, reason, step, run.timings, null, null);
  }

  private Optional<PullRequest> guard(PullRequest pr) {
    if (pullRequests == null) {
      return Optional.of(pr);
    }
    try {
      Optional<PullRequest> now = pullRequests.find(pr.key());
      return now.isPresent() ? now : Optional.of(pr.withState(PullRequest.State.CLOSED));
    } catch (RuntimeException e) {
      // Unknown is not "closed": deploy, and let reconcile clean up if the PR did close.
      log.warn("{}: could not re-check the PR before deploying ({}); going on", pr.key(), e.toString());
      return Optional.of(pr);
    }
  }

  private EnvironmentSpec spec(PullRequest pr, Admission admission, Map<String, String> labels, DatabaseConnection db) {
    PreviewKey key = pr.key();
    EnvironmentSpec.Builder b = app.specBuilder(key, pr.headSha());
    if (!admission.secretsAllowed()) {
      b.clearSecrets();
    }
    Map<String, Boolean> flags = policy.flags(pr);
    b.flags(flags);
    b.env(PreviewPolicy.flagEnv(flags));
    URI publicUrl = app.publicUrl(key);
    if (publicUrl != null) {
      b.env("PREVIEW_URL", publicUrl.toString());
    }
    b.env("PREVIEW_KEY", key.id());
    b.env("PREVIEW_REVISION", pr.headSha());
    b.env("PREVIEW_BRANCH", pr.headRef());
    Set<String> secretNames = new TreeSet<>(admission.secretsAllowed() ? app.secrets().keySet() : Set.of());
    if (db != null) {
      b.env(db.env());
      b.secrets(db.secretEnv());
      secretNames.addAll(db.secretEnv().keySet());
    }
    if (!secretNames.isEmpty()) {
      b.env("PREVIEW_SECRET_NAMES", String.join(",", secretNames));
    }
    return b.labels(labels).build();
  }

  private DnsRecord dnsRecord(PreviewKey key, String hostname, Environment env) {
    String target = dnsTarget;
    if (target == null) {
      if (env.url() == null || env.url().getHost() == null) {
        throw new IllegalStateException("the environment has no address to point " + hostname
            + " at; set dns.target to the ingress address or name");
      }
      target = env.url().getHost();
    }
    DnsRecord.Type type = target.matches("\\d{1,3}(\\.\\d{1,3}){3}") ? DnsRecord.Type.A
        : target.contains(":") ? DnsRecord.Type.AAAA : DnsRecord.Type.CNAME;
    return new DnsRecord(hostname, type, target, dnsTtl, key);
  }

  private Void awaitReady(KeyWorker w, Environment env, EnvironmentSpec spec) {
    if (env.url() == null) {
      throw new IllegalStateException(environment.name() + " gave the environment no URL to check");
    }
    URI health = env.url().resolve(spec.healthPath());
    long deadline = System.nanoTime() + app.readinessTimeout().toNanos();
    long delay = app.readinessInterval().toMillis();
    String last = "no answer";
    while (true) {
      try {
        if (healthCheck.healthy(health)) {
          return null;
        }
        last = "not healthy yet";
      } catch (Exception e) {
        last = e.toString();
      }
      long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (remaining <= 0) {
        throw new IllegalStateException("not healthy at " + health + " within " + app.readinessTimeout().toSeconds()
            + " s (last: " + last + ")");
      }
      synchronized (w) {
        if (w.pending != null) {
          throw new Superseded();
        }
        try {
          w.wait(Math.max(1, Math.min(delay, remaining))); // woken early by a newer event
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for readiness");
        }
        if (w.pending != null) {
          throw new Superseded();
        }
      }
      delay = Math.min(delay * 2, Math.max(app.readinessInterval().toMillis(), 5_000));
    }
  }

  private int countOthers(PreviewKey key) {
    if (policy.maxConcurrent() <= 0) {
      return 0;
    }
    Set<PreviewKey> taken = new java.util.HashSet<>(admitted);
    environment.list().forEach(e -> taken.add(e.key()));
    taken.remove(key);
    return taken.size();
  }

  private List<String> logTail(PreviewKey key) {
    try {
      return environment.logs(key, LOG_TAIL_LINES);
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  // ---------------------------------------------------------------- teardown

  private Preview runTeardown(PreviewKey key, String reason) {
    Run run = new Run(key);
    queued.remove(key);
    transition(key, PreviewState.DELETING, reason);
    publish(key, PreviewState.DELETING, null, null, reason, null, List.of(), run.timings);
    List<String> failures = new ArrayList<>();
    String revision = null;
    try {
      revision = environment.find(key).map(Environment::revision).orElse(null);
    } catch (RuntimeException e) {
      log.debug("{}: could not read the revision before teardown: {}", key, e.toString());
    }
    attempt(run, "teardown.environment", () -> environment.delete(key), failures);
    if (dns != null) {
      attempt(run, "teardown.dns", () -> deleteDns(key), failures);
    }
    if (database != null) {
      attempt(run, "teardown.database", () -> database.drop(key), failures);
    }
    Preview result;
    if (failures.isEmpty()) {
      transition(key, PreviewState.DELETED, reason);
      publish(key, PreviewState.DELETED, revision, null, reason, null, List.of(), run.timings);
      result = new Preview(key, PreviewState.DELETED, revision, null, null, reason, null, run.timings, null, null);
    } else {
      String msg = "teardown incomplete (" + String.join("; ", failures) + "); the next reconcile finishes it";
      transition(key, PreviewState.FAILED, msg);
      publish(key, PreviewState.FAILED, revision, null, msg, run.step, List.of(), run.timings);
      result = new Preview(key, PreviewState.FAILED, revision, null, null, msg, run.step, run.timings, null, null);
    }
    startQueued();
    return result;
  }

  private Preview runSleep(PreviewKey key, String reason, String revision) {
    try {
      environment.suspend(key);
    } catch (RuntimeException e) {
      log.warn("{}: could not suspend: {}", key, e.toString());
      return Preview.of(key, PreviewState.FAILED, revision, "could not suspend: " + e.getMessage());
    }
    transition(key, PreviewState.SLEEPING, reason);
    publish(key, PreviewState.SLEEPING, revision, null, "asleep: " + reason + "; the next push wakes it",
        null, List.of(), Map.of());
    return new Preview(key, PreviewState.SLEEPING, revision, null, null, reason, null, Map.of(), null, null);
  }

  private void deleteDns(PreviewKey key) {
    Set<String> hosts = new LinkedHashSet<>();
    String h = app.hostname(key);
    if (h != null) {
      hosts.add(h);
    }
    for (DnsRecord r : dns.list()) {
      if (r.owner().equals(key)) {
        hosts.add(r.hostname());
      }
    }
    for (String host : hosts) {
      dns.delete(host);
    }
  }

  private void attempt(Run run, String step, Runnable body, List<String> failures) {
    try {
      run.step(step, body);
    } catch (RuntimeException e) {
      failures.add(step + ": " + e.getMessage());
      log.warn("{}: {} failed: {}", run.key, step, e.toString());
    }
  }

  private void startQueued() {
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
    if (!busy(next.key())) {
      submit(new Op(next.key(), next, null));
    }
  }

  // ---------------------------------------------------------------- reconcile helpers

  private boolean repair(PreviewKey key, ReconcileReport.Kind kind, String reason, Environment env, PullRequest pr,
      long started) {
    switch (kind) {
      case SLEEP: {
        // Through the key's worker, like every other change: a push never overlaps the suspend, and
        // one arriving meanwhile runs after it (and wakes the preview).
        CompletableFuture<Preview> f = submit(Op.sleep(key, reason, env.revision()), started);
        Preview p = f == null ? null : f.join();
        if (p != null && p.state() == PreviewState.FAILED) {
          throw new IllegalStateException(p.message()); // reported in the reconcile's errors
        }
        return p != null && p.state() == PreviewState.SLEEPING;
      }
      case REDEPLOY:
        submit(new Op(key, pr, null));
        return true;
      default:
        CompletableFuture<Preview> f = submit(new Op(key, null, reason), started);
        if (f == null) {
          return false; // an event for this key came in since our listing: our facts are stale
        }
        return f.join().state() == PreviewState.DELETED;
    }
  }

  private static String kindVerb(ReconcileReport.Kind kind) {
    return switch (kind) {
      case SLEEP -> "suspending";
      case REDEPLOY -> "redeploying";
      default -> "reclaiming";
    };
  }

  private static String describe(PreviewKey key, boolean env, boolean db, Collection<DnsRecord> records) {
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
    return key + " [" + String.join(", ", parts) + "]";
  }

  // ---------------------------------------------------------------- notify and listeners

  private Preview observed(Environment e) {
    PreviewState state = switch (e.phase()) {
      case RUNNING -> PreviewState.READY;
      case STARTING -> PreviewState.PROVISIONING;
      case SUSPENDED -> PreviewState.SLEEPING;
      case FAILED -> PreviewState.FAILED;
    };
    URI publicUrl = app.publicUrl(e.key());
    URI url = publicUrl != null ? publicUrl : e.url();
    return new Preview(e.key(), state, e.revision(), url, null, "", null, Map.of(),
        e.lastActivity().orElse(null), e.expires().orElse(null));
  }

  private void publish(PreviewKey key, PreviewState state, String revision, URI url, String message, String failedStep,
      List<String> logTail, Map<String, Duration> steps) {
    publish(key, state, revision, url, message, failedStep, logTail, steps, null);
  }

  private void publish(PreviewKey key, PreviewState state, String revision, URI url, String message, String failedStep,
      List<String> logTail, Map<String, Duration> steps, String databaseName) {
    if (notifier == null) {
      return;
    }
    Map<String, URI> links = new LinkedHashMap<>();
    if (url != null) {
      app.links().forEach((name, path) -> links.put(name, url.resolve(path.substring(1))));
    }
    String db = database == null || databaseName == null ? null : database.name() + " " + databaseName;
    PreviewStatus status = new PreviewStatus(key, state, revision, url, links, message, failedStep, logTail, steps,
        clock.instant(), db);
    try {
      notifier.publish(status);
    } catch (RuntimeException e) {
      // A PR comment that could not be written must not fail the preview.
      log.warn("{}: {} could not publish {}: {}", key, notifier.name(), state, e.toString());
    }
  }

  private void transition(PreviewKey key, PreviewState state, String message) {
    fire(l -> l.onTransition(key, state, message));
  }

  private void fire(java.util.function.Consumer<PreviewListener> call) {
    for (PreviewListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        log.warn("listener {} threw {}", l, e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- builder

  /** Builds a {@link PreviewOrchestrator}. Only the environment provider is required. */
  public static final class Builder {
    private EnvironmentProvider environment;
    private DatabaseProvider database;
    private DnsProvider dns;
    private ScmNotifier notifier;
    private PullRequestSource pullRequests;
    private AppTemplate app = AppTemplate.builder().build();
    private PreviewPolicy policy = PreviewPolicy.defaults();
    private Clock clock = Clock.systemUTC();
    private HealthCheck healthCheck = HealthCheck.http(Duration.ofSeconds(5));
    private final List<PreviewListener> listeners = new CopyOnWriteArrayList<>();
    private String instance;
    private String databaseBaseline;
    private String dnsTarget;
    private int dnsTtl = 60;
    private boolean redeployMissing;
    private int parallelism = 4;
    private boolean closeProviders = true;

    private Builder() {}

    public Builder environment(EnvironmentProvider p) { this.environment = Objects.requireNonNull(p); return this; }
    public Builder database(DatabaseProvider p) { this.database = p; return this; }
    public Builder dns(DnsProvider p) { this.dns = p; return this; }
    public Builder notifier(ScmNotifier n) { this.notifier = n; return this; }
    /** The SCM to ask whether a PR is still open (deploy guard) and which PRs are open (reconcile). */
    public Builder pullRequests(PullRequestSource s) { this.pullRequests = s; return this; }
    public Builder app(AppTemplate t) { this.app = Objects.requireNonNull(t); return this; }
    public Builder policy(PreviewPolicy p) { this.policy = Objects.requireNonNull(p); return this; }
    public Builder clock(Clock c) { this.clock = Objects.requireNonNull(c); return this; }
    public Builder healthCheck(HealthCheck h) { this.healthCheck = Objects.requireNonNull(h); return this; }
    public Builder listener(PreviewListener l) { listeners.add(Objects.requireNonNull(l)); return this; }
    /** A name written into {@link Labels#INSTANCE}, for several installations on one host. */
    public Builder instance(String name) { this.instance = name; return this; }
    /** Passed to the database provider as {@link DatabaseSpec#baseline()}. */
    public Builder databaseBaseline(String baseline) { this.databaseBaseline = baseline; return this; }
    /** Where preview hostnames point (an IP for A/AAAA, a name for CNAME); default: the environment URL's host. */
    public Builder dnsTarget(String target) { this.dnsTarget = target; return this; }
    public Builder dnsTtl(int seconds) { this.dnsTtl = seconds; return this; }
    /** Whether reconcile redeploys open PRs whose environment is missing (default false). */
    public Builder redeployMissing(boolean on) { this.redeployMissing = on; return this; }
    /** How many PRs are worked on at once (default 4). */
    public Builder parallelism(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("parallelism must be >= 1, got " + n);
      }
      this.parallelism = n;
      return this;
    }
    /** Whether {@link PreviewOrchestrator#close()} closes the providers too (default true). */
    public Builder closeProviders(boolean on) { this.closeProviders = on; return this; }

    public PreviewOrchestrator build() {
      return new PreviewOrchestrator(this);
    }
  }
}
