package dev.preview.dns.none;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;

/** {@code dns.provider: none}: takes no other key. */
public final class NoneDnsProviderFactory implements DnsProvider.Factory {
  @Override
  public String name() {
    return "none";
  }

  @Override
  public DnsProvider create(ProviderContext context) {
    ProviderConfig config = context.config();
    // provider: read by the registry; target: read by the orchestrator (where hostnames point)
    config.ignore("provider", "target");
    config.validate();
    return NoneDnsProvider.create();
  }
}
