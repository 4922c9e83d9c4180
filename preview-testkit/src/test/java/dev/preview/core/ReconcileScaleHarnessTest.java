package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.preview.spi.DnsRecord;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A harness, not a timed test (opt-in: {@code -Dpreview.benchmark=true}): one reconcile over the fakes
 * with N previews of which 10% are orphans (their PRs closed), with a latency on every delete
 * ({@code environment.delete}, {@code dns.delete}, {@code database.drop}); prints the time and the
 * calls per provider. The steady case (no orphans) of the same size, measured in the same run, is
 * the baseline the orphan run is compared with.
 */
class ReconcileScaleHarnessTest {

  @ParameterizedTest(name = "{0} previews, {1} ms per delete")
  @CsvSource({"1000, 0", "1000, 20", "10000, 0", "10000, 20"})
  void reconcile(int previews, int deleteMillis) {
    assumeTrue(Boolean.getBoolean("preview.benchmark"), "opt-in: -Dpreview.benchmark=true");
    long steady = run(previews, 0, deleteMillis);
    long withOrphans = run(previews, previews / 10, deleteMillis);
    System.out.printf("reconcile harness: %d previews, %d ms per delete: steady %d ms, with %d orphans %d ms (%.1fx)%n",
        previews, deleteMillis, steady, previews / 10, withOrphans, (double) withOrphans / Math.max(1, steady));
  }

  private long run(int previews, int orphans, int deleteMillis) {
    Faults faults = new Faults();
    FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
    FakeDatabaseProvider db = new FakeDatabaseProvider(faults);
    FakeDnsProvider dns = new FakeDnsProvider(faults);
    FakePullRequestSource source = new FakePullRequestSource(faults);
    FakeScmNotifier scm = new FakeScmNotifier(faults);
    for (int n = 1; n <= previews; n++) {
      PreviewKey key = PreviewKey.pr("acme/shop", n);
      String sha = String.format("%040x", n);
      env.apply(EnvironmentSpec.builder(key, sha).image("registry.example/shop:latest").build());
      db.plant(key);
      dns.plant(new DnsRecord("pr-" + n + ".preview.example.com", DnsRecord.Type.A, "203.0.113.7", 60, key));
      PullRequest pr = PullRequest.open(key, sha, "feature", "main");
      source.put(n <= orphans ? pr.withState(PullRequest.State.CLOSED) : pr);
    }
    for (String op : List.of("environment.delete", "dns.delete", "database.drop")) {
      faults.delay(op, Duration.ofMillis(deleteMillis));
    }
    Map<String, Integer> before = faults.calls();
    try (PreviewOrchestrator o = PreviewOrchestrator.builder()
        .environment(env).database(db).dns(dns).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest").hostnameTemplate("pr-{number}.preview.example.com").build())
        .healthCheck(url -> true)
        .installation(Installation.builder().dnsTarget("203.0.113.7").build())
        .build()) {
      long t0 = System.nanoTime();
      ReconcileReport report = o.reconcile(false);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(report.actions()).hasSize(orphans).allMatch(ReconcileReport.Action::done);
      Map<String, Integer> calls = new TreeMap<>();
      faults.calls().forEach((op, c) -> {
        if (op.contains(".") && c - before.getOrDefault(op, 0) > 0) {
          calls.put(op, c - before.getOrDefault(op, 0));
        }
      });
      long t1 = System.nanoTime();
      o.reconcile(false); // nothing left to repair, and every status known to this process
      long again = (System.nanoTime() - t1) / 1_000_000;
      System.out.printf("reconcile harness: %d previews, %d orphans, %d ms per delete: %d ms (the next reconcile: %d ms);"
          + " calls %s%n", previews, orphans, deleteMillis, ms, again, calls);
      return ms;
    }
  }
}
