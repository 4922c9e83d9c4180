package dev.preview.dns.none;

import dev.preview.spi.DnsProvider;
import dev.preview.dns.internal.ConfigKeys;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link DnsProvider} for wildcard DNS setups, where a record such as
 * {@code *.preview.example.com} already points every preview hostname at the ingress: there is
 * nothing to create. {@link #upsert} and {@link #delete} do nothing, and since it never creates a
 * record it owns none, so {@link #list()} is always empty and reconcile has nothing to collect.
 *
 * <p>Stateless and thread-safe.
 */
public final class NoneDnsProvider implements DnsProvider {
  private static final Logger LOG = LoggerFactory.getLogger(NoneDnsProvider.class);

  private NoneDnsProvider() {}

  public static NoneDnsProvider create() {
    return new NoneDnsProvider();
  }

  @Override
  public String name() {
    return "none";
  }

  @Override
  public void upsert(DnsRecord record) {
    LOG.debug("none: {} is expected to resolve through wildcard DNS; nothing to create", record.hostname());
  }

  @Override
  public void delete(String hostname) {
    // nothing was created, so nothing is removed
  }

  @Override
  public List<DnsRecord> list() {
    return List.of();
  }

  @Override
  public String toString() {
    return "NoneDnsProvider";
  }

  /** {@code dns.provider: none}: takes no other key ({@code target} and {@code ttl} belong to the installation). */
  public static final class Factory implements DnsProvider.Factory {
    @Override
    public String name() {
      return "none";
    }

    @Override
    public DnsProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      ConfigKeys.instanceIsTopLevel(config);
      config.validate();
      return NoneDnsProvider.create();
    }
  }
}
