package dev.preview.dns.rfc2136;

import dev.preview.spi.Installation;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * The BIND9 that {@code .ci/servers/bind9.sh} starts: 127.0.0.1:5353, zone {@code preview.test}, TSIG
 * key file at {@code $PREVIEW_BIND_DIR/tsig.key} (default {@code /tmp/preview-bind/tsig.key}).
 */
final class Bind9 {
  static final String HOST = "127.0.0.1";
  static final int PORT = 5353;
  static final String ZONE = "preview.test";

  private Bind9() {}

  static Path keyFile() {
    String dir = System.getenv().getOrDefault("PREVIEW_BIND_DIR", "/tmp/preview-bind");
    return Path.of(dir, "tsig.key");
  }

  /** Fails (CI) or skips (locally) unless BIND9 answers for the zone and its key file is there. */
  static void require() {
    boolean up = Files.isReadable(keyFile());
    if (up) {
      try {
        up = query(ZONE, Type.SOA).getRcode() == Rcode.NOERROR;
      } catch (RuntimeException e) {
        up = false;
      }
    }
    Servers.require("BIND9 on " + HOST + ":" + PORT + " serving " + ZONE + " (key " + keyFile() + ")", up,
        "bash .ci/servers/bind9.sh");
  }

  /** The {@code transport} of {@link #config()}: {@code tcp} (the default), or {@code udp} while a UDP suite runs. */
  static volatile String transport = "tcp";

  /** The provider config for this server, as preview.yaml would hold it. */
  static Map<String, Object> config() {
    Map<String, Object> m = new HashMap<>();
    m.put("provider", "rfc2136");
    m.put("transport", transport);
    m.put("server", HOST);
    m.put("port", PORT);
    m.put("zone", ZONE);
    m.put("tsigKeyFile", keyFile().toString());
    m.put("timeout", "3s");
    return m;
  }

  static Rfc2136DnsProvider provider(Map<String, Object> overrides) {
    return provider(Installation.defaults(), overrides);
  }

  /** A provider of {@code installation}, built by the factory as preview.yaml would. */
  static Rfc2136DnsProvider provider(Installation installation, Map<String, Object> overrides) {
    Map<String, Object> m = config();
    m.putAll(overrides);
    return (Rfc2136DnsProvider) new Rfc2136DnsProvider.Factory()
        .create(ProviderContext.of(ProviderConfig.of("dns", m), installation));
  }

  /** An installation named {@code instance}, otherwise the defaults. */
  static Installation installation(String instance) {
    return Installation.builder().instance(instance).build();
  }

  /** The TXT strings at {@code name} read by a TSIG-signed AXFR of the zone (what is really there). */
  static List<String> transferredTxt(String name) {
    try {
      org.xbill.DNS.ZoneTransferIn xfr = org.xbill.DNS.ZoneTransferIn.newAXFR(Name.fromString(ZONE, Name.root),
          new InetSocketAddress(HOST, PORT), tsig());
      xfr.setTimeout(Duration.ofSeconds(5));
      xfr.run();
      Name n = Name.fromString(name, Name.root);
      List<String> out = new ArrayList<>();
      for (Record r : xfr.getAXFR()) {
        if (r.getName().equals(n) && r instanceof org.xbill.DNS.TXTRecord t) {
          out.add(String.join("", t.getStrings()));
        }
      }
      return out;
    } catch (IOException | org.xbill.DNS.ZoneTransferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A fresh hostname under the zone. */
  static String freshHost(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8) + "." + ZONE;
  }

  /** A plain (unsigned, UDP) query, as any resolver would send it. */
  static Message query(String name, int type) {
    try {
      SimpleResolver r = new SimpleResolver(new InetSocketAddress(HOST, PORT));
      r.setTimeout(Duration.ofSeconds(2));
      return r.send(Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, DClass.IN)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The rdata of the answers of {@code type} at {@code name}; empty for NXDOMAIN/NODATA. */
  static List<String> answers(String name, int type) {
    List<String> out = new ArrayList<>();
    for (Record r : query(name, type).getSection(Section.ANSWER)) {
      if (r.getType() == type) {
        out.add(r.rdataToString());
      }
    }
    return out;
  }

  /** Writes a record directly, as an administrator would, outside preview's ownership. */
  static void addForeign(String name, int type, String rdata) {
    try {
      Update u = new Update(Name.fromString(ZONE, Name.root));
      u.add(Name.fromString(name, Name.root), type, 60, rdata);
      Message resp = admin().send(u);
      if (resp.getRcode() != Rcode.NOERROR) {
        throw new IllegalStateException("foreign update failed: " + Rcode.string(resp.getRcode()));
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void deleteForeign(String name) {
    try {
      Update u = new Update(Name.fromString(ZONE, Name.root));
      u.delete(Name.fromString(name, Name.root));
      admin().send(u);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A TCP resolver signing with the server's TSIG key, read from its key file. */
  private static SimpleResolver admin() throws IOException {
    SimpleResolver r = new SimpleResolver(new InetSocketAddress(HOST, PORT));
    r.setTCP(true);
    r.setTSIGKey(tsig());
    return r;
  }

  private static TSIG tsig() throws IOException {
    String key = Files.readString(keyFile());
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("secret \"([^\"]+)\"").matcher(key);
    m.find();
    return new TSIG(TSIG.HMAC_SHA256, Name.fromString("preview-key."), m.group(1));
  }
}
