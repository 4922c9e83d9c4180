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
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChaosRun.class);

  private final Shape shape;
  private final Random random;
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
    this.appSecret = "tok-" + Long.toHexString(seed) + "-s3cr3t-value";
    secrets.add(appSecret);
    faults.onCall(this::watch);
    for (String repo : REPOSITORIES) {
      for (int n = 1; n <= 3; n++) {
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
      replicas.add(orchestrator());
    }
    for (int step = 0; step < shape.steps(); step++) {
      long t0 = System.nanoTime();
      int before = trace.size();
      step();
      String what = trace.size() > before ? trace.get(before).split(" ")[0] : "none";
      PROFILE.merge(what, System.nanoTime() - t0, Long::sum);
    }
    long t0 = System.nanoTime();
    heal();
    PROFILE.merge("heal", System.nanoTime() - t0, Long::sum);
    return this;
  }

  private void checkLog(String log) {
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

  private PreviewOrchestrator orchestrator() {
    AppTemplate app = AppTemplate.builder().image("registry.example/shop:latest")
        .hostnameTemplate("{name}.preview.example.com")
        .secret("API_TOKEN", Secret.of(appSecret))
        .readinessTimeout(Duration.ofMillis(200)).readinessInterval(Duration.ofMillis(5))
        .build();
    PreviewPolicy policy = PreviewPolicy.builder().excludeLabels(Set.of(EXCLUDE)).maxConcurrent(shape.maxConcurrent())
        .build();
    return PreviewOrchestrator.builder()
        .environment(env).database(db).dns(dns).notifier(notifier).pullRequests(scm)
        .app(app).policy(policy).clock(clock).healthCheck(url -> true)
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
    PullRequest pr = PullRequest.open(key, sha(), "feature-" + key.number(), "main");
    scm.put(pr);
    deliver(PullRequestEvent.Action.OPENED, pr);
  }

  private void push() {
    anyWith(true).ifPresent(pr -> {
      PullRequest pushed = pr.withHeadSha(sha());
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
    replicas.set(i, orchestrator());
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
      if (x.phase() != Environment.Phase.RUNNING) {
        violations.add(key + " is " + x.phase() + ", not RUNNING");
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
    checkSecrets(capturedLog);
    checkStatuses(truth, queued);
    return this;
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
      PreviewState expected = e.isPresent() ? PreviewState.READY : queued.contains(key) ? PreviewState.PENDING : null;
      List<PreviewStatus> history = notifier.history(key);
      String recent = history.subList(Math.max(0, history.size() - 4), history.size()).stream()
          .map(s -> s.state() + (s.revision() == null ? "" : "@" + s.revision().substring(32))).toList().toString();
      if (expected == null) {
        if (last.isPresent() && last.get().state() != PreviewState.DELETED) {
          statusDivergences.add(key + " has nothing but its PR shows " + last.get().state() + " (" + last.get().message()
              + "); last statuses " + recent);
        }
      } else if (last.isEmpty() || last.get().state() != expected
          || (expected == PreviewState.READY && !e.get().revision().equals(last.get().revision()))) {
        statusDivergences.add(key + " is " + expected + (e.isPresent() ? " at " + e.get().revision() : "") + " but its PR shows "
            + last.map(s -> s.state() + " at " + s.revision() + " (" + s.message() + ")").orElse("nothing")
            + "; last statuses " + recent);
      }
    }
  }

  void close() {
    replicas.forEach(PreviewOrchestrator::close);
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
