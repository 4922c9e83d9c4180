package dev.preview.dns.cloudflare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import dev.preview.testkit.DnsProviderKit;
import java.time.Duration;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The DnsProvider contract, on an in-memory Cloudflare API served by MockWebServer. */
class CloudflareDnsProviderKitTest extends DnsProviderKit {
  static final String TOKEN = "kit-token";
  final FakeCloudflare cloudflare = new FakeCloudflare("example.com", TOKEN, 3);
  @StartStop final MockWebServer server = new MockWebServer();

  @BeforeEach
  void serve() {
    server.setDispatcher(cloudflare);
  }

  @Override
  protected DnsProvider createProvider() {
    return CloudflareDnsProvider.builder().apiToken(Secret.of(TOKEN)).zone("example.com")
        .apiUrl(server.url("/client/v4/").toString()).retries(2, Duration.ofMillis(1), Duration.ofMillis(5)).build();
  }

  @Override
  protected String zone() {
    return "preview.example.com";
  }

  @Test
  void listFindsOwnedRecordsAcrossPages() {
    for (int n = 1; n <= 7; n++) {
      provider().upsert(record(key(n), key(n), targetAddress()));
    }
    assertThat(mine(provider())).hasSize(7);
  }

  @Test
  void aForeignRecordIsLeftAlone() {
    String host = hostname(key(1));
    cloudflare.addForeign("A", host, "198.51.100.7");
    assertThatThrownBy(() -> provider().upsert(record(key(1), key(1), targetAddress())))
        .isInstanceOf(ProviderException.class);
    provider().delete(host);
    assertThat(FakeCloudflare.names(cloudflare.recordsNamed(host))).containsExactly("A 198.51.100.7");
  }

  @Test
  void switchingToACnameReplacesTheAddressRecord() {
    String host = hostname(key(1));
    provider().upsert(record(key(1), key(1), targetAddress()));
    provider().upsert(new DnsRecord(host, DnsRecord.Type.CNAME, "ingress.example.net", 60, key(1)));
    assertThat(FakeCloudflare.names(cloudflare.recordsNamed(host))).containsExactly("CNAME ingress.example.net");
  }
}
