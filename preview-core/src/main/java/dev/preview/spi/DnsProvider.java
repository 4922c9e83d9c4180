package dev.preview.spi;

import java.util.List;

/**
 * Points a preview's hostname at its environment.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #upsert} is idempotent: it creates the record, or updates it in place if this
 *       library owns it. It never overwrites a record it does not own: that throws
 *       {@link ProviderException} (not retryable).</li>
 *   <li>{@link #delete} removes only records this library owns; absent is fine.</li>
 *   <li>{@link #list()} returns only owned records, with their owner, read from the DNS service.</li>
 * </ul>
 */
public interface DnsProvider extends AutoCloseable {

  String name();

  void upsert(DnsRecord record);

  /** Deletes the owned records at {@code hostname}. Idempotent. */
  void delete(String hostname);

  List<DnsRecord> list();

  @Override
  default void close() {}

  /** Discovered from {@code META-INF/services/dev.preview.spi.DnsProvider$Factory}. */
  interface Factory {
    /** The name users put in the {@code provider} key of the section. */
    String name();

    /**
     * Builds the provider from {@code context}: reads its settings from {@link ProviderContext#config()},
     * then calls {@link ProviderConfig#validate()} so all problems are reported at once; takes the
     * installation-wide values (instance, clock, hostnames, DNS target and TTL) from
     * {@link ProviderContext#installation()}, never from its own section. Must not contact any
     * server for a config that fails validation.
     *
     * @throws ConfigurationException listing every problem of the section
     */
    DnsProvider create(ProviderContext context);
  }
}
