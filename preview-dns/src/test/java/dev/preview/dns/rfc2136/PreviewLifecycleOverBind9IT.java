package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * End to end: the orchestrator (testkit fake environment, fake SCM) with the rfc2136 provider on the
 * real BIND9. The preview hostname resolves once the preview is READY, and no longer after teardown.
 */
class PreviewLifecycleOverBind9IT {
  static final String TARGET = "192.0.2.50";
  final String repo = "acme/shop-" + UUID.randomUUID().toString().substring(0, 8);
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource source = new FakePullRequestSource();
  Rfc2136DnsProvider dns;
  PreviewOrchestrator orchestrator;

  @BeforeEach
  void setUp() {
    Bind9.require();
    // an instance of its own: this test's reconcile must not reap records other runs hold in the shared zone
    dns = Bind9.provider(Bind9.installation("e2e-" + UUID.randomUUID().toString().substring(0, 8)), Map.of());
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).dns(dns).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest")
            .hostnameTemplate("{repo}-pr-{number}." + Bind9.ZONE)
            .readinessTimeout(Duration.ofSeconds(5)).readinessInterval(Duration.ofMillis(10)).build())
        .healthCheck(url -> true)
        .installation(dev.preview.spi.Installation.builder().dnsTarget(TARGET).build())
        .build();
  }

  @AfterEach
  void tearDown() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  static Preview await(java.util.concurrent.CompletableFuture<Preview> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void theHostnameResolvesAfterReadyAndNotAfterTeardown() throws Exception {
    PreviewKey key = PreviewKey.pr(repo, 42);
    String host = repo.substring(repo.indexOf('/') + 1) + "-pr-42." + Bind9.ZONE;
    PullRequest pr = PullRequest.open(key, "a".repeat(40), "feature", "main");
    source.put(pr);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    long c0 = dns.messagesSent();

    Preview ready = await(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)));

    assertThat(ready.state()).isEqualTo(PreviewState.READY);
    assertThat(ready.url()).hasToString("https://" + host + "/");
    assertThat(Bind9.answers(host, Type.A)).containsExactly(TARGET);
    assertThat(dns.list()).contains(new DnsRecord(host, DnsRecord.Type.A, TARGET, 60, key));
    long c1 = dns.messagesSent() - 1; // the list() just above

    PullRequest pushed = pr.withHeadSha("c".repeat(40));
    source.put(pushed);
    assertThat(await(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pushed))).state())
        .isEqualTo(PreviewState.READY);
    assertThat(Bind9.answers(host, Type.A)).containsExactly(TARGET);
    long c2 = dns.messagesSent();

    source.close(key);
    Preview gone = await(orchestrator.handle(
        PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pushed.withState(PullRequest.State.CLOSED))));

    assertThat(gone.state()).isEqualTo(PreviewState.DELETED);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(Bind9.query("_preview." + host, Type.TXT).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    long c3 = dns.messagesSent();
    java.util.List<Long> calls = java.util.List.of(c1 - c0, c2 - c1 - 1, c3 - c2);
    System.out.println("rfc2136: DNS messages open/push/close = " + calls);
    // open: one claim (a name new to this provider); push: one guarded update (it wrote the name);
    // close: AXFR (the teardown's list, for other names the key owns) + one guarded delete
    assertThat(calls).containsExactly(1L, 1L, 2L);
  }

  @Test
  void reconcileRemovesTheRecordOfAPullRequestClosedWhileNobodyListened() throws Exception {
    PreviewKey key = PreviewKey.pr(repo, 7);
    String host = repo.substring(repo.indexOf('/') + 1) + "-pr-7." + Bind9.ZONE;
    PullRequest pr = PullRequest.open(key, "b".repeat(40), "feature", "main");
    source.put(pr);
    assertThat(await(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr))).state())
        .isEqualTo(PreviewState.READY);
    assertThat(Bind9.answers(host, Type.A)).containsExactly(TARGET);

    source.close(key); // the close webhook is lost
    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.errors()).isEmpty();
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(dns.list()).noneMatch(r -> r.owner().equals(key));
  }
}
