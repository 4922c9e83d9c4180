package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * Two installations ({@code a-*} and {@code b-*}) share the one zone of the real BIND9: each sees,
 * deletes and reclaims only its own records, checked with plain queries and AXFR of the zone.
 */
class TwoInstallationsOnOneZoneIT {
  final String run = UUID.randomUUID().toString().substring(0, 8);
  final Installation a = Bind9.installation("a-" + run);
  final Installation b = Bind9.installation("b-" + run);
  final PreviewKey key = PreviewKey.pr("acme/shop-" + run, 42);
  final List<String> cleanup = new java.util.ArrayList<>();
  Rfc2136DnsProvider dnsA;
  Rfc2136DnsProvider dnsB;

  @BeforeEach
  void setUp() {
    Bind9.require();
    dnsA = Bind9.provider(a, Map.of());
    dnsB = Bind9.provider(b, Map.of());
  }

  @AfterEach
  void tearDown() {
    for (String host : cleanup) {
      dnsA.delete(host);
      dnsB.delete(host);
    }
  }

  String host(String prefix) {
    String h = Bind9.freshHost(prefix);
    cleanup.add(h);
    return h;
  }

  static Set<String> hostnames(List<DnsRecord> records) {
    return records.stream().map(DnsRecord::hostname).collect(java.util.stream.Collectors.toSet());
  }

