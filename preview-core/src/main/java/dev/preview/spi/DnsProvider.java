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
    String name();

    DnsProvider create(ProviderConfig config);
  }
}
