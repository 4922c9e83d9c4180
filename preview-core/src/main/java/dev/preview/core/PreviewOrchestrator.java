package dev.preview.core;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.BuildEvent;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.Redactor;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.SourceFetcher;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * guard (is the PR still open? is this its newest head? see {@link RevisionGuard}) -> policy -> build
 * (with {@code build.from: source}: fetch the PR's head SHA into its workspace, run {@code app.build})
 * -> wait (for the image CI builds, if {@link BuildSettings#waits()}; the PR shows WAITING meanwhile,
 * and no thread is held) -> database -> environment -> DNS -> fence (the SCM is asked again: a PR
 * closed meanwhile is torn down, a head that moved on is deployed next; so two replicas without
 * leader election never leave an orphan nor an older head) -> readiness gate -> notify READY. An
 * {@code opened}/{@code reopened} whose PR the SCM does not show open yet is retried
 * ({@link Builder#scmRetry}) before it is taken as closed. A deploy
 * never rolls a preview back: an event for an older commit (a late {@code labeled}, say) deploys the
 * PR's newest head instead. A failing step notifies FAILED with the step, the reason and the app's last log lines;
 * what was created stays for the next push to adopt, or for {@link #reconcile} to remove once the PR
 * is gone.
 *
 * <h2>A teardown</h2>
 * environment, DNS, database, workspace, then notify DELETED. Each step runs even if an earlier one failed;
 * a teardown left incomplete is finished by {@link #reconcile}. A {@code closed} or {@code merged}
 * webhook deletes nothing until the SCM confirms it: one whose PR the SCM shows open is a stale
 * delivery (a redelivered close after a reopen) and is ignored; one the SCM cannot confirm is left
 * to reconcile, which deletes nothing while the SCM cannot answer. Only what carries the preview's
 * own key is deleted (a DNS record another preview owns at the same name stays).
 *
 * <h2>Parts</h2>
 * This class is the facade: {@link KeyScheduler} runs the ops of each key one at a time,
 * {@link DeployPipeline} runs the {@link DeploySteps} of a deploy, {@link TeardownPipeline} tears down
 * and suspends, {@link Slots} holds the maxConcurrent slots and the queued PRs, {@link Reconciler}
 * carries out what the pure {@link ReconcilePlanner} decides, and {@link StatusPublisher} tells the PR.
 *
 * <p>Thread-safe. {@link #close()} waits for running work and closes the providers.
 */
public final class PreviewOrchestrator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final EnvironmentProvider environment;
  private final DatabaseProvider database;
  private final DnsProvider dns;
  private final ScmNotifier notifier;
  private final PullRequestSource pullRequests;
  private final AppTemplate app;
  private final boolean closeProviders;
  private final KeyScheduler scheduler;
  private final DeployPipeline deploys;
  private final TeardownPipeline teardowns;
  private final Reconciler reconciler;
  private final BuildWaits waits;
  private final RevisionGuard revisions;
  private final StatusPublisher status;
  private final HealthCheck healthCheck;
  private final StatusConvergence convergence;
  private final Slots slots;
  private final ScmRetry scmRetry;
  private final Listeners listeners;
  private final Redaction redaction;

  private PreviewOrchestrator(Builder b) {
    this.environment = Objects.requireNonNull(b.environment, "an EnvironmentProvider is required");
    this.database = b.database;
    this.dns = b.dns;
    this.notifier = b.notifier;
    this.pullRequests = b.pullRequests;
    this.app = b.app;
    this.healthCheck = b.healthCheck;
    this.closeProviders = b.closeProviders;
    Redactor secrets = b.redactor.plus(Redactor.of(app.secrets()));
    if (b.buildSettings.token().isPresent()) {
      // the fetch token (build.from: source) may show in a git error or a build's output
      secrets = secrets.plus(Redactor.of(java.util.List.of(b.buildSettings.token().get()), java.util.List.of()));
    }
    Redaction redaction = new Redaction(secrets);
    this.redaction = redaction;
    Listeners listeners = new Listeners(b.listeners, redaction);
    this.listeners = listeners;
    // Every status leaves through this notifier: redacted there, so no exit to the PR can forget it.
    this.status = new StatusPublisher(RedactingNotifier.wrap(notifier, redaction), app, database, b.clock,
        b.asyncStatus ? StatusDelivery.Options.asynchronous() : StatusDelivery.Options.synchronous(), listeners);
    this.scheduler = new KeyScheduler(b.parallelism, this::run, listeners);
    this.slots = new Slots(b.policy, environment, scheduler);
    this.scmRetry = b.scmRetry;
    this.waits = new BuildWaits(b.buildSettings, environment, b.clock, scheduler);
    Workspaces workspaces = b.buildSettings.from() == BuildSettings.From.SOURCE
        ? new Workspaces(b.buildSettings.workspaces(), b.installation) : null;
    this.teardowns = new TeardownPipeline(environment, database, dns, app, slots, status, listeners, workspaces);
    this.revisions = new RevisionGuard(pullRequests);
    DeploySteps steps = new DeploySteps(new DeploySteps.Context(environment, database, dns, pullRequests, app,
        b.policy, b.clock, b.healthCheck, b.installation.instance(), b.databaseBaseline,
        b.installation.dnsTarget().orElse(null), b.installation.dnsTtl(), b.buildSettings,
        b.sources, workspaces),
        revisions, slots, teardowns, status, listeners, waits, scheduler, b.scmRetry);
    this.deploys = new DeployPipeline(steps.standard(), environment, app, slots, status, listeners);
    this.reconciler = new Reconciler(environment, database, dns, pullRequests, b.policy, b.clock, b.redeployMissing,
        Set.copyOf(b.repositories), scheduler, slots, listeners, waits, workspaces, this::converge,
        b.reconcileParallelism, app.hostnameTemplate() != null);
    this.convergence = new StatusConvergence(status, app, b.healthCheck, b.policy, slots, scheduler, listeners,
        pullRequests, b.reconcileParallelism);
    // a closed PR whose status still shows something else is known by its repository's listing only
    reconciler.alsoList(() -> {
      Set<String> repos = new java.util.TreeSet<>();
      status.shownKeys().forEach(k -> repos.add(k.repository()));
      return repos;
    });
  }

  /**
   * The status part of every reconcile: where a PR shows something else than what was observed
   * (also after a restart, read back from the SCM), the observed status is published
   * ({@link StatusConvergence}); then a PR's newest status that did not reach the SCM is published
   * again, for the keys the convergence did not look at (a closed PR whose DELETED failed, say).
   */
  private void converge(ReconcilePlanner.Facts facts, Set<PreviewKey> acted, long started) {
    Set<PreviewKey> looked = status.publishes() ? convergence.converge(facts, acted, started) : Set.of();
    status.republishDiverged(looked);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Repairs one reconcile runs at once unless {@link Builder#reconcileParallelism} says otherwise. */
  public static final int DEFAULT_RECONCILE_PARALLELISM = 64;

  // ---------------------------------------------------------------- public API

  /**
   * Acts on a PR event: deploy (opened, pushed, reopened, labels, ready, retargeted) or tear down
   * (closed, merged). Returns at once; the future completes when the run that carries this event
   * (or a newer event that replaced it) ends. It never completes exceptionally for a failed deploy:
   * the {@link Preview} says FAILED and why.
   */
  public CompletableFuture<Preview> handle(PullRequestEvent event) {
    Objects.requireNonNull(event, "event");
    PullRequestEvent.Action action = event.action();
    Op op = action.ends()
        ? new Op.Teardown("the PR was " + (action == PullRequestEvent.Action.MERGED ? "merged" : "closed"), null,
            Op.Origin.CLOSE_EVENT, 0)
        : new Op.Deploy(event.pullRequest(),
            action == PullRequestEvent.Action.OPENED || action == PullRequestEvent.Action.REOPENED, 0);
    revisions.arrived(event);
    return scheduler.submit(event.key(), op);
  }

  /**
   * Acts on a CI report for a commit (a GitHub check or workflow run, a commit status, a GitLab
   * pipeline or job): a preview WAITING for the image of that commit (same repository and head SHA)
   * is deployed when one of {@code build.waitFor} succeeded, and FAILED with the CI's conclusion and
   * a link to the run when it failed. Other names, SHAs nobody waits for and pending builds are
   * ignored with the reason; a success or failure for a SHA nobody waits for yet is remembered, so a
   * CI event that arrives before its PR's event still counts. Returns at once.
   */
  public BuildEventResult handle(BuildEvent event) {
    Objects.requireNonNull(event, "event");
    return waits.onEvent(event);
  }

  /**
   * The keys of the PRs waiting for a {@code policy.maxConcurrent} slot, oldest first (the first
   * starts when a slot frees up). After a restart the queue is rebuilt by the first reconcile: open
   * PRs the policy admits that have no environment.
   */
  public List<PreviewKey> queued() {
    return slots.queued();
  }

  /**
   * Waits until no work runs or waits for any preview (no op running or pending, no retry scheduled),
   * up to {@code timeout}; true if it got there. For tests and orderly shutdowns: a new event ends it.
   */
  public boolean awaitQuiescence(Duration timeout) throws InterruptedException {
    return scheduler.awaitQuiescence(Objects.requireNonNull(timeout, "timeout"));
  }

  /** The keys of the previews waiting for their image now, sorted. */
  public List<PreviewKey> waiting() {
    return waits.waiting().stream().sorted().toList();
  }

  /** Tears down {@code key}'s preview whatever its PR's state. Idempotent. */
  public CompletableFuture<Preview> teardown(PreviewKey key, String reason) {
    return scheduler.submit(Objects.requireNonNull(key, "key"),
        new Op.Teardown(reason == null ? "torn down on request" : reason));
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
    // not a dry run: every PR ends showing what was observed (see converge)
    return reconciler.reconcile(dryRun);
  }

  /** Stops accepting work, waits up to 30 s for running work, and closes the providers (if the builder said so). */
  @Override
  public void close() {
    waits.close();
    scheduler.close();
    status.close(Duration.ofSeconds(10));
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

  /** What the scheduler runs for one op of one key, on the key's worker thread. */
  private Preview run(PreviewKey key, Op op, KeyScheduler.SafePoints safePoints) {
    long started = relabelSeq.get();
    try {
      return runOp(key, op, safePoints);
    } finally {
      reapplyRelabel(key, started);
    }
  }

  private Preview runOp(PreviewKey key, Op op, KeyScheduler.SafePoints safePoints) {
    if (op instanceof Op.Deploy d) {
      return deploys.deploy(d, safePoints);
    } else if (op instanceof Op.Sleep s) {
      return teardowns.sleep(key, s.reason(), s.revision());
    } else if (op instanceof Op.Wake w) {
      return wakeNow(key, w.reason(), safePoints);
    }
    Op.Teardown t = (Op.Teardown) op;
    if (t.origin() == Op.Origin.CLOSE_EVENT) {
      Preview notYet = confirmClosed(key, t);
      if (notYet != null) {
        return notYet;
      }
    }
    waits.cancel(key);
    return teardowns.teardown(key, t.reason(), t.dnsRecords(), t.origin() != Op.Origin.RECONCILE, t.revision());
  }

  /**
   * A {@code closed} or {@code merged} webhook deletes nothing before the SCM confirms it: a
   * redelivered close after a reopen, or one delivered late, must not remove an open PR's preview.
   * Returns null when the teardown may go on (the SCM says closed, merged or gone; or there is no SCM
   * to ask), else what this run did instead: the SCM says open (asked again a few times, in case its
   * API lags behind its webhooks, then the delivery is taken as stale and ignored), or it cannot
   * answer (asked again; then left to reconcile, which deletes once the SCM answers).
   */
  private Preview confirmClosed(PreviewKey key, Op.Teardown t) {
    if (pullRequests == null) {
      return null;
    }
    String doubt;
    try {
      Optional<PullRequest> now = pullRequests.find(key);
      if (now.isEmpty() || !now.get().isOpen()) {
        return null;
      }
      doubt = "the SCM shows the PR open (at " + now.get().headSha() + ")";
    } catch (RuntimeException e) {
      doubt = "the SCM could not be asked whether the PR is closed (" + listenersRedacted(e) + ")";
    }
    if (t.attempt() < scmRetry.attempts()) {
      Duration delay = scmRetry.delay(t.attempt());
      log.info("{}: not removing the preview yet: {}; asking again in {} ms", key, doubt, delay.toMillis());
      scheduler.submitLater(key, t.retry(), delay, scheduler.stamp());
      return Preview.of(key, PreviewState.PENDING, null, "close not confirmed yet: " + doubt);
    }
    if (doubt.startsWith("the SCM shows")) {
      log.info("{}: ignoring a stale {} delivery: {}", key, t.reason().endsWith("merged") ? "merged" : "closed", doubt);
      return Preview.of(key, PreviewState.PENDING, null, "stale close ignored: " + doubt);
    }
    log.warn("{}: not removing the preview: {}; the next reconcile removes it once the SCM answers", key, doubt);
    return Preview.of(key, PreviewState.PENDING, null, "close not confirmed: " + doubt);
  }

  private String listenersRedacted(RuntimeException e) {
    return listeners.redaction().text(String.valueOf(e.getMessage()));
  }

  private Preview observed(Environment e) {
    PreviewState state = switch (e.phase()) {
      case RUNNING -> PreviewState.READY;
      case STARTING -> PreviewState.PROVISIONING;
      case SUSPENDED -> PreviewState.SLEEPING;
      case FAILED -> PreviewState.FAILED;
    };
    // A revision that failed its readiness gate is never READY, whoever lists it (the mark is on the infrastructure).
    String failedRevision = e.labels().get(Labels.FAILED_REVISION);
    String reason = "";
    String failedStep = null;
    if (failedRevision != null && failedRevision.equals(e.revision())) {
      state = PreviewState.FAILED;
      failedStep = "readiness";
      reason = "revision " + failedRevision + " failed its readiness gate and was stopped";
    } else if (failedRevision != null && state == PreviewState.READY) {
      reason = "rolled back: revision " + failedRevision + " failed its readiness gate";
    }
    URI publicUrl = app.publicUrl(e.key());
    URI url = publicUrl != null ? publicUrl : e.url();
    return new Preview(e.key(), state, e.revision(), url, null, reason, failedStep, Map.of(),
        e.lastActivity().orElse(null), e.expires().orElse(null));
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
    private Clock clock;
    private HealthCheck healthCheck = HealthCheck.http(Duration.ofSeconds(5));
    private final List<PreviewListener> listeners = new CopyOnWriteArrayList<>();
    private Installation installation = Installation.defaults();
    private String databaseBaseline;
    private BuildSettings buildSettings = BuildSettings.defaults();
    private SourceFetcher sources;
    private boolean redeployMissing;
    private final Set<String> repositories = new TreeSet<>();
    private int parallelism = 4;
    private boolean closeProviders = true;
    private boolean asyncStatus;
    private Redactor redactor = Redactor.none();
    private ScmRetry scmRetry = ScmRetry.DEFAULT;
    private int reconcileParallelism = DEFAULT_RECONCILE_PARALLELISM;

    private Builder() {}

    /**
     * Secrets to keep out of every PR status, log line and listener message besides the app's
     * ({@link AppTemplate#secrets()}, always included) and each preview's database password (learned
     * when its database is created): the installation's tokens and passwords. {@code PreviewAssembly}
     * passes every secret the config's providers read. Adds to what earlier calls gave.
     */
    public Builder redactor(Redactor r) { this.redactor = this.redactor.plus(Objects.requireNonNull(r, "redactor")); return this; }

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
    /**
     * The installation the previews belong to: its instance name is written into
     * {@link Labels#INSTANCE} on everything, its DNS target and TTL go into every record, and its
     * clock is the orchestrator's unless {@link #clock} sets another. Give the providers the
     * same value, so one installation never lists or reconciles another's previews. Default
     * {@link Installation#defaults()}.
     */
    public Builder installation(Installation i) {
      this.installation = Objects.requireNonNull(i, "installation");
      return this;
    }
    /** How previews get their PR's own build (image from CI, optionally waited for, or built from source). */
    public Builder buildSettings(BuildSettings settings) { this.buildSettings = Objects.requireNonNull(settings, "buildSettings"); return this; }
    /**
     * What fetches a PR's code for {@code build.from: source} (e.g. {@code GitSource} of
     * {@code preview-scm}); required with it, unused otherwise.
     */
    public Builder sources(SourceFetcher fetcher) { this.sources = Objects.requireNonNull(fetcher, "sources"); return this; }
    /** Passed to the database provider as {@link DatabaseSpec#baseline()}. */
    public Builder databaseBaseline(String baseline) { this.databaseBaseline = baseline; return this; }
    /**
     * Whether reconcile deploys open PRs whose environment is missing or runs another commit than the
     * PR's head (a lost push webhook, or a wait for its build a restart forgot). Default false.
     */
    public Builder redeployMissing(boolean on) { this.redeployMissing = on; return this; }
    /**
     * Repositories whose open PRs reconcile asks for even when none of them has anything deployed
     * (the config's {@code repository}), so that with {@link #redeployMissing} a PR that has no preview
     * at all (its {@code opened} was lost, or a wait for its image was forgotten by a restart) is
     * deployed too. The repositories of existing previews are always asked.
     */
    public Builder repositories(Collection<String> names) {
      names.forEach(n -> repositories.add(PreviewKey.pr(Objects.requireNonNull(n, "repository"), 1).repository()));
      return this;
    }
    /** How many PRs are worked on at once (default 4). */
    public Builder parallelism(int n) {
      if (n < 1) {
        throw new ConfigurationException("parallelism: must be at least 1 (how many PRs are worked on at once), got " + n);
      }
      this.parallelism = n;
      return this;
    }
    /**
     * Whether statuses are published off the deploy's thread (default false: on it, once). When on,
     * a deploy never waits for the SCM: statuses go out per PR in order, only the newest of a burst,
     * retried with backoff or at the notifier's rate-limit reset; {@link PreviewOrchestrator#close()}
     * waits up to 10 s for those being sent. In both modes identical statuses are not re-posted and
     * every reconcile re-publishes a PR's newest status if it did not reach the SCM.
     * {@code preview serve} turns it on.
     */
    public Builder asyncStatus(boolean on) { this.asyncStatus = on; return this; }
    /**
     * How an SCM read that disagrees with a webhook is retried before it is believed: {@code attempts}
     * retries (default 4), the first after {@code firstDelay} (default 1 s), each next one after twice
     * the previous delay; on the scheduler, no thread waits. An {@code opened}/{@code reopened} whose
     * PR the SCM still shows closed deploys once the SCM shows it open (torn down as closed after the
     * last retry); a {@code closed}/{@code merged} whose PR the SCM shows open is ignored as a stale
     * delivery after the last retry, and one the SCM cannot confirm is left to reconcile.
     */
    public Builder scmRetry(int attempts, Duration firstDelay) {
      try {
        this.scmRetry = new ScmRetry(attempts, firstDelay);
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException("scmRetry: attempts and delay must not be negative, got " + attempts + " and "
            + firstDelay);
      }
      return this;
    }
    /**
     * How many repairs one reconcile runs at once (default {@value #DEFAULT_RECONCILE_PARALLELISM}), on
     * its own threads beside the event workers; a key's repair still never overlaps other work for
     * that key.
     */
    public Builder reconcileParallelism(int n) {
      if (n < 1) {
        throw new ConfigurationException("reconcile.parallelism: must be at least 1, got " + n);
      }
      this.reconcileParallelism = n;
      return this;
    }
    /** Whether {@link PreviewOrchestrator#close()} closes the providers too (default true). */
    public Builder closeProviders(boolean on) { this.closeProviders = on; return this; }

    public PreviewOrchestrator build() {
      if (clock == null) {
        clock = installation.clock();
      }
      if (buildSettings.from() == BuildSettings.From.SOURCE && sources == null) {
        throw new ConfigurationException("build.from: source needs something that fetches the PR's code: add"
            + " dev.preview:preview-scm to the classpath (its GitSource fetches with JGit), or call"
            + " PreviewOrchestrator.builder().sources(..)");
      }
      return new PreviewOrchestrator(this);
    }

    /**
     * The environment provider set so far (null if none), so that a customizer of
     * {@code PreviewAssembly.orchestrator(..)} can wrap it (the gateway of preview-server records visits
     * on top of it) and set the wrapper with {@link #environment(EnvironmentProvider)}.
     */
    public EnvironmentProvider environment() { return environment; }

    /** The notifier set so far (null if none), for a customizer to wrap (the gateway adds its access token to PR links). */
    public ScmNotifier notifier() { return notifier; }
  }

  // ---------------------------------------------------------------- operator actions (see PreviewActions)

  /** Whether {@link #relabel} works with this environment provider. */
  public boolean supportsRelabel() {
    return environment.supportsRelabel();
  }

  /** Whether {@link #sleep} works with this environment provider. */
  public boolean supportsSleep() {
    return environment.supportsSuspend();
  }

  /**
   * Merges lifecycle labels ({@link Labels#LIFECYCLE}: expires, last-activity, pinned; {@code ""}
   * removes one) into {@code key}'s environment without redeploying it. Written at once (a running op
   * is neither waited for nor superseded), and kept until the key's running op ends: an op that read
   * the labels before this write (a deploy computes its lifecycle labels at its start) gets them merged
   * in again when it ends, on the key's worker, before the key's next op runs. So an extension or a pin
   * that lands during a deploy survives it: the later of the two expiries and last activities is kept,
   * and the operator's pin or unpin (an unpin leaves a pin the deploy took from the PR's pin label).
   *
   * @return the preview as now observed; empty if it has no environment
   */
  public Optional<Preview> relabel(PreviewKey key, Map<String, String> labels) {
    Labels.requireLifecycle(labels);
    Objects.requireNonNull(key, "key");
    // noted before the write (an op ending meanwhile merges it in), stamped once written: an op started
    // after the stamp read it
    relabels.merge(key, new Relabel(Map.copyOf(labels), WRITING), Relabel::then);
    try {
      return environment.relabel(key, labels).map(this::observed);
    } finally {
      long seq = relabelSeq.incrementAndGet();
      relabels.computeIfPresent(key, (k, r) -> new Relabel(r.labels(), seq));
    }
  }

  /** The stamp of a relabel still being written. */
  private static final long WRITING = Long.MAX_VALUE;

  /** Lifecycle labels an operator wrote, and the {@link #relabelSeq} once they were written. */
  private record Relabel(Map<String, String> labels, long seq) {
    Relabel then(Relabel newer) {
      Map<String, String> m = new java.util.HashMap<>(labels);
      m.putAll(newer.labels);
      return new Relabel(Map.copyOf(m), Math.max(seq, newer.seq));
    }
  }

  private final java.util.concurrent.atomic.AtomicLong relabelSeq = new java.util.concurrent.atomic.AtomicLong();
  private final Map<PreviewKey, Relabel> relabels = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * At the end of an op of {@code key} that started at {@code started}: relabels written after that may
   * have been overwritten by the op (it read the labels before), so they are merged in again.
   */
  private void reapplyRelabel(PreviewKey key, long started) {
    Relabel r = relabels.get(key);
    if (r == null) {
      return;
    }
    try {
      if (r.seq() > started) {
        Optional<Environment> now = environment.find(key);
        if (now.isPresent()) {
          Map<String, String> merged = new java.util.HashMap<>();
          r.labels().forEach((name, value) -> {
            String current = now.get().labels().get(name);
            if (Labels.PINNED.equals(name)) {
              // an unpin removes the operator's pin, not the one the deploy took from the PR's pin label
              merged.put(name, value.isEmpty() && "true".equals(current) ? current : value);
            } else if (!value.isEmpty() && current != null && later(current, value)) {
              merged.put(name, current); // a push gave more than the operator's extension
            } else {
              merged.put(name, value);
            }
          });
          if (!merged.entrySet().stream().allMatch(e -> e.getValue().equals(now.get().labels().getOrDefault(e.getKey(), "")))) {
            log.info("{}: merging the operator's {} back in after the run that overwrote them", key, merged.keySet());
            environment.relabel(key, merged);
          }
        }
      }
      if (r.seq() != WRITING) {
        relabels.remove(key, r);
      }
    } catch (RuntimeException e) {
      log.warn("{}: could not merge the operator's labels back in: {}", key, listenersRedacted(e));
    }
  }

  private static boolean later(String a, String b) {
    try {
      return java.time.Instant.parse(a).isAfter(java.time.Instant.parse(b));
    } catch (java.time.format.DateTimeParseException e) {
      return false;
    }
  }

  /** Suspends {@code key}'s preview (scale to zero) as the next op of its key; a push or {@link #redeploy} wakes it. */
  public CompletableFuture<Preview> sleep(PreviewKey key, String reason) {
    Optional<Environment> env = environment.find(Objects.requireNonNull(key, "key"));
    if (env.isEmpty()) {
      return CompletableFuture.completedFuture(Preview.of(key, PreviewState.DELETED, null, "no preview to put to sleep"));
    }
    return scheduler.submit(key, new Op.Sleep(reason == null ? "put to sleep on request" : reason, env.get().revision()));
  }

  /**
   * Resumes {@code key}'s sleeping preview as the next op of its key, so a wake never runs beside a
   * deploy, teardown or sleep of the same PR, and waits until its app answers healthy (within
   * {@code app.readiness.timeout}); the PR then shows READY again. Where the environment provider cannot
   * resume ({@code supportsSuspend()} false, or {@code resume} throws {@link UnsupportedOperationException}),
   * the wake deploys the PR's head again instead, as {@link #redeploy} does (the PR as the SCM has it now),
   * inside this same op: concurrent wakes make one deploy. A wake that cannot deploy (no PR source, the PR
   * not open, the SCM not answering) ends with the preview still SLEEPING and the reason, nothing published.
   * Empty when the key has work running or pending (that work decides what runs; a deploy starts the app
   * anyway): wait for the app instead.
   */
  public Optional<CompletableFuture<Preview>> wake(PreviewKey key, String reason) {
    return Optional.ofNullable(scheduler.submitIfIdle(Objects.requireNonNull(key, "key"),
        new Op.Wake(reason == null ? "woken on request" : reason)));
  }

  private Preview wakeNow(PreviewKey key, String reason, KeyScheduler.SafePoints safePoints) {
    Optional<Environment> found = environment.find(key);
    if (found.isEmpty()) {
      return Preview.of(key, PreviewState.DELETED, null, "no preview to wake");
    }
    Environment env = found.get();
    if (env.phase() != Environment.Phase.SUSPENDED) {
      return observed(env); // awake already (a push woke it, or another wake did)
    }
    String revision = env.revision();
    if (!environment.supportsSuspend()) {
      return wakeByDeploy(key, revision, reason, environment.name() + " cannot resume environments", safePoints);
    }
    long start = System.nanoTime();
    try {
      try {
        env = environment.resume(key);
      } catch (UnsupportedOperationException e) {
        return wakeByDeploy(key, revision, reason, environment.name() + " cannot resume this environment ("
            + redaction.text(String.valueOf(e.getMessage())) + ")", safePoints);
      }
      if (env.url() == null) {
        throw new IllegalStateException(environment.name() + " resumed the environment without a URL");
      }
      URI health = env.url().resolve(app.healthPath());
      long deadline = start + app.readinessTimeout().toNanos();
      long pause = Math.max(10, Math.min(250, app.readinessInterval().toMillis()));
      while (!healthCheck.probe(health).healthy()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("not healthy at " + app.healthPath() + " within "
              + app.readinessTimeout().toSeconds() + " s of its resume");
        }
        safePoints.pause(pause);
        pause = Math.min(pause * 2, 1_000);
      }
    } catch (KeyScheduler.Superseded e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Preview.of(key, PreviewState.FAILED, revision, "interrupted while waking");
    } catch (RuntimeException e) {
      String why = "could not wake: " + redaction.text(String.valueOf(e.getMessage()));
      log.warn("{}: {}", key, why);
      listeners.transition(key, PreviewState.FAILED, why);
      status.publish(key, PreviewState.FAILED, revision, null, why, "wake", List.of(), Map.of());
      return Preview.of(key, PreviewState.FAILED, revision, why);
    }
    Map<String, java.time.Duration> timings = Map.of("wake", java.time.Duration.ofNanos(System.nanoTime() - start));
    URI publicUrl = app.publicUrl(key);
    URI url = publicUrl != null ? publicUrl : env.url();
    log.info("{}: awake ({}) after {} ms", key, reason, timings.get("wake").toMillis());
    listeners.transition(key, PreviewState.READY, "awake: " + reason);
    status.publish(key, PreviewState.READY, revision, url, "awake again (" + reason + ")", null, List.of(), timings);
    return new Preview(key, PreviewState.READY, revision, url, null, "awake: " + reason, null, timings,
        env.lastActivity().orElse(null), env.expires().orElse(null));
  }

  /**
   * Wakes {@code key} where its provider cannot resume it ({@code why}): deploys the head of its PR as the
   * SCM has it now, what {@link #redeploy} submits, but run here, inside the wake op of the key (a deploy
   * submitted from the key's own worker could only run after this op, and concurrent wakes would each
   * queue one). A newer event for the key supersedes it like any deploy.
   */
  private Preview wakeByDeploy(PreviewKey key, String revision, String reason, String why,
      KeyScheduler.SafePoints safePoints) {
    PullRequest pr;
    try {
      pr = pullRequest(key).orElseThrow(() -> new IllegalStateException("the SCM knows no pull request " + key));
      if (!pr.isOpen()) {
        throw new IllegalStateException("the pull request is " + pr.state().name().toLowerCase(java.util.Locale.ROOT)
            + " (only an open pull request gets a preview)");
      }
    } catch (RuntimeException e) {
      String refused = "still asleep: " + why + ", and its PR's head cannot be deployed again to wake it: "
          + redaction.text(String.valueOf(e.getMessage()));
      log.warn("{}: {}", key, refused);
      return Preview.of(key, PreviewState.SLEEPING, revision, refused);
    }
    log.info("{}: {}; deploying the PR's head {} again to wake it ({})", key, why, pr.headSha(), reason);
    revisions.arrived(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pr)); // as redeploy's event does
    return deploys.deploy(new Op.Deploy(pr), safePoints);
  }

  /**
   * Deploys the head of {@code key}'s PR again, as the PR source reports it now (a sleeping preview
   * is started again by the deploy). A PR that is not open is refused.
   *
   * @throws IllegalStateException without a PR source, or when the PR is not open or unknown
   */
  public CompletableFuture<Preview> redeploy(PreviewKey key) {
    PullRequest pr = pullRequest(key).orElseThrow(() -> new IllegalStateException(
        "the SCM knows no pull request " + key + ": nothing to deploy"));
    if (!pr.isOpen()) {
      throw new IllegalStateException(key + " is " + pr.state().name().toLowerCase(java.util.Locale.ROOT)
          + ": only an open pull request gets a preview");
    }
    return handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pr));
  }

  /**
   * {@code key}'s PR as the SCM has it now.
   *
   * @throws IllegalStateException without a PR source ({@code scm} section)
   */
  public Optional<PullRequest> pullRequest(PreviewKey key) {
    if (pullRequests == null) {
      throw new IllegalStateException("no pull request source is configured (the scm section): cannot ask for " + key);
    }
    return pullRequests.find(key);
  }

  /** The app's last {@code lines} lines of output, redacted (no secret of the app or the installation). */
  public List<String> logs(PreviewKey key, int lines) {
    try {
      return redaction.lines(environment.logs(key, lines));
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  /** The newest status this process made for {@code key} (redacted), if it made one since it started. */
  public Optional<dev.preview.spi.PreviewStatus> lastStatus(PreviewKey key) {
    return status.last(key).map(s -> RedactingNotifier.redacted(s, redaction));
  }

  /**
   * Puts {@code answer} (to a PR comment command) into the sticky status of {@code key} as its "last
   * command" line and publishes it again; false without a notifier or without any status to add it to.
   */
  public boolean answer(PreviewKey key, String answer) {
    return status.answer(key, redaction.text(answer), () -> get(key).map(p -> new dev.preview.spi.PreviewStatus(key,
        p.state(), p.revision(), p.state() == PreviewState.READY ? p.url() : null, Map.of(), "", null, List.of(),
        Map.of(), java.time.Instant.EPOCH)).orElse(null));
  }

  /**
   * Every environment the environment provider manages, with all its labels (created, pinned...), as
   * observed; {@link #preview(Environment)} makes each a {@link Preview} like {@link #list()} does.
   */
  public List<Environment> environments() {
    return environment.list().stream().sorted((a, b) -> a.key().compareTo(b.key())).toList();
  }

  /** {@code e} as {@link #list()} reports it (state from its phase, the public URL). */
  public Preview preview(Environment e) {
    return observed(Objects.requireNonNull(e, "environment"));
  }
}
