package dev.preview.dns.route53;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import dev.preview.testkit.DnsProviderKit;
import java.time.Duration;
import java.util.List;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The DnsProvider contract, on an in-memory Route 53 hosted zone served by MockWebServer. */
class Route53DnsProviderKitTest extends DnsProviderKit {
  final FakeRoute53 route53 = new FakeRoute53("example.com");
  @StartStop final MockWebServer server = new MockWebServer();

  @BeforeEach
  void serve() {
    server.setDispatcher(route53);
  }

  @Override
  protected DnsProvider createProvider() {
    return Route53DnsProvider.builder().zone("example.com").endpoint(server.url("/").toString())
        .credentials("AKIDEXAMPLE", Secret.of("fake-secret"), null)
        .retries(2, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(5))
        .waitForSync(true, Duration.ofMillis(1), Duration.ofSeconds(5)).build();
  }

  @Override
  protected String zone() {
    return "preview.example.com";
  }

  @Test
  void aForeignRecordIsLeftAlone() {
    String host = hostname(key(1));
    route53.put(new FakeRoute53.RrSet(host + ".", "A", 300, List.of("198.51.100.7")));
    assertThatThrownBy(() -> provider().upsert(record(key(1), key(1), targetAddress())))
        .isInstanceOf(ProviderException.class);
    provider().delete(host);
    assertThat(route53.at(host)).containsExactly(new FakeRoute53.RrSet(host + ".", "A", 300, List.of("198.51.100.7")));
  }

  @Test
  void switchingToACnameReplacesTheAddressRecordInOneBatch() {
    String host = hostname(key(1));
    provider().upsert(record(key(1), key(1), targetAddress()));
    long before = route53.changes.get();
    provider().upsert(new DnsRecord(host, DnsRecord.Type.CNAME, "ingress.example.net", 60, key(1)));
    assertThat(route53.changes.get() - before).isEqualTo(1);
    assertThat(route53.at(host)).containsExactly(
        new FakeRoute53.RrSet(host + ".", "CNAME", 60, List.of("ingress.example.net.")));
  }
}
