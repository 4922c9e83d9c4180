package dev.preview.core;

import dev.preview.core.policy.Admission;
import dev.preview.core.policy.PreviewPolicy;
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
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.spi.SourceFetcher;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standard deploy steps, in order: guard (never an older head than the PR's, see
 * {@link RevisionGuard}), policy, build (from source), wait (for the image CI builds, if configured;
 * see {@link WaitForImageStep}), database, environment, dns, readiness (see {@link ReadinessGate}). Each
 * step reads what the earlier ones left in the {@link DeployRun} and adds its own.
 *
 * <p>Immutable: the steps hold the providers and settings, a run's state lives in its {@link DeployRun}.
 */
final class DeploySteps {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);
  private static final int LOG_TAIL = 20;
  /** How often a running {@code app.build} looks for a newer event that makes it useless. */
  private static final long SUPERSEDE_POLL_MILLIS = 100;

  /** The providers and settings the steps use; {@code database}, {@code dns}, {@code pullRequests} may be null. */
  record Context(EnvironmentProvider environment, DatabaseProvider database, DnsProvider dns,
      PullRequestSource pullRequests, AppTemplate app, PreviewPolicy policy, Clock clock, HealthCheck healthCheck,
      String instance, String databaseBaseline, String dnsTarget, int dnsTtl, BuildSettings build,
      SourceFetcher sources, Workspaces workspaces) {}

  private final Context c;
  private final Slots slots;
  private final TeardownPipeline teardown;
  private final StatusPublisher status;
  private final Listeners listeners;
  private final RevisionGuard revisions;
  private final BuildWaits waits;
  private final KeyScheduler scheduler;
  private final ScmRetry scmRetry;

  DeploySteps(Context context, RevisionGuard revisions, Slots slots, TeardownPipeline teardown, StatusPublisher status,
      Listeners listeners, BuildWaits waits, KeyScheduler scheduler, ScmRetry scmRetry) {
    this.c = context;
    this.scheduler = scheduler;
    this.scmRetry = scmRetry;
    this.revisions = revisions;
    this.waits = waits;
    this.slots = slots;
    this.teardown = teardown;
    this.status = status;
    this.listeners = listeners;
  }

  /** The steps of a deploy, in order. */
  List<DeployStep> standard() {
    return List.of(new GuardStep(), new PolicyStep(), new BuildStep(),
        new WaitForImageStep(c.build(), waits, c.app(), c.environment(), status, listeners), new DatabaseStep(),
        new EnvironmentStep(), new DnsStep(), new FenceStep(), new ReadinessGate(c.environment(), c.app(), c.healthCheck()));
  }

  /** Admission under the policy (taking a maxConcurrent slot); a skip tears down, a queue waits. */
  private final class PolicyStep implements DeployStep {
    @Override public String name() { return "policy"; }

    @Override
    public void run(DeployRun run) {
      run.admission = slots.admit(run.pr);
    }

    @Override
    public void then(DeployRun run) {
      PreviewKey key = run.key;
      Admission admission = run.admission;
      // The existence check asks providers too: its failures are reported like the policy step's.
      boolean exists = admission.decision() == Admission.Decision.SKIP
          && (c.environment().find(key).isPresent() || (c.database() != null && c.database().list().contains(key)));
      switch (admission.decision()) {
        case SKIP: {
          slots.dequeue(key);
          if (exists && run.scmUnknown) {
            // Judged on the event alone (a late or stale delivery can carry old labels): an SCM
            // error is "unknown", and nothing is deleted on it. Reconcile removes it once the SCM answers.
            String reason = admission.reason() + "; not removed while the SCM cannot confirm it (reconcile will)";
            log.info("{}: {}", key, reason);
            run.finish(Preview.of(key, PreviewState.PENDING, run.revision, reason));
            return;
          }
          if (exists) {
            Preview p = teardown.teardown(key, admission.reason());
            run.finish(new Preview(key, p.state(), run.revision, null, null, admission.reason(), null, p.timings(),
                null, null));
            return;
          }
          log.info("{}: no preview: {}", key, admission.reason());
          run.finish(new Preview(key, PreviewState.DELETED, run.revision, null, null, admission.reason(), null,
              run.timings, null, null));
          return;
        }
        case QUEUE: {
          int position = slots.queue(run.pr);
          String reason = admission.reason() + " (position " + position + " in the queue)";
          listeners.transition(key, PreviewState.PENDING, reason);
          status.publish(key, PreviewState.PENDING, run.revision, null, reason, null, List.of(), run.timings);
          run.finish(new Preview(key, PreviewState.PENDING, run.revision, null, null, reason, null,
              run.timings, null, null));
          return;
        }
        default:
          slots.dequeue(key);
      }
      listeners.transition(key, PreviewState.PROVISIONING, run.revision);
      status.publish(key, PreviewState.PROVISIONING, run.revision, null, admission.reason(), null, List.of(),
          run.timings);
    }
  }

  /**
   * Deploy guard: a close that raced with this deploy must not leave an orphan behind, and a late or
   * out-of-order event must not roll the preview back: the run goes on with the PR at its newest
   * head ({@link RevisionGuard}). First, so that the policy judges the PR that is deployed.
   */
  private final class GuardStep implements DeployStep {
    @Override public String name() { return "guard"; }

    @Override
    public void run(DeployRun run) {
      RevisionGuard.Verdict verdict = revisions.check(run.pr);
      run.current = verdict.current();
      run.scmUnknown = verdict.scmUnknown();
      run.deploy(verdict.deploy());
    }

    @Override
    public void then(DeployRun run) {
      Optional<PullRequest> current = run.current;
      if (current.isPresent() && !current.get().isOpen()) {
        Op.Deploy op = run.op;
        if (op.expectsOpen() && op.attempt() < scmRetry.attempts()) {
          // An opened/reopened webhook can come before the SCM's API shows the PR open: ask again
          // shortly (on the scheduler; a newer event for the PR makes the retry moot).
          java.time.Duration delay = scmRetry.delay(op.attempt());
          String reason = "the SCM does not show the PR open yet; asking again in " + delay.toMillis() + " ms (retry "
              + (op.attempt() + 1) + " of " + scmRetry.attempts() + ")";
          log.info("{}: {}", run.key, reason);
          scheduler.submitLater(run.key, op.retry(), delay, scheduler.stamp());
          run.finish(Preview.of(run.key, PreviewState.PENDING, run.revision, reason));
          return;
        }
        String reason = "the PR was " + current.get().state().name().toLowerCase(Locale.ROOT) + " meanwhile";
        log.info("{}: not deploying {}: {}", run.key, run.revision, reason);
        run.finish(teardown.teardown(run.key, reason));
      }
    }
  }

  /**
   * {@code build.from: source}: fetches the PR's head SHA into the preview's workspace, then runs
   * {@code app.build} there (if set); the later steps build from, and run in, that checkout. The
   * build gets no secret at all, whoever wrote the PR: only the app's plain env and the preview's
   * key, revision and branch. A fork the policy denies never gets here (the policy step ends the run).
   */
  private final class BuildStep implements DeployStep {
    @Override public String name() { return "build"; }

    @Override
    public boolean appliesTo(DeployRun run) {
      return c.build().from() == BuildSettings.From.SOURCE;
    }

    @Override
    public void prepare(DeployRun run) {
      listeners.transition(run.key, PreviewState.BUILDING, run.revision);
      status.publish(run.key, PreviewState.BUILDING, run.revision, null, "building " + run.revision + " from source",
          null, List.of(), run.timings);
    }

    @Override
    public void run(DeployRun run) {
      Workspaces ws = c.workspaces();
      List<String> command = c.app().build();
      if (ws.builtAt(run.key, run.revision, command)) {
        // an event that changes no code (a label, a retarget, a redeploy): the checkout is as it was built
        log.info("{}: {} is already fetched and built in {}; not building it again", run.key, run.revision,
            ws.of(run.key));
        run.workspace = ws.of(run.key);
        buildImage(run);
        return;
      }
      ws.clearBuilt(run.key);
      Path workspace = c.sources().fetch(run.key, run.revision, ws.prepare(run.key));
      run.safePoints().check(); // a newer push came in during the fetch: build that one instead
      if (!command.isEmpty()) {
        build(run, workspace);
      }
      ws.markBuilt(run.key, run.revision, command);
      run.workspace = workspace;
      buildImage(run);
    }

    /**
     * The provider's image build from the checkout (Docker), here rather than in the environment
     * step's {@code apply}: its failure is the build's, with its last lines, and a newer push stops it.
     * {@code apply} then finds the image of the revision built and runs it.
     */
    private void buildImage(DeployRun run) {
      if (c.app().image() != null) {
        return; // the app runs an image (CI's); the checkout is for migrations and the change summary
      }
      labels(run);
      EnvironmentSpec.Builder b = c.app().specBuilder(run.key, run.pr.headSha(), run.pr.headRef())
          .buildContext(run.workspace).labels(run.labels);
      if (!run.admission.secretsAllowed()) {
        b.withholdSecrets(); // a fork's Dockerfile gets none of the provider's build args or credentials
      }
      c.environment().buildImage(b.build(), run.safePoints()::check)
          .ifPresent(image -> log.info("{}: built image {} of {}", run.key, image, run.revision));
    }

    private void build(DeployRun run, Path workspace) {
      AppTemplate app = c.app();
      Path logFile = c.workspaces().buildLog(run.key);
      List<String> argv = c.environment().buildCommand(run.key, workspace, app.build());
      if (argv.equals(app.build()) && LocalEnvironmentProvider.currentUid() == 0) {
        if (run.pr.fromFork()) {
          throw new IllegalStateException("app.build would run a fork PR's code as root on this host: run the server"
              + " as an unprivileged user, or with environment.user (local provider) so the build runs as the"
              + " preview's own uid, or build in CI (build.waitFor) instead of build.from: source");
        }
        log.warn("{}: app.build runs the PR's code as root on this host; run the server as an unprivileged user"
            + " (or set environment.user with the local provider)", run.key);
      }
      ProcessBuilder pb = new ProcessBuilder(argv).directory(workspace.toFile());
      Map<String, String> env = pb.environment();
      env.keySet().retainAll(LocalEnvironmentProvider.DEFAULT_INHERITED_ENV);
      env.putAll(app.env());
      env.put("PREVIEW_KEY", run.key.id());
      env.put("PREVIEW_REVISION", run.revision);
      env.put("PREVIEW_BRANCH", run.pr.headRef());
      pb.redirectErrorStream(true).redirectOutput(logFile.toFile()).redirectInput(ProcessBuilder.Redirect.from(nullFile()));
      String what = "app.build " + String.join(" ", app.build());
      Process p;
      try {
        p = pb.start();
      } catch (IOException e) {
        throw new IllegalStateException(what + " could not be started in " + workspace + " (" + e.getMessage()
            + "); the program must exist and be on the PATH");
      }
      boolean done = false;
      long deadline = System.nanoTime() + app.buildTimeout().toNanos();
      try {
        while (!done) {
          long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
          if (remaining <= 0) {
            break;
          }
          done = p.waitFor(Math.min(remaining, SUPERSEDE_POLL_MILLIS), TimeUnit.MILLISECONDS);
          if (!done) {
            run.safePoints().check(); // a newer push: this build is of no use any more
          }
        }
      } catch (InterruptedException e) {
        kill(p);
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running " + what);
      } catch (KeyScheduler.Superseded e) {
        log.info("{}: stopping app.build at {}: a newer event came in", run.key, run.revision);
        kill(p);
        throw e;
      }
      if (!done) {
        kill(p);
        run.failureLog = c.workspaces().buildLogTail(run.key, LOG_TAIL);
        throw new IllegalStateException(what + " did not finish within app.buildTimeout ("
            + app.buildTimeout().toSeconds() + " s); it was stopped");
      }
      if (p.exitValue() != 0) {
        run.failureLog = c.workspaces().buildLogTail(run.key, LOG_TAIL);
        throw new IllegalStateException(what + " failed with exit code " + p.exitValue() + " at " + run.revision
            + (run.failureLog.isEmpty() ? "; it printed nothing" : "; the last lines of its output are below"));
      }
      log.info("{}: built {} in {}", run.key, run.revision, workspace);
    }

    private void kill(Process p) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  private static java.io.File nullFile() {
    return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
  }

  /** The PR's checkout with {@code build.from: source}, else {@code app.buildContext}. */
  private Path buildContext(DeployRun run) {
    return run.workspace != null ? run.workspace : c.app().buildContext();
  }

  private final class DatabaseStep implements DeployStep {
    @Override public String name() { return "database"; }

    @Override
    public boolean appliesTo(DeployRun run) {
      return c.database() != null;
    }

    @Override
    public void prepare(DeployRun run) {
      labels(run);
    }

    @Override
    public void run(DeployRun run) {
      run.database = c.database().create(run.key, new DatabaseSpec(c.databaseBaseline(), run.labels, buildContext(run),
          run.pr.fromFork()));
    }

    @Override
    public void then(DeployRun run) {
      listeners.redaction().learn(run.database.secretEnv());
      if (run.database.password() != null) {
        listeners.redaction().learn(Map.of("DATABASE_PASSWORD", run.database.password()));
      }
      run.databaseName = run.database.name();
    }
  }

  private final class EnvironmentStep implements DeployStep {
    @Override public String name() { return "environment"; }

    @Override
    public void prepare(DeployRun run) {
      labels(run);
      run.spec = spec(run);
    }

    @Override
    public void run(DeployRun run) {
      run.environment = c.environment().apply(run.spec);
    }
  }

  private final class DnsStep implements DeployStep {
    @Override public String name() { return "dns"; }

    @Override
    public boolean appliesTo(DeployRun run) {
      return c.dns() != null && run.spec.hostname() != null;
    }

    @Override
    public void run(DeployRun run) {
      c.dns().upsert(dnsRecord(run.key, run.spec.hostname(), run.environment));
    }
  }

  /**
   * After the environment and DNS are applied, asks the SCM again, so that a second replica (or a
   * close or push that came in during the deploy) never leaves the wrong thing running: a PR closed
   * meanwhile is torn down now; a PR whose head moved on to a commit this run is not deploying (and
   * that this process did not see before this run's) is deployed next, in place of this run, so an
   * older push applied after a newer one is replaced at once. An SCM that cannot answer changes nothing.
   */
  private final class FenceStep implements DeployStep {
    @Override public String name() { return "fence"; }

    @Override
    public boolean appliesTo(DeployRun run) {
      return c.pullRequests() != null;
    }

    @Override
    public void run(DeployRun run) {
      Optional<PullRequest> now;
      try {
        now = c.pullRequests().find(run.key);
      } catch (RuntimeException e) {
        log.info("{}: could not re-check the PR after applying {} ({}); going on", run.key, run.revision, e.toString());
        return;
      }
      if (now.isEmpty() || !now.get().isOpen()) {
        String reason = "the PR was " + (now.isEmpty() ? "deleted" : now.get().state().name().toLowerCase(Locale.ROOT))
            + " while it was deployed";
        log.info("{}: {}; removing what this run created", run.key, reason);
        run.finish(teardown.teardown(run.key, reason));
        return;
      }
      PullRequest scm = now.get();
      if (!RevisionGuard.same(scm.headSha(), run.revision) && !revisions.olderThan(run.key, scm.headSha(), run.revision)) {
        log.info("{}: the PR's head moved to {} while {} was deployed; deploying {} next", run.key, scm.headSha(),
            run.revision, scm.headSha());
        scheduler.submit(run.key, new Op.Deploy(scm));
        run.safePoints().check(); // gives way to it now
      }
    }
  }

  /** Ownership, lifecycle and instance labels for every resource of this deploy, computed once per run. */
  private void labels(DeployRun run) {
    if (run.labels != null) {
      return;
    }
    Instant now = c.clock().instant();
    Optional<Environment> existing = c.environment().find(run.key);
    Map<String, String> labels = new LinkedHashMap<>(Labels.ownership(run.key, run.revision));
    labels.putAll(c.policy().lifecycleLabels(existing, run.pr, now));
    if (c.instance() != null) {
      labels.put(Labels.INSTANCE, c.instance());
    }
    run.now = now;
    run.labels = labels;
  }

  private EnvironmentSpec spec(DeployRun run) {
    PullRequest pr = run.pr;
    PreviewKey key = pr.key();
    AppTemplate app = c.app();
    EnvironmentSpec.Builder b = app.specBuilder(key, pr.headSha(), pr.headRef());
    if (!run.admission.secretsAllowed()) {
      b.withholdSecrets(); // the app's, and the provider's own (companions') too
    }
    if (run.workspace != null) {
      b.buildContext(run.workspace);
    }
    b.fromFork(pr.fromFork());
    Map<String, Boolean> flags = c.policy().flags(pr);
    b.flags(flags);
    b.env(PreviewPolicy.flagEnv(flags));
    URI publicUrl = app.publicUrl(key);
    if (publicUrl != null) {
      b.env("PREVIEW_URL", publicUrl.toString());
    }
    b.env("PREVIEW_KEY", key.id());
    b.env("PREVIEW_REVISION", pr.headSha());
    b.env("PREVIEW_BRANCH", pr.headRef());
    Set<String> secretNames = new TreeSet<>(run.admission.secretsAllowed() ? app.secrets().keySet() : Set.of());
    if (run.database != null) {
      b.env(run.database.env());
      b.secrets(run.database.secretEnv());
      secretNames.addAll(run.database.secretEnv().keySet());
    }
    if (!secretNames.isEmpty()) {
      b.env("PREVIEW_SECRET_NAMES", String.join(",", secretNames));
    }
    EnvironmentSpec built = b.labels(run.labels).build();
    run.changes = ChangeSummary.of(flags, c.policy().configuredFlags(),
        run.admission.secretsAllowed() ? Set.of() : app.secrets().keySet(),
        app.image() != null && app.image().contains("{") ? built.image() : null,
        app.buildContext(), run.workspace, c.build().migrations().orElse(null), app);
    return built;
  }

  private DnsRecord dnsRecord(PreviewKey key, String hostname, Environment env) {
    String target = c.dnsTarget();
    if (target == null) {
      if (env.url() == null || env.url().getHost() == null) {
        throw new IllegalStateException("the environment has no address to point " + hostname
            + " at; set dns.target to the ingress address or name");
      }
      target = env.url().getHost();
    }
    DnsRecord.Type type = target.matches("\\d{1,3}(\\.\\d{1,3}){3}") ? DnsRecord.Type.A
        : target.contains(":") ? DnsRecord.Type.AAAA : DnsRecord.Type.CNAME;
    return new DnsRecord(hostname, type, target, c.dnsTtl(), key);
  }
}
