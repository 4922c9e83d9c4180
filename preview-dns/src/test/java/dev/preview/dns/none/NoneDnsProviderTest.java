package dev.preview.dns.none;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NoneDnsProviderTest {
  @Test
  void ownsNothingWhateverIsUpserted() {
    DnsProvider dns = new NoneDnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", Map.of("provider", "none"))));
    dns.upsert(new DnsRecord("pr-1.preview.example.com", DnsRecord.Type.A, "192.0.2.10", 60, PreviewKey.pr("a/b", 1)));
    assertThat(dns.list()).isEmpty();
    dns.delete("pr-1.preview.example.com");
    assertThat(dns.name()).isEqualTo("none");
  }

  @Test
  void rejectsKeysItDoesNotHave() {
    assertThatThrownBy(() -> new NoneDnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", Map.of("zone", "x.com")))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("dns.zone: unknown key");
  }
}
