package dev.preview.testkit;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An in-memory {@link DnsProvider} named {@code fake}: one record per hostname. Upserting a
 * hostname that another preview owns throws a non-retryable {@link ProviderException} and changes
 * nothing. Instances made with {@link #reopen()} share the simulated zone. Thread-safe; operations
 * {@code dns.upsert|delete|list} (keyed by the owning preview where known, else by hostname).
 */
public final class FakeDnsProvider implements DnsProvider {
  public static final String NAME = "fake";

  private final Faults faults;
  private final Map<String, DnsRecord> zone;

  public FakeDnsProvider() {
    this(new Faults());
  }

  public FakeDnsProvider(Faults faults) {
    this(faults, new TreeMap<>());
  }

  private FakeDnsProvider(Faults faults, Map<String, DnsRecord> zone) {
    this.faults = Objects.requireNonNull(faults, "faults");
    this.zone = zone;
  }

  /** A new instance over the same simulated zone and faults: a restarted process. */
  public FakeDnsProvider reopen() {
    return new FakeDnsProvider(faults, zone);
  }

  public Faults faults() {
    return faults;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void upsert(DnsRecord record) {
    Objects.requireNonNull(record, "record");
    faults.run(NAME, "dns.upsert", record.owner(), () -> {
      synchronized (zone) {
        DnsRecord existing = zone.get(record.hostname());
        if (existing != null && !existing.owner().equals(record.owner())) {
          throw new ProviderException(NAME, record.hostname() + " is owned by " + existing.owner()
              + ", not " + record.owner() + "; refusing to overwrite it", false);
        }
        zone.put(record.hostname(), record);
      }
    });
  }

  @Override
  public void delete(String hostname) {
    String host = normalise(hostname);
    Object key = record(host).<Object>map(DnsRecord::owner).orElse(host);
    faults.run(NAME, "dns.delete", key, () -> {
      synchronized (zone) {
        zone.remove(host);
      }
    });
  }

  /** Deletes the record at {@code hostname} only if {@code owner} owns it (counted as {@code dns.delete}). */
  @Override
  public void delete(String hostname, PreviewKey owner) {
    String host = normalise(hostname);
    faults.run(NAME, "dns.delete", owner, () -> {
      synchronized (zone) {
        DnsRecord existing = zone.get(host);
        if (existing != null && existing.owner().equals(owner)) {
          zone.remove(host);
        }
      }
    });
  }

  @Override
  public List<DnsRecord> list() {
    return faults.call(NAME, "dns.list", null, this::records);
  }

  /** Every record in the simulated zone, sorted by hostname. */
  public List<DnsRecord> records() {
    synchronized (zone) {
      return List.copyOf(zone.values());
    }
  }

  /** The record at {@code hostname}, if any. */
  public Optional<DnsRecord> record(String hostname) {
    synchronized (zone) {
      return Optional.ofNullable(zone.get(normalise(hostname)));
    }
  }

  /** The records owned by {@code key}. */
  public List<DnsRecord> records(PreviewKey key) {
    return records().stream().filter(r -> r.owner().equals(key)).toList();
  }

  /** Puts a record in the zone without an {@link #upsert} call (no ownership check): a leftover. */
  public FakeDnsProvider plant(DnsRecord record) {
    synchronized (zone) {
      zone.put(record.hostname(), record);
    }
    return this;
  }

  private static String normalise(String hostname) {
    String h = Objects.requireNonNull(hostname, "hostname").toLowerCase(Locale.ROOT);
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  @Override
  public String toString() {
    return "FakeDnsProvider" + records();
  }
}
