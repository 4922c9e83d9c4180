package dev.preview.benchmarks;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeDnsProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reconcile over the testkit's fakes: N previews (environment + database + DNS record each, READY
 * shown on each PR by an earlier orchestrator), all with open PRs (steady) or 10% of them orphans
 * (their PR closed since), every provider call delayed by 0 or 20 ms ({@link Faults#delay}), the
 * status read-backs included. Figures: time of the first {@code reconcile(false)} of a new
 * orchestrator (a restart: it knows no status but what it reads back), the time of its next
 * reconcile, and the calls per provider operation. Floor: the lists themselves (environments,
 * databases, DNS records, open PRs, each paying the same latency) and a hash join of them into the
 * set of orphans, which is the least any reconcile must do before it repairs anything.
 */
final class ReconcileBenchmark {
  static final String REPO = "acme/shop";
  static final List<String> DELAYED = List.of("environment.list", "environment.delete", "environment.find", "environment.apply",
      "database.list", "database.drop", "database.create", "dns.list", "dns.delete", "dns.upsert",
      "pullRequests.listOpen", "pullRequests.find", "scm.published", "scm.publishedAll");

  private ReconcileBenchmark() {}

  /** One world of fakes: {@code n} previews, {@code orphans} of them without an open PR. */
  static final class World {
    final Faults faults = new Faults();
    final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
    final FakeDnsProvider dns = new FakeDnsProvider(faults);
    final FakeDatabaseProvider db = new FakeDatabaseProvider(faults);
    final FakePullRequestSource source = new FakePullRequestSource(faults);
    final FakeScmNotifier scm = new FakeScmNotifier(faults);
    final Set<PreviewKey> orphanKeys = new HashSet<>();

    World(int n, int orphans, Duration latency) {
      String sha = "c".repeat(40);
      for (int i = 1; i <= n; i++) {
        PreviewKey key = PreviewKey.pr(REPO, i);
        env.apply(EnvironmentSpec.builder(key, sha).image("registry.example/shop:latest").build());
        db.plant(key);
        dns.plant(new DnsRecord("pr-" + i + ".preview.example.com", DnsRecord.Type.A, "203.0.113.7", 60, key));
        source.put(PullRequest.open(key, sha, "feature-" + i, "main"));
        if (i % Math.max(1, n / Math.max(1, orphans)) == 0 && orphanKeys.size() < orphans) {
          orphanKeys.add(key);
        }
      }
      // an earlier orchestrator showed READY on every PR; then the orphans' PRs were closed
      try (PreviewOrchestrator earlier = orchestrator()) {
        earlier.reconcile(false);
      }
      orphanKeys.forEach(source::close);
      if (!latency.isZero()) {
        DELAYED.forEach(op -> faults.delay(op, latency));
      }
    }

    PreviewOrchestrator orchestrator() {
      return PreviewOrchestrator.builder()
          .environment(env).dns(dns).database(db).pullRequests(source).notifier(scm)
          .app(AppTemplate.builder().image("registry.example/shop:latest")
              .hostnameTemplate("pr-{number}.preview.example.com").readinessTimeout(Duration.ofMillis(300)).build())
          .healthCheck(url -> true)
          .installation(Installation.builder().dnsTarget("203.0.113.7").build())
          .repositories(List.of(REPO))
          .build();
    }
  }

  static void run(Scale scale, Report report) throws Exception {
    List<int[]> sizes = scale.full() ? List.of(new int[] {1_000}, new int[] {10_000}) : List.of(new int[] {40});
    for (int[] size : sizes) {
      int n = size[0];
      for (int orphanPct : new int[] {0, 10}) {
        for (int ms : new int[] {0, 20}) {
          measure(scale, report, n, n * orphanPct / 100, Duration.ofMillis(ms));
        }
      }
    }
  }

  private static void measure(Scale scale, Report report, int n, int orphans, Duration latency) throws Exception {
    String label = String.format("%,d previews, %s, %d ms latency", n, orphans == 0 ? "steady" : orphans + " orphans",
        latency.toMillis());
    Map<String, Integer> lastCalls = new TreeMap<>();
    int[] lastActions = new int[1];
    int[] lastOrphansFound = new int[1];
    List<Double> next = new ArrayList<>();
    Map<String, Integer> nextCalls = new TreeMap<>();
    Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
    arms.put("reconcile", () -> {
      World w = new World(n, orphans, latency);
      Map<String, Integer> before = w.faults.calls();
      try (PreviewOrchestrator o = w.orchestrator()) {
        long t0 = System.nanoTime();
        ReconcileReport r = o.reconcile(false);
        double took = (System.nanoTime() - t0) / 1e6;
        if (!r.errors().isEmpty()) {
          throw new IllegalStateException("reconcile reported errors: " + r.errors());
        }
        lastActions[0] = r.actions().size();
        Map<String, Integer> after = w.faults.calls();
        lastCalls.clear();
        after.forEach((op, c) -> {
          int d = c - before.getOrDefault(op, 0);
          if (d > 0 && op.contains(".")) {
            lastCalls.put(op, d);
          }
        });
        if (orphans > 0 && w.env.keys().size() != n - orphans) {
          throw new IllegalStateException("reconcile left " + (w.env.keys().size() - (n - orphans)) + " orphan environments");
        }
        // the next reconcile of the same orchestrator: nothing to repair, every status known
        Map<String, Integer> before2 = w.faults.calls();
        long t1 = System.nanoTime();
        ReconcileReport again = o.reconcile(false);
        next.add((System.nanoTime() - t1) / 1e6);
        if (!again.actions().isEmpty() || !again.errors().isEmpty()) {
          throw new IllegalStateException("the next reconcile still acted: " + again.actions() + " " + again.errors());
        }
        nextCalls.clear();
        w.faults.calls().forEach((op, c) -> {
          int d = c - before2.getOrDefault(op, 0);
          if (d > 0 && op.contains(".")) {
            nextCalls.put(op, d);
          }
        });
        return took;
      }
    });
    arms.put("floor", () -> {
      World w = new World(n, orphans, latency);
      long t0 = System.nanoTime();
      List<Environment> envs = w.env.list();
      List<PreviewKey> dbs = w.db.list();
      List<DnsRecord> records = w.dns.list();
      Set<PreviewKey> open = new HashSet<>();
      w.source.listOpen(REPO).forEach(pr -> open.add(pr.key()));
      Map<PreviewKey, List<DnsRecord>> recordsByKey = new HashMap<>();
      records.forEach(r -> recordsByKey.computeIfAbsent(r.owner(), k -> new ArrayList<>()).add(r));
      Set<PreviewKey> found = new HashSet<>();
      envs.forEach(e -> {
        if (!open.contains(e.key())) {
          found.add(e.key());
        }
      });
      dbs.forEach(k -> {
        if (!open.contains(k)) {
          found.add(k);
        }
      });
      recordsByKey.keySet().forEach(k -> {
        if (!open.contains(k)) {
          found.add(k);
        }
      });
      double took = (System.nanoTime() - t0) / 1e6;
      lastOrphansFound[0] = found.size();
      if (!found.equals(w.orphanKeys)) {
        throw new IllegalStateException("the floor's join found " + found.size() + " orphans, not " + w.orphanKeys.size());
      }
      return took;
    });
    int rounds = n >= 10_000 ? Math.min(scale.rounds(), 3) : scale.rounds();
    Map<String, List<Double>> r = Interleaved.run(n >= 10_000 ? 0 : scale.warmup(), rounds, arms);
    String goal = n >= 10_000 && orphans > 0 && latency.toMillis() == 20 ? "< 2 s" : null;
    report.add(new Report.Figure("Reconcile over the testkit fakes", label, "ms", false,
        "first reconcile(false) of a new orchestrator", r.get("reconcile"), "lists + hash join", r.get("floor"), null));
    // the rounds' warm-up runs of the arm are not in r: keep as many of the next reconciles, the last ones
    List<Double> nextRounds = next.subList(Math.max(0, next.size() - r.get("reconcile").size()), next.size());
    report.add(new Report.Figure("Reconcile over the testkit fakes", label + ", next reconcile", "ms", false,
        "its next reconcile(false)", List.copyOf(nextRounds), "lists + hash join", r.get("floor"), null));
    StringBuilder calls = new StringBuilder();
    lastCalls.forEach((op, c) -> calls.append(calls.length() == 0 ? "" : ", ").append(op).append(' ').append(c));
    StringBuilder calls2 = new StringBuilder();
    nextCalls.forEach((op, c) -> calls2.append(calls2.length() == 0 ? "" : ", ").append(op).append(' ').append(c));
    report.note("Reconcile over the testkit fakes", label + ": " + lastActions[0] + " actions; calls per provider operation in the last round: "
        + calls + "; in the next reconcile: " + calls2
        + (goal == null ? "" : String.format("; goal %s: median %.0f ms, next reconcile %.0f ms (%s)", goal,
            Interleaved.median(r.get("reconcile")), Interleaved.median(nextRounds),
            Interleaved.median(r.get("reconcile")) < 2000 && Interleaved.median(nextRounds) < 2000 ? "met" : "**not met**")));
  }
}
