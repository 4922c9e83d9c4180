package dev.preview.spi;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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

  /** Deletes the owned records at {@code hostname}, whichever preview of this installation owns them. Idempotent. */
  void delete(String hostname);

  /**
   * Deletes the records at {@code hostname} only if {@code owner} owns them: a name owned by another
   * preview (another repository's PR whose hostname rule gives the same name, say) is left alone.
   * Idempotent. What a teardown calls. The default asks {@link #list()} first; a provider whose records
   * carry their owner should override it to check and delete in one call.
   */
  default void delete(String hostname, PreviewKey owner) {
    String host = hostname.toLowerCase(Locale.ROOT);
    for (DnsRecord r : list()) {
      if (r.hostname().equals(host) && !r.owner().equals(owner)) {
        return;
      }
    }
    delete(hostname);
  }

  /**
   * Deletes every record of {@code records} (as {@link #list()} returned them), each only while its
   * owner still owns it: what reconcile calls with what it listed, so nothing is listed again. The
   * default deletes them one by one; providers batch where their protocol allows (one RFC 2136
   * UPDATE for many). Idempotent.
   */
  default void deleteAll(Collection<DnsRecord> records) {
    Set<String> done = new HashSet<>();
    for (DnsRecord r : records) {
      if (done.add(r.hostname())) {
        delete(r.hostname(), r.owner());
      }
    }
  }

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
