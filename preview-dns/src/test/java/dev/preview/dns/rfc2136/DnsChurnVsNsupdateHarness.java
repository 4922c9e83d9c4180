package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * A measurement, not a test of speed: DNS churn (each record created with its ownership TXT, then
 * deleted) through the rfc2136 provider vs {@code nsupdate} sending the same A + TXT changes, one
 * UPDATE message per change, over TCP with the same TSIG key, in the same run, interleaved. Opt-in:
 *
 * <pre>
 * bash .ci/servers/bind9.sh
 * mvn -B -q -pl preview-dns -am verify -Dtest=none -Dit.test=DnsChurnVsNsupdateHarness \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false -Dpreview.benchmark=true
 * cat preview-dns/target/dns-churn.txt
 * </pre>
 */
class DnsChurnVsNsupdateHarness {
  @Test
  void churnAgainstNsupdate() throws Exception {
    assumeTrue(Boolean.getBoolean("preview.benchmark"), "opt-in: -Dpreview.benchmark=true");
    Bind9.require();
    int records = Integer.getInteger("harness.records", 200);
    int rounds = Integer.getInteger("harness.rounds", 5);
    Rfc2136DnsProvider dns = Bind9.provider(Map.of());
    List<Double> ours = new ArrayList<>();
    List<Double> floor = new ArrayList<>();
    long messages = 0;
    // warm-up of both
    churnOurs(dns, 20);
    churnNsupdate(20);
    for (int round = 0; round < rounds; round++) {
      long m0 = dns.messagesSent();
      ours.add(churnOurs(dns, records));
      messages = dns.messagesSent() - m0;
      floor.add(churnNsupdate(records));
    }
    double a = median(ours);
    double b = median(floor);
    String report = String.format("DNS churn on BIND9 (%d records per round, create A+TXT then delete, %d rounds,"
            + " interleaved, TCP, TSIG)%n  rfc2136 provider: median %.0f records/s (min %.0f), %.1f UPDATE messages per record%n"
            + "  nsupdate (floor): median %.0f records/s (min %.0f), 2 UPDATE messages per record%n"
            + "  ratio provider/nsupdate: %.2fx%n",
        records, rounds, a, ours.stream().mapToDouble(d -> d).min().orElse(0), (double) messages / records,
        b, floor.stream().mapToDouble(d -> d).min().orElse(0), a / b);
    System.out.print(report);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "dns-churn.txt"), report);
    assertThat(messages).isEqualTo(2L * records);
  }

  /** Records/s of create + delete through the provider. */
  private static double churnOurs(Rfc2136DnsProvider dns, int n) {
    String run = UUID.randomUUID().toString().substring(0, 6);
    List<DnsRecord> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(new DnsRecord("churn-" + run + "-" + i + "." + Bind9.ZONE, DnsRecord.Type.A, "192.0.2." + (i % 250 + 1), 60,
          PreviewKey.pr("churn-" + run + "/app", i + 1)));
    }
    long t0 = System.nanoTime();
    all.forEach(dns::upsert);
    all.forEach(r -> dns.delete(r.hostname(), r.owner()));
    double s = (System.nanoTime() - t0) / 1e9;
    assertThat(Bind9.query(all.get(0).hostname(), Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    return n / s;
  }

  /** Records/s of the same changes sent by one nsupdate process, one message per change. */
  private static double churnNsupdate(int n) throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 6);
    StringBuilder script = new StringBuilder("server " + Bind9.HOST + " " + Bind9.PORT + "\nzone " + Bind9.ZONE + "\n");
    for (int i = 0; i < n; i++) {
      String h = "ns-" + run + "-" + i + "." + Bind9.ZONE;
      script.append("update add ").append(h).append(" 60 A 192.0.2.").append(i % 250 + 1).append('\n')
          .append("update add _preview.").append(h).append(" 60 TXT \"heritage=preview,preview.dev/key=ns/app#")
          .append(i + 1).append("\"\nsend\n");
    }
    for (int i = 0; i < n; i++) {
      String h = "ns-" + run + "-" + i + "." + Bind9.ZONE;
      script.append("update delete ").append(h).append(" A\nupdate delete _preview.").append(h).append(" TXT\nsend\n");
    }
    Path in = Files.createTempFile("nsupdate", ".txt");
    Files.writeString(in, script, StandardCharsets.UTF_8);
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder("nsupdate", "-v", "-k", Bind9.keyFile().toString(), in.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    double s = (System.nanoTime() - t0) / 1e9;
    Files.deleteIfExists(in);
    assertThat(p.exitValue()).as(out).isZero();
    return n / s;
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(Double::compare);
    return s.get(s.size() / 2);
  }
}
