package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * A measurement, not a test of speed: how many records per second the rfc2136 provider creates and
 * removes on the BIND9 of {@code .ci/servers/bind9.sh}. Not part of the normal build (its name does
 * not end in IT); run it with
 *
 * <pre>
 * bash .ci/servers/bind9.sh
 * mvn -B -q -pl preview-dns -am verify -Dit.test=Rfc2136ThroughputHarness -Dtest=none \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dharness.records=500 -Dharness.threads=1
 * </pre>
 *
 * It only asserts that every record resolved and was gone afterwards; it prints the rates.
 */
class Rfc2136ThroughputHarness {
  @Test
  void createAndRemoveRecords() throws Exception {
    Bind9.require();
    int records = Integer.getInteger("harness.records", 500);
    int threads = Integer.getInteger("harness.threads", 1);
    Rfc2136DnsProvider dns = Bind9.provider(Map.of());
    String run = UUID.randomUUID().toString().substring(0, 6);
    List<DnsRecord> all = new ArrayList<>();
    for (int i = 0; i < records; i++) {
      PreviewKey key = PreviewKey.pr("bench-" + run + "/app", i + 1);
      all.add(new DnsRecord("bench-" + run + "-" + i + "." + Bind9.ZONE, DnsRecord.Type.A,
          "192.0.2." + (i % 250 + 1), 60, key));
    }
    // warm up the JVM and the connection path
    DnsRecord warm = new DnsRecord("warm-" + run + "." + Bind9.ZONE, DnsRecord.Type.A, "192.0.2.1", 60,
        PreviewKey.pr("bench-" + run + "/warm", 1));
    for (int i = 0; i < 20; i++) {
      dns.upsert(warm);
    }
    dns.delete(warm.hostname());

    long m0 = dns.messagesSent();
    double createSeconds = timed(threads, all, dns::upsert);
    long m1 = dns.messagesSent();
    for (int i = 0; i < records; i += Math.max(1, records / 20)) {
      assertThat(Bind9.answers(all.get(i).hostname(), Type.A)).containsExactly(all.get(i).value());
    }
    double updateSeconds = timed(threads, all, r -> dns.upsert(new DnsRecord(r.hostname(), r.type(), "198.51.100.1",
        r.ttlSeconds(), r.owner())));
    long t0 = System.nanoTime();
    int listed = (int) dns.list().stream().filter(r -> r.hostname().startsWith("bench-" + run)).count();
    double listSeconds = (System.nanoTime() - t0) / 1e9;
    long m2 = dns.messagesSent();
    double deleteSeconds = timed(threads, all, r -> dns.delete(r.hostname()));
    long m3 = dns.messagesSent();
    for (int i = 0; i < records; i += Math.max(1, records / 20)) {
      assertThat(Bind9.query(all.get(i).hostname(), Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    }
    assertThat(listed).isEqualTo(records);

    System.out.printf("rfc2136 on BIND9, %d records, %d thread(s):%n", records, threads);
    System.out.printf("  create: %.0f records/s (%.2f ms each, %.1f messages each)%n", records / createSeconds,
        createSeconds * 1000 / records, (double) (m1 - m0) / records);
    System.out.printf("  update: %.0f records/s%n", records / updateSeconds);
    System.out.printf("  list (one AXFR of %d+ records): %.0f ms%n", records * 2, listSeconds * 1000);
    System.out.printf("  delete: %.0f records/s (%.2f ms each, %.1f messages each)%n", records / deleteSeconds,
        deleteSeconds * 1000 / records, (double) (m3 - m2) / records);
  }

  interface Op {
    void apply(DnsRecord r);
  }

  static double timed(int threads, List<DnsRecord> records, Op op) throws Exception {
    long t0 = System.nanoTime();
    if (threads <= 1) {
      records.forEach(op::apply);
    } else {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (DnsRecord r : records) {
          fs.add(pool.submit(() -> op.apply(r)));
        }
        for (Future<?> f : fs) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }
}
