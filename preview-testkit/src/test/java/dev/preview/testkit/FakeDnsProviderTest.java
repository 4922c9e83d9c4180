package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import org.junit.jupiter.api.Test;

/** The fake passes the kit, plus the fake's own helpers. */
class FakeDnsProviderTest extends DnsProviderKit {
  private final FakeDnsProvider zone = new FakeDnsProvider();

  @Override
  protected DnsProvider createProvider() {
    return zone.reopen();
  }

  @Override
  protected String zone() {
    return "preview.test";
  }

  @Test
  void hostnamesAreMatchedWhateverTheirCaseOrTrailingDot() {
    PreviewKey key = key(1);
    provider().upsert(record(key, key, targetAddress()));

    assertThat(zone.record(hostname(key).toUpperCase() + ".")).isPresent();
    provider().delete(hostname(key).toUpperCase() + ".");
    assertThat(zone.records()).isEmpty();
  }

  @Test
  void plantedRecordsAreListedWithTheirOwner() {
    PreviewKey key = key(3);
    zone.plant(new DnsRecord(hostname(key), DnsRecord.Type.CNAME, "elsewhere.example.test", 300, key));

    assertThat(mine(provider())).singleElement().extracting(DnsRecord::owner).isEqualTo(key);
    assertThat(zone.records(key)).hasSize(1);
  }

  @Test
  void deleteIsTrackedUnderTheOwningKey() throws InterruptedException {
    PreviewKey key = key(1);
    provider().upsert(record(key, key, targetAddress()));
    Faults.Gate gate = zone.faults().block("dns.delete");
    Thread t = new Thread(() -> provider().delete(hostname(key)));
    t.start();
    assertThat(gate.awaitEntered(java.time.Duration.ofSeconds(5))).isTrue();
    zone.faults().run("other", "environment.apply", key, () -> {});
    gate.release();
    t.join(5000);
    assertThat(t.isAlive()).isFalse();
    assertThat(zone.faults().maxConcurrentPerKey()).isEqualTo(2);
    assertThat(zone.records()).isEmpty();
  }
}
