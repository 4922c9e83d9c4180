package dev.preview.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.dns.cloudflare.CloudflareDnsProvider;
import dev.preview.dns.cloudflare.FakeCloudflare;
import dev.preview.dns.route53.FakeRoute53;
import dev.preview.dns.route53.Route53DnsProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/**
 * How many API calls one preview's life costs with each provider, driven by the real orchestrator:
 * open (create), a push (the same record again), close (teardown: list + delete). The counts are
 * asserted so that a change that adds calls is noticed; the README quotes them.
 */
class ApiCallsPerLifecycleTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  @StartStop final MockWebServer server = new MockWebServer();

  /** Calls of open, push and close. */
  static List<Long> lifecycle(DnsProvider dns, LongSupplier calls) throws Exception {
    FakeEnvironmentProvider env = new FakeEnvironmentProvider();
    FakePullRequestSource source = new FakePullRequestSource();
    try (PreviewOrchestrator o = PreviewOrchestrator.builder().environment(env).dns(dns).pullRequests(source)
        .app(AppTemplate.builder().image("shop:1").hostnameTemplate("pr-{number}.preview.example.com")
            .readinessTimeout(Duration.ofSeconds(5)).readinessInterval(Duration.ofMillis(10)).build())
        .healthCheck(url -> true).installation(dev.preview.spi.Installation.builder().dnsTarget("203.0.113.7").build()).build()) {
      PullRequest pr = PullRequest.open(KEY, "a".repeat(40), "feature", "main");
      source.put(pr);
      long c0 = calls.getAsLong();
      assertThat(run(o, PullRequestEvent.Action.OPENED, pr).state()).isEqualTo(PreviewState.READY);
      long c1 = calls.getAsLong();
      PullRequest pushed = pr.withHeadSha("b".repeat(40));
      source.put(pushed);
      assertThat(run(o, PullRequestEvent.Action.UPDATED, pushed).state()).isEqualTo(PreviewState.READY);
      long c2 = calls.getAsLong();
      source.close(KEY);
      assertThat(run(o, PullRequestEvent.Action.CLOSED, pushed.withState(PullRequest.State.CLOSED)).state())
          .isEqualTo(PreviewState.DELETED);
      long c3 = calls.getAsLong();
      assertThat(dns.list()).isEmpty();
      return List.of(c1 - c0, c2 - c1, c3 - c2);
    }
  }

  static Preview run(PreviewOrchestrator o, PullRequestEvent.Action action, PullRequest pr) throws Exception {
    return o.handle(PullRequestEvent.of(action, pr)).get(30, TimeUnit.SECONDS);
  }

  @Test
  void cloudflare() throws Exception {
    FakeCloudflare fake = new FakeCloudflare("example.com", "t", 100);
    server.setDispatcher(fake);
    CloudflareDnsProvider dns = CloudflareDnsProvider.builder().apiToken(Secret.of("t")).zone("example.com")
        .apiUrl(server.url("/client/v4/").toString()).build();
    List<Long> calls = lifecycle(dns, fake.requests::get);
    System.out.println("cloudflare: API calls open/push/close = " + calls);
    // open: zone lookup + records at the name + POST; push: records at the name;
    // close: list (1 page) + records at the name + DELETE
    assertThat(calls).containsExactly(3L, 1L, 3L);
  }

  @Test
  void route53() throws Exception {
    FakeRoute53 fake = new FakeRoute53("example.com");
    server.setDispatcher(fake);
    Route53DnsProvider dns = Route53DnsProvider.builder().zone("example.com").endpoint(server.url("/").toString())
        .credentials("AKIDEXAMPLE", Secret.of("s"), null).build();
    List<Long> calls = lifecycle(dns, fake.requests::get);
    System.out.println("route53: API calls open/push/close = " + calls);
    // open: zone lookup + records at the name + change batch; push: records at the name;
    // close: list (1 page) + records at the name + change batch
    assertThat(calls).containsExactly(3L, 1L, 3L);
  }
}
