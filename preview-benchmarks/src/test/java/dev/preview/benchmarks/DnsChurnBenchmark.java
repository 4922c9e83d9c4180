package dev.preview.benchmarks;

import dev.preview.dns.rfc2136.Rfc2136DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import dev.preview.testkit.Servers;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * DNS churn on the BIND9 of {@code .ci/servers/bind9.sh}: each record created with its ownership
 * TXT, then deleted, through the rfc2136 provider (one UPDATE per change, record and mark together,
 * with the ownership prerequisite) vs {@code nsupdate} sending the same A + TXT changes as one
 * message per change with the same TSIG key (no prerequisite: the floor), over TCP ({@code -v}) and
 * over UDP (both sides alike). Records per second, higher is better.
 */
final class DnsChurnBenchmark {
  static final String HOST = "127.0.0.1";
  static final int PORT = 5353;
  static final String ZONE = "preview.test";

  private DnsChurnBenchmark() {}

  static Path keyFile() {
    return Path.of(System.getenv().getOrDefault("PREVIEW_BIND_DIR", "/tmp/preview-bind"), "tsig.key");
  }

  static void require() {
    boolean up = Files.isReadable(keyFile());
    if (up) {
      try {
        SimpleResolver r = new SimpleResolver(new InetSocketAddress(HOST, PORT));
        r.setTimeout(Duration.ofSeconds(2));
        up = r.send(Message.newQuery(Record.newRecord(Name.fromString(ZONE + "."), Type.SOA, DClass.IN))).getRcode() == Rcode.NOERROR;
      } catch (Exception e) {
        up = false;
      }
    }
    Servers.require("BIND9 on " + HOST + ":" + PORT + " serving " + ZONE + " (key " + keyFile() + ")", up, "bash .ci/servers/bind9.sh");
  }

  static Rfc2136DnsProvider provider(boolean tcp) throws Exception {
    String text = Files.readString(keyFile());
    Matcher name = Pattern.compile("key \"([^\"]+)\"").matcher(text);
    Matcher secret = Pattern.compile("secret \"([^\"]+)\"").matcher(text);
    Matcher alg = Pattern.compile("algorithm ([a-z0-9-]+);").matcher(text);
    if (!name.find() || !secret.find() || !alg.find()) {
      throw new IllegalStateException("cannot read " + keyFile());
    }
    return Rfc2136DnsProvider.builder().server(HOST).port(PORT).zone(ZONE)
        .tsig(name.group(1), alg.group(1), Secret.of(secret.group(1))).tcp(tcp).timeout(Duration.ofSeconds(5)).build();
  }

  static void run(Scale scale, Report report) throws Exception {
    require();
    int records = scale.n(100, 10);
    for (boolean tcp : new boolean[] {true, false}) {
      Rfc2136DnsProvider dns = provider(tcp);
      long[] messages = new long[1];
      long[] connections = new long[1];
      Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
      arms.put("provider", () -> {
        long m0 = dns.messagesSent();
        long c0 = dns.tcpConnectionsOpened();
        double rate = churnProvider(dns, records);
        messages[0] = dns.messagesSent() - m0;
        connections[0] = dns.tcpConnectionsOpened() - c0;
        return rate;
      });
      arms.put("nsupdate", () -> churnNsupdate(records, tcp));
      Map<String, List<Double>> r = Interleaved.run(scale.warmup(), scale.rounds(), arms);
      String transport = tcp ? "TCP" : "UDP";
      report.add(new Report.Figure("DNS churn on BIND9 (create A + ownership TXT, then delete)", records + " records, " + transport,
          "records/s", true, "rfc2136 provider", r.get("provider"), "nsupdate" + (tcp ? " -v" : ""), r.get("nsupdate"), ">= 0.8x"));
      report.note("DNS churn on BIND9", transport + ": the provider sent " + messages[0] + " UPDATE messages for " + records
          + " records (" + (double) messages[0] / records + " per record, as nsupdate's 2: one per create, one per delete)"
          + (tcp ? ", opening " + connections[0] + " TCP connection(s) in the last round (" + dns.tcpConnectionsOpened()
              + " in all rounds: the connection is kept; nsupdate -v opens one per message)." : "."));
    }
  }

  private static double churnProvider(Rfc2136DnsProvider dns, int n) {
    String run = UUID.randomUUID().toString().substring(0, 6);
    List<DnsRecord> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(new DnsRecord("churn-" + run + "-" + i + "." + ZONE, DnsRecord.Type.A, "192.0.2." + (i % 250 + 1), 60,
          PreviewKey.pr("churn-" + run + "/app", i + 1)));
    }
    long t0 = System.nanoTime();
    all.forEach(dns::upsert);
    all.forEach(r -> dns.delete(r.hostname(), r.owner()));
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  private static double churnNsupdate(int n, boolean tcp) throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 6);
    StringBuilder script = new StringBuilder("server " + HOST + " " + PORT + "\nzone " + ZONE + "\n");
    for (int i = 0; i < n; i++) {
      String h = "ns-" + run + "-" + i + "." + ZONE;
      script.append("update add ").append(h).append(" 60 A 192.0.2.").append(i % 250 + 1).append('\n')
          .append("update add _preview.").append(h).append(" 60 TXT \"heritage=preview,preview.dev/key=ns/app#")
          .append(i + 1).append(",preview.dev/instance=default\"\nsend\n");
    }
    for (int i = 0; i < n; i++) {
      String h = "ns-" + run + "-" + i + "." + ZONE;
      script.append("update delete ").append(h).append(" A\nupdate delete _preview.").append(h).append(" TXT\nsend\n");
    }
    Path in = Files.createTempFile("nsupdate", ".txt");
    Files.writeString(in, script, StandardCharsets.UTF_8);
    List<String> cmd = new ArrayList<>(List.of("nsupdate"));
    if (tcp) {
      cmd.add("-v");
    }
    cmd.addAll(List.of("-k", keyFile().toString(), in.toString()));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("nsupdate failed: " + out);
    }
    double s = (System.nanoTime() - t0) / 1e9;
    Files.deleteIfExists(in);
    return n / s;
  }
}