  @Test
  void eachInstallationListsDeletesAndClaimsOnlyItsOwn() {
    PreviewKey otherOfA = PreviewKey.pr(key.repository(), 1);
    PreviewKey otherOfB = PreviewKey.pr(key.repository(), 2);
    String hostA = host("a");
    String hostA2 = host("a2");
    String hostB = host("b");
    String hostB2 = host("b2");
    dnsA.upsert(new DnsRecord(hostA, DnsRecord.Type.A, "192.0.2.1", 60, key));
    dnsA.upsert(new DnsRecord(hostA2, DnsRecord.Type.A, "192.0.2.11", 60, otherOfA));
    dnsB.upsert(new DnsRecord(hostB, DnsRecord.Type.A, "192.0.2.2", 60, key)); // the same key, in B
    dnsB.upsert(new DnsRecord(hostB2, DnsRecord.Type.A, "192.0.2.22", 60, otherOfB));

    List<DnsRecord> listedByA = dnsA.list();
    List<DnsRecord> listedByB = dnsB.list();
    assertThat(listedByA).contains(new DnsRecord(hostA, DnsRecord.Type.A, "192.0.2.1", 60, key),
        new DnsRecord(hostA2, DnsRecord.Type.A, "192.0.2.11", 60, otherOfA));
    assertThat(hostnames(listedByA)).doesNotContain(hostB, hostB2);
    assertThat(listedByA).filteredOn(r -> r.owner().equals(key)).extracting(DnsRecord::hostname).containsExactly(hostA);
    assertThat(listedByB).contains(new DnsRecord(hostB, DnsRecord.Type.A, "192.0.2.2", 60, key),
        new DnsRecord(hostB2, DnsRecord.Type.A, "192.0.2.22", 60, otherOfB));
    assertThat(hostnames(listedByB)).doesNotContain(hostA, hostA2);
    assertThat(listedByB).filteredOn(r -> r.owner().equals(key)).extracting(DnsRecord::hostname).containsExactly(hostB);

    // A deletes B's names (what a confused reconcile would do): nothing of B's goes
    dnsA.delete(hostB);
    dnsA.delete(hostB2);
    assertThat(Bind9.answers(hostB, Type.A)).containsExactly("192.0.2.2");
    assertThat(Bind9.answers(hostB2, Type.A)).containsExactly("192.0.2.22");
    assertThat(Bind9.transferredTxt("_preview." + hostB))
        .containsExactly("heritage=preview,preview.dev/key=" + key.repository() + "#42,preview.dev/instance=" + b.instance());

    // A claims B's hostname, for the same key and with adopt: refused, B's record untouched
    Rfc2136DnsProvider adoptingA = Bind9.provider(a, Map.of("adopt", true));
    for (Rfc2136DnsProvider p : List.of(dnsA, adoptingA)) {
      assertThatThrownBy(() -> p.upsert(new DnsRecord(hostB, DnsRecord.Type.A, "192.0.2.99", 60, key)))
          .isInstanceOf(ProviderException.class)
          .hasMessageContaining(hostB + " is owned by another preview installation")
          .hasMessageContaining("instance " + b.instance())
          .hasMessageContaining("this one is instance \"" + a.instance() + "\"")
          .satisfies(e -> assertThat(((ProviderException) e).retryable()).isFalse());
    }
    assertThat(Bind9.answers(hostB, Type.A)).containsExactly("192.0.2.2");

    // A restarted: a fresh provider knows A's records from the zone alone, and only A's
    Rfc2136DnsProvider restartedA = Bind9.provider(a, Map.of());
    assertThat(restartedA.list()).filteredOn(r -> Set.of(hostA, hostA2, hostB, hostB2).contains(r.hostname()))
        .containsExactlyInAnyOrder(new DnsRecord(hostA, DnsRecord.Type.A, "192.0.2.1", 60, key),
            new DnsRecord(hostA2, DnsRecord.Type.A, "192.0.2.11", 60, otherOfA));

    // each deletes its own: the other's stays
    restartedA.delete(hostA);
    assertThat(Bind9.query(hostA, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(Bind9.answers(hostB, Type.A)).containsExactly("192.0.2.2");
    dnsB.delete(hostB);
    assertThat(Bind9.query(hostB, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(Bind9.answers(hostA2, Type.A)).containsExactly("192.0.2.11");
  }

  @Test
  void reconcileOfOneOrchestratorNeverReapsTheOthersRecords() throws Exception {
    String repo = key.repository();
    String name = repo.substring(repo.indexOf('/') + 1);
    FakePullRequestSource sourceA = new FakePullRequestSource();
    FakePullRequestSource sourceB = new FakePullRequestSource();
    try (PreviewOrchestrator orchA = orchestrator(a, dnsA, sourceA, "{repo}-a-pr-{number}." + Bind9.ZONE, "192.0.2.1");
        PreviewOrchestrator orchB = orchestrator(b, dnsB, sourceB, "{repo}-b-pr-{number}." + Bind9.ZONE, "192.0.2.2")) {
      PullRequest pr7 = PullRequest.open(PreviewKey.pr(repo, 7), "a".repeat(40), "feature", "main");
      PullRequest pr8 = PullRequest.open(PreviewKey.pr(repo, 8), "b".repeat(40), "feature", "main");
      String hostA7 = name + "-a-pr-7." + Bind9.ZONE;
      String hostB7 = name + "-b-pr-7." + Bind9.ZONE;
      String hostB8 = name + "-b-pr-8." + Bind9.ZONE;
      cleanup.addAll(List.of(hostA7, hostB7, hostB8));
      // A knows PR 7 only; B has PRs 7 and 8
      sourceA.put(pr7);
      sourceB.put(pr7);
      sourceB.put(pr8);
      assertThat(orchA.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr7)).get(30, TimeUnit.SECONDS)
          .state()).isEqualTo(PreviewState.READY);
      for (PullRequest pr : List.of(pr7, pr8)) {
        assertThat(orchB.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(30, TimeUnit.SECONDS)
            .state()).isEqualTo(PreviewState.READY);
      }
      assertThat(Bind9.answers(hostB8, Type.A)).containsExactly("192.0.2.2");

      // for A, PR 7 is now closed and PR 8 was never heard of: A reaps its own record of PR 7, nothing of B's
      sourceA.close(pr7.key());
      ReconcileReport report = orchA.reconcile(false);

      assertThat(report.errors()).isEmpty();
      assertThat(Bind9.query(hostA7, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
      assertThat(Bind9.answers(hostB7, Type.A)).containsExactly("192.0.2.2");
      assertThat(Bind9.answers(hostB8, Type.A)).containsExactly("192.0.2.2");
      assertThat(Bind9.transferredTxt("_preview." + hostB7)).hasSize(1);
      assertThat(dnsB.list()).extracting(DnsRecord::hostname).contains(hostB7, hostB8);
    }
  }

  PreviewOrchestrator orchestrator(Installation installation, Rfc2136DnsProvider dns, FakePullRequestSource source,
      String hostnames, String target) {
    return PreviewOrchestrator.builder()
        .installation(installation.toBuilder().dnsTarget(target).build())
        .environment(new FakeEnvironmentProvider()).dns(dns).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest").hostnameTemplate(hostnames)
            .readinessTimeout(Duration.ofSeconds(5)).readinessInterval(Duration.ofMillis(10)).build())
        .healthCheck(url -> true)
        .build();
  }
}
