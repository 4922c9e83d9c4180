package dev.preview.testkit.chaos;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.PreviewListener;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeDnsProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import dev.preview.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One seeded, randomized lifecycle over the testkit fakes: PRs of two repositories are opened,
 * pushed, labelled, closed, merged and reopened, their webhooks delivered on time, late, twice or
 * never; providers fail at random calls; the SCM goes down for a while; orchestrators restart (a new
 * one over {@code reopen()}ed fakes) and, in some runs, two replicas share the infrastructure; the
 * clock moves. Then every fault is healed, the late webhooks arrive, the orchestrators go quiet and
 * reconcile, and the {@link #violations() invariants} are checked:
 *
 * <ul>
 *   <li>nothing is left (environment, database, DNS record) for a closed, merged or excluded PR;
 *   <li>every open admitted PR runs its newest head (READY), or waits for a {@code maxConcurrent}
 *       slot when all are taken (and then the slots are all used);
 *   <li>nothing of an open, admitted PR is deleted while the SCM cannot be asked;
 *   <li>no secret (the app's, a database password) is in any label, DNS record, status, listener
 *       message or log line;
 *   <li>the status each PR shows last equals the observed state (kept apart, in
 *       {@link #statusDivergences()}: it depends on status publishing).
 * </ul>
 *
 * The same seed makes the same choices; thread timing still differs between runs, which is the
 * point: a seed that fails once is re-run many times by its regression test.
 */
final class ChaosRun {
  static final String EXCLUDE = "no-preview";
  static final List<String> REPOSITORIES = List.of("acme/shop", "zeta/app");
  static final List<String> FAULTY = List.of("environment.apply", "environment.find", "environment.list",
      "environment.delete", "environment.logs", "database.create", "database.drop", "database.list", "dns.upsert",
      "dns.delete", "dns.list", "pullRequests.find", "pullRequests.listOpen", "pullRequests.listClosed", "scm.publish");
  private static final Set<String> DELETES = Set.of("environment.delete", "database.drop", "dns.delete");
  /** Provider calls a process can die in (the first to third next one after the crash is armed). */
  static final List<String> CRASH_POINTS = List.of("pullRequests.find", "environment.find", "database.create",
      "environment.apply", "dns.upsert", "environment.rejectRevision", "scm.publish", "environment.delete",
      "dns.delete", "database.drop");

  /** What shapes a run, all from the seed. */
  record Shape(long seed, int steps, int maxConcurrent, boolean twoReplicas) {
    static Shape of(long seed) {
      Random r = new Random(seed);
      int steps = 25 + r.nextInt(30);
      int maxConcurrent = r.nextInt(4) == 0 ? 2 : 0;
      boolean two = r.nextInt(4) == 0;
      return new Shape(seed, steps, maxConcurrent, two);
    }

    int replicas() {
      return twoReplicas ? 2 : 1;
    }
  }

  /** Where the time of the runs went, by kind of step, in nanoseconds (all runs of this JVM). */
  static final Map<String, Long> PROFILE = new ConcurrentHashMap<>();
  /**
   * Whether the crash and health steps run ({@code -Dchaos.widened=false} leaves them out: the suite as
   * it was before them, a baseline to measure their cost against in the same conditions).
   */
  static final boolean WIDENED = !"false".equals(System.getProperty("chaos.widened"));
  /** What the runs of this JVM went through: crashes, readiness gates failed, final FAILED-at-readiness statuses. */
  static final Map<String, Integer> COUNTS = new ConcurrentHashMap<>();
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChaosRun.class);

  private final Shape shape;
  private final Random random;
  /**
   * The choices of the kinds of steps added later (crashes, apps that never get healthy or stop being
   * healthy): their own stream, so the steps drawn from {@link #random} stay what they were for a seed.
   */
  private final Random extra;
  /** Revisions whose app never answers healthy, or stopped answering. */
  private final Set<String> unhealthy = ConcurrentHashMap.newKeySet();
  /** The key of each preview hostname, for the health check. */
  private final Map<String, PreviewKey> hosts = new ConcurrentHashMap<>();
  /** Each replica's process: what cuts it off from the fakes when it crashes. */
  private final List<Process> processes = new ArrayList<>();
  /** Counted down when the run is over: the threads of crashed processes then unwind. */
  private final java.util.concurrent.CountDownLatch over = new java.util.concurrent.CountDownLatch(1);
  private int crashes;
  private int processCount;
  /** Who published what, in order (process, thread, state): printed with a diverged seed's trace. */
  final List<String> publishes = new CopyOnWriteArrayList<>();
  /** The orchestrators whose process crashed (never closed: a dead process does nothing more). */
  private final List<PreviewOrchestrator> crashed = new ArrayList<>();
  private final List<Process> dead = new ArrayList<>();
  private final String appSecret;
  private final Faults faults = new Faults();
  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final FakePullRequestSource scm = new FakePullRequestSource(faults);
  private final FakeScmNotifier notifier = new FakeScmNotifier(faults);
  private FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  private FakeDatabaseProvider db = new FakeDatabaseProvider(faults);
  private FakeDnsProvider dns = new FakeDnsProvider(faults);
  private final List<PreviewOrchestrator> replicas = new ArrayList<>();
  private final List<PullRequestEvent> delivered = new ArrayList<>();
  private final List<PullRequestEvent> late = new ArrayList<>();
  private final List<String> messages = new CopyOnWriteArrayList<>();
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final List<String> statusDivergences = new ArrayList<>();
  private final List<String> trace = new ArrayList<>();
  private volatile boolean scmDown;
  private int shas;

  ChaosRun(long seed) {
    this.shape = Shape.of(seed);
    this.random = new Random(seed * 31 + 7);
    this.extra = new Random(seed * 97 + 13);
    this.appSecret = "tok-" + Long.toHexString(seed) + "-s3cr3t-value";
    secrets.add(appSecret);
    faults.onCall(this::watch);
    env.stopsFailedRevisions(); // a revision that fails its readiness gate is stopped and marked
    AppTemplate app = app();
    for (String repo : REPOSITORIES) {
      for (int n = 1; n <= 3; n++) {
        hosts.put(app.hostname(PreviewKey.pr(repo, n)), PreviewKey.pr(repo, n));
        // an app that prints its secret: a FAILED status shows the last log lines, redacted
        env.setLogs(PreviewKey.pr(repo, n), List.of("starting", "API_TOKEN=" + appSecret, "listening"));
      }
    }
  }

  Shape shape() {
    return shape;
  }

  /** Runs the lifecycle, heals and reconciles; then {@link #check} it. */
  ChaosRun run() throws InterruptedException {
    LOG.info("chaos run {} starts: {}", shape.seed(), shape); // the log check looks for this line
    for (int i = 0; i < shape.replicas(); i++) {
      Process p = new Process();
      processes.add(p);
      replicas.add(orchestrator(p));
    }
    for (int step = 0; step < shape.steps(); step++) {
      long t0 = System.nanoTime();
      int before = trace.size();
      int more = WIDENED ? extra.nextInt(100) : 100;
      if (more < 4) {
        crash();
      } else if (more < 7) {
        sicken();
      }
      if (more < 7) {
        PROFILE.merge(more < 4 ? "crash" : "sicken", System.nanoTime() - t0, Long::sum);
      }
      t0 = System.nanoTime();
      before = trace.size();
      step();
      String what = trace.size() > before ? trace.get(before).split(" ")[0] : "none";
      PROFILE.merge(what, System.nanoTime() - t0, Long::sum);
    }
    long t0 = System.nanoTime();
    heal();
    PROFILE.merge("heal", System.nanoTime() - t0, Long::sum);
    return this;
  }

  /** The run's captured log output (for {@code -Dchaos.log=true}). */
  String log = "";

  private void checkLog(String log) {
    this.log = log;
    if (!log.contains("chaos run " + shape.seed() + " starts")) {
      violations.add("the run's log was not captured: the secrets check of the log would see nothing");
    }
    for (String s : secrets) {
      if (log.contains(s)) {
        violations.add("a secret is in the log: " + excerpt(log, s));
      }
    }
  }

  List<String> violations() {
    return List.copyOf(violations);
  }

  List<String> statusDivergences() {
    return List.copyOf(statusDivergences);
  }

  List<String> trace() {
    return List.copyOf(trace);
  }

  // ---------------------------------------------------------------- the lifecycle

  private AppTemplate app() {
    return AppTemplate.builder().image("registry.example/shop:latest")
        .hostnameTemplate("{name}.preview.example.com")
        .secret("API_TOKEN", Secret.of(appSecret))
        .readinessTimeout(Duration.ofMillis(10)).readinessInterval(Duration.ofMillis(2))
        .build();
  }

  /** Whether the app at {@code url} answers healthy: its revision is not one of {@link #unhealthy}. */
  private boolean healthy(java.net.URI url) {
    PreviewKey key = hosts.get(url.getHost());
    return key == null || env.current(key).map(s -> !unhealthy.contains(s.revision())).orElse(true);
  }

  private PreviewOrchestrator orchestrator(Process p) {
    AppTemplate app = app();
    PreviewPolicy policy = PreviewPolicy.builder().excludeLabels(Set.of(EXCLUDE)).maxConcurrent(shape.maxConcurrent())
        .build();
    return PreviewOrchestrator.builder()
        .environment(p.wrap(dev.preview.spi.EnvironmentProvider.class, "environment", env))
        .database(p.wrap(dev.preview.spi.DatabaseProvider.class, "database", db))
        .dns(p.wrap(dev.preview.spi.DnsProvider.class, "dns", dns))
        .notifier(p.wrap(dev.preview.spi.ScmNotifier.class, "scm", notifier))
        .pullRequests(p.wrap(dev.preview.spi.PullRequestSource.class, "pullRequests", scm))
        .app(app).policy(policy).clock(clock).healthCheck(this::healthy)
        .installation(Installation.builder().dnsTarget("203.0.113.7").build())
        .redeployMissing(true).repositories(REPOSITORIES)
        .scmRetry(3, Duration.ofMillis(2))
        .closeProviders(false)
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            messages.add(key + " " + state + " " + message);
          }

          @Override
          public void onReclaimed(PreviewKey key, String what, String reason) {
            messages.add(key + " reclaimed " + what + " " + reason);
          }
        })
        .build();
  }

  private void step() throws InterruptedException {
    int dice = random.nextInt(100);
    if (dice < 14) {
      open();
    } else if (dice < 34) {
      push();
    } else if (dice < 44) {
      close(random.nextInt(4) == 0);
    } else if (dice < 52) {
      reopen();
    } else if (dice < 60) {
      label();
    } else if (dice < 66) {
      redeliver();
    } else if (dice < 71) {
      deliverLate();
    } else if (dice < 80) {
      String op = FAULTY.get(random.nextInt(FAULTY.size()));
      if (random.nextInt(4) == 0) {
        // latency widens the windows between a decision and the call it leads to
        Duration d = Duration.ofMillis(random.nextInt(4));
        trace.add("fault " + op + " latency " + d.toMillis() + " ms");
        faults.delay(op, d);
      } else {
        int nth = 1 + random.nextInt(3);
        trace.add("fault " + op + " #" + nth);
        faults.failNth(op, nth);
      }
    } else if (dice < 83) {
      outage();
    } else if (dice < 87) {
      restart();
    } else if (dice < 94) {
      trace.add("reconcile");
      reconcile(replica());
    } else {
      Duration d = Duration.ofMinutes(1 + random.nextInt(120));
      trace.add("clock +" + d);
      clock.advance(d);
    }
    collectSecrets();
  }

  private PreviewKey anyKey() {
    return PreviewKey.pr(REPOSITORIES.get(random.nextInt(REPOSITORIES.size())), 1 + random.nextInt(3));
  }

  private String sha() {
    shas++;
    return String.format(Locale.ROOT, "%040x", (shape.seed() & 0xffffffL) << 20 | shas);
  }

  /** A new head commit; one in eight is an app that never answers healthy. */
  private String newHead() {
    String sha = sha();
    if (WIDENED && extra.nextInt(8) == 0) {
      unhealthy.add(sha);
      trace.add("unhealthy " + sha.substring(32) + " (its app never answers healthy)");
    }
    return sha;
  }

  /** A running preview's app stops answering healthy (its revision is unhealthy from now on). */
  private void sicken() {
    List<PreviewKey> running = new ArrayList<>(new TreeSet<>(env.keys()));
    if (running.isEmpty()) {
      return;
    }
    PreviewKey key = running.get(extra.nextInt(running.size()));
    env.current(key).ifPresent(s -> {
      unhealthy.add(s.revision());
      trace.add("sicken " + key + "@" + s.revision().substring(32) + " (its app stops answering healthy)");
    });
  }

  /**
   * A replica dies in the middle of a push's deploy or a close's teardown (or of whatever its process
   * does then): at the
   * first to third next call of a {@link #CRASH_POINTS crash point}, its process is cut off from the
   * fakes for good (every call of it from then on blocks until the run is over, then throws), and a
   * new orchestrator over {@code reopen()}ed fakes takes its place, knowing nothing.
   */
  private void crash() throws InterruptedException {
    List<PullRequest> open = scm.all().stream().filter(PullRequest::isOpen).toList();
    if (open.isEmpty()) {
      return;
    }
    int i = extra.nextInt(replicas.size());
    String at = CRASH_POINTS.get(extra.nextInt(CRASH_POINTS.size()));
    int nth = 1 + extra.nextInt(3);
    PullRequest pr = open.get(extra.nextInt(open.size()));
    Process p = processes.get(i);
    PreviewOrchestrator o = replicas.get(i);
    boolean close = extra.nextInt(3) == 0; // a teardown can be cut short too
    trace.add("crash replica " + i + " at its call #" + nth + " of " + at + " from now, in a " + (close ? "close" : "push")
        + " of " + pr.key());
    p.arm(at, nth);
    PullRequestEvent event;
    if (close) {
      scm.close(pr.key());
      event = PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pr.withState(PullRequest.State.CLOSED));
    } else {
      PullRequest pushed = pr.withHeadSha(newHead());
      scm.put(pushed);
      event = PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pushed);
    }
    delivered.add(event);
    trace.add("deliver " + describe(event) + " to replica " + i);
    o.handle(event);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!p.dead.await(5, java.util.concurrent.TimeUnit.MILLISECONDS)) {
      if (o.awaitQuiescence(Duration.ofMillis(5)) && p.disarm()) {
        trace.add("crash not reached: the work ended before it");
        return;
      }
      if (System.nanoTime() > deadline) {
        violations.add("replica " + i + " neither crashed nor went quiet within 30 s");
        return;
      }
    }
    crashes++;
    crashed.add(o);
    dead.add(p);
    COUNTS.merge("crashes", 1, Integer::sum);
    trace.add("crashed replica " + i + " (" + p.where + "); a new one starts");
    env = env.reopen();
    db = db.reopen();
    dns = dns.reopen();
    Process fresh = new Process();
    processes.set(i, fresh);
    replicas.set(i, orchestrator(fresh));
  }

  /** How many replicas crashed in this run. */
  int crashes() {
    return crashes;
  }

  /**
   * One orchestrator's process: its view of the shared fakes, through proxies that a crash cuts: from
   * the armed call on, every call of this process blocks until the run is over and then throws, so
   * nothing it does after its death reaches the infrastructure or the SCM (as a killed JVM).
   */
  final class Process {
    final int id = processCount++;
    /** Calls of this process that went in before it died and have not returned yet. */
    final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger countdown = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String armedAt;
    private volatile boolean cut;
    final java.util.concurrent.CountDownLatch dead = new java.util.concurrent.CountDownLatch(1);
    volatile String where;

    void arm(String operation, int nth) {
      countdown.set(nth);
      armedAt = operation;
    }

    /** Disarms; false if it died meanwhile. */
    synchronized boolean disarm() {
      armedAt = null;
      return !cut;
    }

    private synchronized boolean hit(String operation) {
      if (cut) {
        return true;
      }
      if (operation.equals(armedAt) && countdown.decrementAndGet() == 0) {
        cut = true;
        where = "in " + operation + " on " + Thread.currentThread().getName();
        dead.countDown();
        return true;
      }
      return false;
    }

    <T> T wrap(Class<T> type, String prefix, T target) {
      return type.cast(java.lang.reflect.Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
          (proxy, method, args) -> {
            if (method.getDeclaringClass() != Object.class && hit(prefix + "." + method.getName())) {
              try {
                over.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              throw new IllegalStateException("this process crashed (chaos)");
            }
            if (method.getName().equals("publish") && args != null && args[0] instanceof PreviewStatus st) {
              publishes.add(st.key() + " " + st.state() + " by process " + id + " on " + Thread.currentThread().getName()
                  + " (" + st.message().substring(0, Math.min(40, st.message().length())) + ")");
            }
            inFlight.incrementAndGet();
            try {
              return method.invoke(target, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
              throw e.getCause();
            } finally {
              inFlight.decrementAndGet();
            }
          }));
    }
  }

  private Optional<PullRequest> pr(PreviewKey key) {
    return scm.all().stream().filter(p -> p.key().equals(key)).findFirst();
  }

  private Optional<PullRequest> anyWith(boolean open) {
    List<PullRequest> matching = scm.all().stream().filter(p -> p.isOpen() == open).toList();
    return matching.isEmpty() ? Optional.empty() : Optional.of(matching.get(random.nextInt(matching.size())));
  }

  private void open() {
    PreviewKey key = anyKey();
    if (pr(key).isPresent()) {
      push();
      return;
    }
    PullRequest pr = PullRequest.open(key, newHead(), "feature-" + key.number(), "main");
    scm.put(pr);
    deliver(PullRequestEvent.Action.OPENED, pr);
  }

  private void push() {
    anyWith(true).ifPresent(pr -> {
      PullRequest pushed = pr.withHeadSha(newHead());
      scm.put(pushed);
      deliver(PullRequestEvent.Action.UPDATED, pushed);
    });
  }

  private void close(boolean merge) {
    anyWith(true).ifPresent(pr -> {
      if (merge) {
        scm.merge(pr.key());
      } else {
        scm.close(pr.key());
      }
      deliver(merge ? PullRequestEvent.Action.MERGED : PullRequestEvent.Action.CLOSED, pr);
    });
  }

  private void reopen() {
    anyWith(false).filter(pr -> pr.state() == PullRequest.State.CLOSED).ifPresent(pr -> {
      PullRequest reopened = pr.withState(PullRequest.State.OPEN);
      if (random.nextBoolean()) {
        // the webhook comes before the SCM's API shows the PR open
        deliver(PullRequestEvent.Action.REOPENED, reopened);
        scm.put(reopened);
      } else {
        scm.put(reopened);
        deliver(PullRequestEvent.Action.REOPENED, reopened);
      }
    });
  }

  private void label() {
    anyWith(true).ifPresent(pr -> {
      boolean has = pr.labels().contains(EXCLUDE);
      Set<String> labels = new TreeSet<>(pr.labels());
      if (has) {
        labels.remove(EXCLUDE);
      } else {
        labels.add(EXCLUDE);
      }
      PullRequest changed = pr.withLabels(labels);
      scm.put(changed);
      deliver(has ? PullRequestEvent.Action.UNLABELED : PullRequestEvent.Action.LABELED, changed);
    });
  }

  /** Delivers an event now, late, twice or never. */
  private void deliver(PullRequestEvent.Action action, PullRequest pr) {
    PullRequestEvent event = PullRequestEvent.of(action, pr);
    int how = random.nextInt(10);
    if (how == 0) {
      trace.add("lost " + describe(event));
    } else if (how == 1) {
      trace.add("held " + describe(event));
      late.add(event);
    } else {
      send(event);
      if (how == 2) {
        send(event);
      }
    }
  }

  private void send(PullRequestEvent event) {
    trace.add("deliver " + describe(event));
    delivered.add(event);
    replica().handle(event);
  }

  private void redeliver() {
    if (!delivered.isEmpty()) {
      PullRequestEvent e = delivered.get(random.nextInt(delivered.size()));
      trace.add("redeliver " + describe(e));
      replica().handle(e);
    }
  }

  private void deliverLate() {
    if (!late.isEmpty()) {
      send(late.remove(random.nextInt(late.size())));
    }
  }

  private void reconcile(PreviewOrchestrator o) {
    try {
      o.reconcile(false);
    } catch (RuntimeException e) {
      trace.add("reconcile failed: " + e.getMessage()); // it cannot list the environments: nothing done
    }
  }

  private PreviewOrchestrator replica() {
    return replicas.get(random.nextInt(replicas.size()));
  }

  /**
   * The SCM cannot be asked for a while: once the work in flight is done (so every decision in the
   * window is made without the SCM), stale webhooks are redelivered and reconcile runs; nothing of
   * an open PR may be deleted meanwhile.
   */
  private void outage() throws InterruptedException {
    quiesce();
    trace.add("scm down");
    faults.failAlways("pullRequests.find").failAlways("pullRequests.listOpen");
    scmDown = true;
    for (int i = 0; i < 3; i++) {
      if (random.nextBoolean()) {
        redeliver();
      } else {
        trace.add("reconcile (scm down)");
        reconcile(replica());
      }
    }
    quiesce();
    scmDown = false;
    faults.heal("pullRequests.find").heal("pullRequests.listOpen");
    trace.add("scm up");
  }

  private void restart() {
    int i = random.nextInt(replicas.size());
    trace.add("restart replica " + i);
    replicas.get(i).close();
    env = env.reopen();
    db = db.reopen();
    dns = dns.reopen();
    Process fresh = new Process();
    processes.set(i, fresh);
    replicas.set(i, orchestrator(fresh));
  }

  private void quiesce() throws InterruptedException {
    for (int round = 0; round < 2; round++) { // one replica's work can start the other's (a freed slot)
      for (PreviewOrchestrator o : replicas) {
        if (!o.awaitQuiescence(Duration.ofSeconds(30))) {
          violations.add("no quiescence within 30 s");
          return;
        }
      }
    }
  }

  /** Heals every fault, delivers the late webhooks, waits for quiet and reconciles (twice: the first may start work). */
  private void heal() throws InterruptedException {
    // what a dead process sent just before it died has landed by now (a request in flight takes a
    // bounded time): the final reconciles see it. Earlier in the run such a call may land late, after
    // a reconcile of the others, and the next reconcile must correct it.
    for (Process p : dead) {
      org.awaitility.Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
          .atMost(Duration.ofSeconds(10)).until(() -> p.inFlight.get() == 0);
    }
    faults.clear();
    scmDown = false;
    trace.add("healed");
    while (!late.isEmpty()) {
      send(late.remove(0));
    }
    quiesce();
    for (int i = 0; i < 3; i++) {
      // every replica reconciles, as each one's periodic reconcile would: a replica corrects the
      // statuses it made itself (a second one does not know them before a restart)
      for (PreviewOrchestrator o : replicas) {
        trace.add("final reconcile");
        reconcile(o);
        quiesce();
      }
    }
  }

  // ---------------------------------------------------------------- the invariants

  private void watch(String operation, Object key) {
    if (scmDown && DELETES.contains(operation) && key instanceof PreviewKey k) {
      pr(k).filter(p -> p.isOpen() && !p.labels().contains(EXCLUDE))
          .ifPresent(p -> violations.add(operation + " for " + k + " while the SCM was down, though its PR is open"));
    }
  }

  private void collectSecrets() {
    for (PreviewKey k : db.keys()) {
      db.connection(k).ifPresent(c -> {
        if (c.password() != null) {
          secrets.add(c.password().reveal());
        }
      });
    }
  }

  /** Checks the invariants on what is left, and that {@code capturedLog} (the run's log output) holds no secret. */
  ChaosRun check(String capturedLog) {
    collectSecrets();
    Map<PreviewKey, PullRequest> truth = new TreeMap<>();
    scm.all().forEach(p -> truth.put(p.key(), p));
    Set<PreviewKey> queued = new HashSet<>();
    replicas.forEach(o -> queued.addAll(o.queued()));
    Set<PreviewKey> keys = new TreeSet<>(truth.keySet());
    keys.addAll(env.keys());
    keys.addAll(db.keys());
    dns.records().forEach(r -> keys.add(r.owner()));

    int wanted = 0;
    int running = 0;
    for (PreviewKey key : keys) {
      PullRequest pr = truth.get(key);
      boolean admitted = pr != null && pr.isOpen() && !pr.labels().contains(EXCLUDE);
      Optional<Environment> e = env.list().stream().filter(x -> x.key().equals(key)).findFirst();
      boolean hasDb = db.keys().contains(key);
      List<DnsRecord> records = dns.records(key);
      if (!admitted) {
        if (e.isPresent() || hasDb || !records.isEmpty()) {
          violations.add(key + " is " + (pr == null ? "unknown" : pr.isOpen() ? "excluded" : pr.state())
              + " but left: " + (e.isPresent() ? "environment " : "") + (hasDb ? "database " : "") + records);
        }
        continue;
      }
      wanted++;
      if (e.isEmpty()) {
        if (!(shape.maxConcurrent() > 0 && queued.contains(key))) {
          violations.add(key + " is open and admitted but has no environment" + (shape.maxConcurrent() > 0
              ? " and is not queued (queue " + queued + ")" : ""));
        }
        continue;
      }
      running++;
      Environment x = e.get();
      if (!x.revision().equals(pr.headSha())) {
        violations.add(key + " runs " + x.revision() + " but its PR's head is " + pr.headSha());
      }
      if (x.phase() != Environment.Phase.RUNNING && !(stoppedByItsGate(x) && unhealthy.contains(x.revision()))) {
        violations.add(key + " is " + x.phase() + ", not RUNNING" + (unhealthy.contains(x.revision())
            ? " (its app is unhealthy, but its readiness gate did not stop it)" : ""));
      }
      if (!hasDb) {
        violations.add(key + " runs without its database");
      }
      if (records.isEmpty()) {
        violations.add(key + " runs without its DNS record");
      }
    }
    if (shape.maxConcurrent() > 0 && running < Math.min(wanted, shape.maxConcurrent())) {
      violations.add("only " + running + " of " + Math.min(wanted, shape.maxConcurrent())
          + " maxConcurrent slots are used while PRs are queued: " + queued);
    }
    if (shape.maxConcurrent() > 0 && running > shape.maxConcurrent() && shape.replicas() == 1) {
      violations.add(running + " environments run, above maxConcurrent " + shape.maxConcurrent());
    }
    // a revision that failed its readiness gate is never READY in list, whichever replica asks
    // (the revision its environment runs is the one its gate stopped: nothing applied it again since)
    COUNTS.merge("gates failed", env.rejected().size(), Integer::sum);
    Map<PreviewKey, Environment> listed = new TreeMap<>();
    env.list().forEach(x -> listed.put(x.key(), x));
    for (PreviewOrchestrator o : replicas) {
      for (dev.preview.core.Preview p : o.list()) {
        Environment x = listed.get(p.key());
        if (p.state() == PreviewState.READY && x != null && p.revision() != null
            && p.revision().equals(x.labels().get(dev.preview.spi.Labels.FAILED_REVISION))) {
          violations.add("list says " + p.key() + " is READY at " + p.revision() + ", which failed its readiness gate");
        }
      }
    }
    checkSecrets(capturedLog);
    checkStatuses(truth, queued);
    return this;
  }

  /** Whether {@code e} is its revision stopped by a failed readiness gate (the fake's rejectRevision). */
  private static boolean stoppedByItsGate(Environment e) {
    return e.phase() == Environment.Phase.FAILED && e.revision() != null
        && e.revision().equals(e.labels().get(dev.preview.spi.Labels.FAILED_REVISION));
  }

  private void checkSecrets(String capturedLog) {
    List<String> places = new ArrayList<>();
    for (EnvironmentSpec s : env.applied()) {
      places.add("labels of " + s.key() + ": " + s.labels());
      places.add("env of " + s.key() + ": " + s.env());
    }
    for (Environment e : env.list()) {
      places.add("labels of " + e.key() + ": " + e.labels());
    }
    for (DnsRecord r : dns.records()) {
      places.add("DNS " + r);
    }
    for (PreviewStatus s : notifier.all()) {
      places.add("status of " + s.key() + ": " + s.state() + " " + s.message() + " " + s.failedStep() + " " + s.logTail()
          + " " + s.url() + " " + s.database());
    }
    messages.forEach(m -> places.add("listener: " + m));
    for (String place : places) {
      for (String secret : secrets) {
        if (place.contains(secret)) {
          violations.add("a secret is in the " + excerpt(place, secret));
        }
      }
    }
    checkLog(capturedLog);
  }

  private void checkStatuses(Map<PreviewKey, PullRequest> truth, Set<PreviewKey> queued) {
    Set<PreviewKey> keys = new LinkedHashSet<>(truth.keySet());
    for (PreviewKey key : keys) {
      Optional<PreviewStatus> last = notifier.latest(key);
      Optional<Environment> e = env.list().stream().filter(x -> x.key().equals(key)).findFirst();
      // an app that does not answer healthy (it failed its gate and was stopped, or stopped answering later)
      boolean failing = e.isPresent() && (unhealthy.contains(e.get().revision()) || stoppedByItsGate(e.get()));
      if (failing) {
        COUNTS.merge("PRs ending FAILED at readiness", 1, Integer::sum);
      }
      PreviewState expected = failing ? PreviewState.FAILED
          : e.isPresent() ? PreviewState.READY : queued.contains(key) ? PreviewState.PENDING : null;
      List<PreviewStatus> history = notifier.history(key);
      String recent = history.subList(Math.max(0, history.size() - 4), history.size()).stream()
          .map(s -> s.state() + (s.revision() == null ? "" : "@" + s.revision().substring(32))).toList().toString();
      if (expected == null) {
        if (last.isPresent() && last.get().state() != PreviewState.DELETED) {
          statusDivergences.add(key + " has nothing but its PR shows " + last.get().state() + " (" + last.get().message()
              + "); last statuses " + recent);
        }
      } else if (last.isEmpty() || last.get().state() != expected
          || (e.isPresent() && !e.get().revision().equals(last.get().revision()))
          || (failing && (!"readiness".equals(last.get().failedStep()) || last.get().message().isBlank()))) {
        statusDivergences.add(key + " is " + expected + (e.isPresent() ? " at " + e.get().revision() : "") + " but its PR shows "
            + last.map(s -> s.state() + " at " + s.revision() + (s.failedStep() == null ? "" : " step " + s.failedStep())
                + " (" + s.message() + ")").orElse("nothing")
            + "; last statuses " + recent);
      }
    }
  }

  void close() throws InterruptedException {
    replicas.forEach(PreviewOrchestrator::close);
    over.countDown(); // the threads of crashed processes unwind (every call of theirs throws now)
    for (PreviewOrchestrator o : crashed) {
      o.awaitQuiescence(Duration.ofSeconds(5)); // so what they log is in this run's captured log
    }
  }

  private static String describe(PullRequestEvent e) {
    return e.action().name().toLowerCase(Locale.ROOT) + " " + e.key() + "@" + e.headSha().substring(32)
        + (e.labels().isEmpty() ? "" : " " + e.labels());
  }

  private static String excerpt(String text, String secret) {
    int i = text.indexOf(secret);
    int from = Math.max(0, i - 80);
    return text.substring(from, Math.min(text.length(), i + secret.length() + 20)).replace(secret, "<SECRET>");
  }
}
