package dev.preview.dns.rfc2136;

import dev.preview.spi.DnsProvider;
import dev.preview.testkit.DnsProviderKit;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;

/** The DnsProvider contract, against the real BIND9 of {@code .ci/servers/bind9.sh}. */
class Rfc2136DnsProviderKitIT extends DnsProviderKit {
  @BeforeEach
  void bind9() {
    Bind9.require();
  }

  @Override
  protected DnsProvider createProvider() {
    return Bind9.provider(Map.of());
  }

  @Override
  protected String zone() {
    return Bind9.ZONE;
  }
}
