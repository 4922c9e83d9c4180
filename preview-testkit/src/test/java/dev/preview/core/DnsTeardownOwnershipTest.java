package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeDnsProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.Faults;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A teardown deletes only DNS records its own preview owns, and reconcile hands the records it
 * listed to the teardowns it starts instead of listing the DNS again for every orphan.
 */
class DnsTeardownOwnershipTest {
  static final PreviewKey SHOP7 = PreviewKey.pr("acme/shop", 7);
  static final PreviewKey ZETA7 = PreviewKey.pr("zeta/app", 7);
  static final String HOST = "pr-7.preview.example.com";

  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakeDnsProvider dns = new FakeDnsProvider(faults);
  final FakePullRequestSource source = new FakePullRequestSource(faults);
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator orchestrator() {
    return orchestrator("pr-{number}.preview.example.com");
  }

  PreviewOrchestrator orchestrator(String hostname) {
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).dns(dns).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest")
            .hostnameTemplate(hostname).readinessTimeout(Duration.ofMillis(300)).build())
        .healthCheck(url -> true)
        .installation(Installation.builder().dnsTarget("203.0.113.7").build())
        .build();
    return orchestrator;
  }

  PullRequest open(PreviewKey key, String sha) {
    PullRequest pr = PullRequest.open(key, sha.repeat(40), "feature", "main");
    source.put(pr);
    return pr;
  }

  @Test
  void closingAnotherRepositorysPrSevenLeavesTheRecordOfTheOneThatHasTheName() throws Exception {
    orchestrator();
    PullRequest shop = open(SHOP7, "a");
    PullRequest zeta = open(ZETA7, "b");
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, shop)).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, zeta)).get(10, TimeUnit.SECONDS)
        .state()).as("the name is acme/shop#7's").isEqualTo(PreviewState.FAILED);

    source.close(ZETA7);
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, zeta.withState(PullRequest.State.CLOSED)))
        .get(10, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.DELETED);

    assertThat(dns.record(HOST)).get().satisfies(r -> assertThat(r.owner()).isEqualTo(SHOP7));
    assertThat(env.find(SHOP7)).isPresent();
  }

  @Test
  void withRepoNumberTwoOwnersOfOneRepositoryNameKeepTheirOwnRecords() throws Exception {
    orchestrator("{repo}-{number}.preview.example.com");
    PreviewKey acme = PreviewKey.pr("acme/app", 7);
    PreviewKey zeta = PreviewKey.pr("zeta/app", 7);
    PullRequest first = open(acme, "a");
    PullRequest second = open(zeta, "b");
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, first)).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, second)).get(10, TimeUnit.SECONDS)
        .state()).as("app-7 is acme/app#7's").isEqualTo(PreviewState.FAILED);

    source.close(zeta);
    orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, second)).get(10, TimeUnit.SECONDS);
    orchestrator.reconcile(false);

    assertThat(dns.record("app-7.preview.example.com")).get().satisfies(r -> assertThat(r.owner()).isEqualTo(acme));
    assertThat(env.find(acme)).isPresent();
    assertThat(env.find(zeta)).isEmpty();
  }

  @Test
  void reconcileListsTheDnsOnceHoweverManyOrphansItRemoves() throws Exception {
    orchestrator();
    for (int n = 1; n <= 100; n++) {
      PreviewKey key = PreviewKey.pr("acme/shop", n);
      env.apply(EnvironmentSpec.builder(key, "c".repeat(40)).image("registry.example/shop:latest").build());
      dns.plant(new DnsRecord("pr-" + n + ".preview.example.com", DnsRecord.Type.A, "203.0.113.7", 60, key));
    }
    source.put(PullRequest.open(PreviewKey.pr("acme/shop", 500), "d".repeat(40), "other", "main")); // the repository is listed
    int listed = faults.calls("dns.list");

    var report = orchestrator.reconcile(false);

    assertThat(report.actions()).hasSize(100);
    assertThat(faults.calls("dns.list") - listed).as("dns.list calls").isEqualTo(1);
    assertThat(dns.records()).isEmpty();
    assertThat(env.list()).extracting(Environment::key).isEmpty();
  }
}
