package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.ScmNotifier;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeDnsProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What one reconcile asks of each provider, counted (not timed): one listing per provider, one list
 * of open PRs per repository, one bulk read-back of the PRs' statuses per repository when the
 * notifier offers it (none per PR), no lookup per orphan; read-backs per PR when it does not; the
 * health probes of the RUNNING previews in parallel, never more at once than the bound.
 */
class ReconcileCallsTest {
  static final List<String> REPOS = List.of("acme/shop", "acme/api");
  static final int PER_REPO = 50;
  static final int ORPHANS_PER_REPO = 5;
  static final String SHA = "c".repeat(40);

  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakeDatabaseProvider db = new FakeDatabaseProvider(faults);
  final FakeDnsProvider dns = new FakeDnsProvider(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  final FakeScmNotifier scm = new FakeScmNotifier(faults);
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  /** PER_REPO previews in each repository, the first ORPHANS_PER_REPO of them with a closed PR. */
  void world() {
    for (String repo : REPOS) {
      for (int n = 1; n <= PER_REPO; n++) {
        PreviewKey key = PreviewKey.pr(repo, n);
        env.apply(EnvironmentSpec.builder(key, SHA).image("registry.example/shop:latest").build());
        db.plant(key);
        dns.plant(new DnsRecord(host(key), DnsRecord.Type.A, "203.0.113.7", 60, key));
        PullRequest pr = PullRequest.open(key, SHA, "feature-" + n, "main");
        source.put(n <= ORPHANS_PER_REPO ? pr.withState(PullRequest.State.CLOSED) : pr);
      }
    }
  }

  static String host(PreviewKey key) {
    return "pr-" + key.number() + "-" + key.repository().replace("acme/", "") + ".preview.example.com";
  }

  PreviewOrchestrator orchestrator(ScmNotifier notifier, HealthCheck health, int parallelism) {
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).database(db).dns(dns).notifier(notifier).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest")
            .hostnameTemplate("pr-{number}-{repo}.preview.example.com").build())
        .healthCheck(health)
        .installation(Installation.builder().dnsTarget("203.0.113.7").build())
        .repositories(REPOS)
        .reconcileParallelism(parallelism)
        .build();
    return orchestrator;
  }

  /** Calls made by {@code run}, per operation. */
  Map<String, Integer> calls(Runnable run) {
    Map<String, Integer> before = faults.calls();
    run.run();
    Map<String, Integer> out = new java.util.TreeMap<>();
    faults.calls().forEach((op, c) -> {
      int d = c - before.getOrDefault(op, 0);
      if (op.contains(".") && d > 0) {
        out.put(op, d);
      }
    });
    return out;
  }

  @Test
  void oneListingPerProviderOneOpenPrListAndOneStatusReadBackPerRepositoryAndNoLookupPerOrphan() {
    world();
    PreviewOrchestrator o = orchestrator(scm, url -> true, 8);

    Map<String, Integer> calls = calls(() -> assertThat(o.reconcile(false).actions())
        .hasSize(REPOS.size() * ORPHANS_PER_REPO).allMatch(ReconcileReport.Action::done));

    int orphans = REPOS.size() * ORPHANS_PER_REPO;
    int open = REPOS.size() * (PER_REPO - ORPHANS_PER_REPO);
    assertThat(calls).containsEntry("environment.list", 1).containsEntry("database.list", 1).containsEntry("dns.list", 1)
        .containsEntry("pullRequests.listOpen", REPOS.size())
        .containsEntry("scm.publishedAll", REPOS.size())
        .as("no read-back per PR when the notifier lists in bulk").doesNotContainKey("scm.published")
        .as("the listed revision goes with each orphan's teardown").doesNotContainKey("environment.find")
        .containsEntry("environment.delete", orphans).containsEntry("database.drop", orphans)
        .containsEntry("dns.delete", orphans)
        // DELETING + DELETED per orphan, READY per open PR that showed nothing
        .containsEntry("scm.publish", 2 * orphans + open);
    assertThat(scm.latest(PreviewKey.pr("acme/api", PER_REPO))).get()
        .satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.READY));
    assertThat(scm.latest(PreviewKey.pr("acme/api", 1))).get()
        .satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.DELETED));

    Map<String, Integer> again = calls(() -> assertThat(o.reconcile(false).actions()).isEmpty());
    assertThat(again).containsEntry("environment.list", 1).containsEntry("scm.publishedAll", REPOS.size())
        .as("nothing differs: nothing published").doesNotContainKeys("scm.published", "scm.publish");
  }

  @Test
  void aNotifierThatCannotListInBulkIsReadBackPerPrAndStillConverges() {
    world();
    PreviewOrchestrator o = orchestrator(new PerKeyOnly(scm), url -> true, 8);

    Map<String, Integer> calls = calls(() -> o.reconcile(false));

    int open = REPOS.size() * (PER_REPO - ORPHANS_PER_REPO);
    assertThat(calls).doesNotContainKey("scm.publishedAll").containsEntry("scm.published", open);
    assertThat(scm.latest(PreviewKey.pr("acme/shop", PER_REPO))).get()
        .satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.READY));
  }

  @Test
  void aBulkReadBackThatFailsIsUnknownForItsRepositoryAndPublishesNothingThere() {
    world();
    PreviewOrchestrator o = orchestrator(scm, url -> true, 8);
    faults.failAlways("scm.publishedAll");

    Map<String, Integer> calls = calls(() -> o.reconcile(false));

    assertThat(calls).as("one failed listing per repository, then no read per PR").containsEntry("scm.publishedAll", REPOS.size())
        .doesNotContainKey("scm.published");
    assertThat(scm.latest(PreviewKey.pr("acme/shop", PER_REPO))).as("unknown is never 'shows nothing'").isEmpty();

    faults.heal("scm.publishedAll");
    o.reconcile(false);
    assertThat(scm.latest(PreviewKey.pr("acme/shop", PER_REPO))).get()
        .satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.READY));
  }

  @Test
  void healthProbesRunInParallelUpToTheBound() {
    world();
    int bound = 4;
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    CountDownLatch together = new CountDownLatch(bound);
    HealthCheck health = url -> {
      most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        together.countDown();
        // the first probes wait (at most 5 s each) until `bound` of them are in flight at once
        together.await(5, TimeUnit.SECONDS);
        return true;
      } finally {
        inFlight.decrementAndGet();
      }
    };
    PreviewOrchestrator o = orchestrator(scm, health, bound);

    o.reconcile(false);

    assertThat(most.get()).as("probes in flight at once").isEqualTo(bound);
    assertThat(scm.latest(PreviewKey.pr("acme/shop", PER_REPO))).get()
        .satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.READY));
  }

  /** A notifier that reads back per PR only (the SPI's default {@code publishedAll}). */
  static final class PerKeyOnly implements ScmNotifier {
    final ScmNotifier delegate;

    PerKeyOnly(ScmNotifier delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return "per-key";
    }

    @Override
    public void publish(PreviewStatus status) {
      delegate.publish(status);
    }

    @Override
    public Optional<PublishedStatus> published(PreviewKey key) {
      return delegate.published(key);
    }
  }
}
