package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/** Against the real BIND9 of {@code .ci/servers/bind9.sh}, checked with plain DNS queries. */
class Rfc2136DnsProviderIT {
  private final PreviewKey key = PreviewKey.pr("acme/shop-" + UUID.randomUUID().toString().substring(0, 6), 42);
  private Rfc2136DnsProvider dns;

  @BeforeEach
  void setUp() {
    Bind9.require();
    dns = Bind9.provider(Map.of());
  }

  @Test
  void upsertMakesTheNameResolveAndMarksItsOwner() {
    String host = Bind9.freshHost("pr");
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));

    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.10");
    assertThat(Bind9.answers("_preview." + host, Type.TXT))
        .containsExactly("heritage=preview,preview.dev/key=" + key.repository() + "#42,preview.dev/instance=default");
    assertThat(dns.list()).contains(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    dns.delete(host);
  }

  @Test
  void aBranchOf250CharactersGetsItsRecordAndAMarkSplitOverSeveralStrings() {
    PreviewKey branch = PreviewKey.branch(key.repository(), "feature/" + "x".repeat(242));
    // the hostname rule gives a valid name whatever the branch
    String host = dev.preview.core.AppTemplate.builder().image("x").hostnameTemplate("{branch}." + Bind9.ZONE).build()
        .hostname(branch);

    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.12", 60, branch));

    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.12");
    org.xbill.DNS.TXTRecord txt = (org.xbill.DNS.TXTRecord) Bind9.query("_preview." + host, Type.TXT)
        .getSection(org.xbill.DNS.Section.ANSWER).get(0);
    assertThat(txt.getStrings()).hasSizeGreaterThan(1).allMatch(s -> s.length() <= 255);
    assertThat(String.join("", txt.getStrings())).contains(branch.branch());
    assertThat(dns.list()).contains(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.12", 60, branch));
    dns.delete(host);
    assertThat(Bind9.answers(host, Type.A)).isEmpty();
    assertThat(Bind9.answers("_preview." + host, Type.TXT)).isEmpty();
  }

  @Test
  void upsertAgainReplacesValueTtlAndType() {
    String host = Bind9.freshHost("pr");
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.11", 120, key));
    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.11");
    assertThat(Bind9.query(host, Type.A).getSection(org.xbill.DNS.Section.ANSWER).get(0).getTTL()).isEqualTo(120);

    dns.upsert(new DnsRecord(host, DnsRecord.Type.CNAME, "ingress.example.net", 60, key));
    assertThat(Bind9.answers(host, Type.CNAME)).containsExactly("ingress.example.net.");
    assertThat(Bind9.answers(host, Type.A)).isEmpty();
    assertThat(dns.list()).filteredOn(r -> r.hostname().equals(host))
        .containsExactly(new DnsRecord(host, DnsRecord.Type.CNAME, "ingress.example.net", 60, key));
    dns.delete(host);
  }

  @Test
  void theInstallationsTtlFromPreviewYamlIsWhatTheZoneGets() {
    String host = Bind9.freshHost("ttl");
    Map<String, Object> section = Bind9.config();
    StringBuilder yaml = new StringBuilder("app:\n  image: shop:1\n  hostname: \"pr-{number}." + Bind9.ZONE
        + "\"\npolicy: {repositories: [acme/shop]}\ndns:\n  ttl: 300\n  target: 192.0.2.10\n");
    section.forEach((k, v) -> yaml.append("  ").append(k).append(": \"").append(v).append("\"\n"));
    PreviewConfig config = PreviewConfig.parse(yaml.toString(), k -> null, "preview.yaml");
    // read once by the assembly, not by the provider's factory (which would report them as unknown)
    assertThat(config.installation().dnsTtl()).isEqualTo(300);
    try (ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry())) {
      DnsProvider fixed = providers.dns().orElseThrow();
      fixed.upsert(new DnsRecord(host, DnsRecord.Type.A, config.installation().dnsTarget().orElseThrow(),
          config.installation().dnsTtl(), key));
      assertThat(Bind9.query(host, Type.A).getSection(org.xbill.DNS.Section.ANSWER).get(0).getTTL()).isEqualTo(300);
      fixed.delete(host);
    }
  }

  @Test
  void deleteRemovesRecordAndMarkAndIsIdempotent() {
    String host = Bind9.freshHost("pr");
    dns.upsert(new DnsRecord(host, DnsRecord.Type.AAAA, "2001:db8::1", 60, key));
    assertThat(Bind9.answers(host, Type.AAAA)).containsExactly("2001:db8:0:0:0:0:0:1");
    assertThat(dns.list()).contains(new DnsRecord(host, DnsRecord.Type.AAAA, "2001:db8::1", 60, key));

    dns.delete(host);
    assertThat(Bind9.query(host, Type.AAAA).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(Bind9.query("_preview." + host, Type.TXT).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(dns.list()).noneMatch(r -> r.hostname().equals(host));
    dns.delete(host); // absent is fine
  }

  @Test
  void neverTouchesARecordItDoesNotOwn() {
    String host = Bind9.freshHost("admin");
    Bind9.addForeign(host, Type.A, "198.51.100.7");
    try {
      assertThatThrownBy(() -> dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key)))
          .isInstanceOf(ProviderException.class)
          .hasMessageContaining(host).hasMessageContaining("does not own").hasMessageContaining("A 198.51.100.7")
          .hasMessageContaining("adopt: true")
          .satisfies(e -> assertThat(((ProviderException) e).retryable()).isFalse());
      dns.delete(host);
      assertThat(Bind9.answers(host, Type.A)).containsExactly("198.51.100.7");
      assertThat(dns.list()).noneMatch(r -> r.hostname().equals(host));
    } finally {
      Bind9.deleteForeign(host);
    }
  }

  @Test
  void adoptTakesOverAnUnownedRecordWhenConfigured() {
    String host = Bind9.freshHost("adopt");
    Bind9.addForeign(host, Type.A, "198.51.100.7");
    Rfc2136DnsProvider adopting = Bind9.provider(Map.of("adopt", true));
    adopting.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.10");
    assertThat(dns.list()).contains(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    adopting.delete(host);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void aNameOwnedByAnotherPreviewIsNeverTakenEvenWithAdopt() {
    String host = Bind9.freshHost("pr");
    PreviewKey other = PreviewKey.pr(key.repository(), 7);
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.7", 60, other));

    Rfc2136DnsProvider adopting = Bind9.provider(Map.of("adopt", true));
    assertThatThrownBy(() -> adopting.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("owned by preview " + other.id());
    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.7");
    dns.delete(host);
  }

  @Test
  void anotherInstanceSeesNothingAndDeletesNothing() {
    String host = Bind9.freshHost("pr");
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    Rfc2136DnsProvider ci = Bind9.provider(Bind9.installation("ci"), Map.of());

    assertThat(ci.list()).noneMatch(r -> r.hostname().equals(host));
    ci.delete(host);
    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.10");
    assertThatThrownBy(() -> ci.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.11", 60, key)))
        .hasMessageContaining("another preview installation").hasMessageContaining("instance \"ci\"");
    dns.delete(host);
  }

  @Test
  void aMarkOfOursWrittenDifferentlyIsRecognisedAndRewritten() {
    String host = Bind9.freshHost("old");
    // the same owner, encoded differently (as an older version or another tool might write it)
    Bind9.addForeign("_preview." + host, Type.TXT,
        "\"heritage=preview,preview.dev/key=" + key.repository().replace("/", "%2F") + "#42,preview.dev/instance=%64efault\"");
    Bind9.addForeign(host, Type.A, "192.0.2.9");

    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));

    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.10");
    assertThat(Bind9.answers("_preview." + host, Type.TXT))
        .containsExactly("heritage=preview,preview.dev/key=" + key.repository() + "#42,preview.dev/instance=default");
    dns.delete(host);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void aLegacyMarkWithoutInstanceIsNobodysEvenTheDefaultInstallations() {
    String host = Bind9.freshHost("legacy");
    String legacy = "heritage=preview,preview.dev/key=" + key.repository() + "#42";
    Bind9.addForeign("_preview." + host, Type.TXT, "\"" + legacy + "\"");
    Bind9.addForeign(host, Type.A, "192.0.2.9");
    try {
      Rfc2136DnsProvider adopting = Bind9.provider(Map.of("adopt", true));
      for (Rfc2136DnsProvider p : List.of(dns, adopting, Bind9.provider(Bind9.installation("ci"), Map.of()))) {
        assertThat(p.list()).noneMatch(r -> r.hostname().equals(host));
        p.delete(host);
        assertThatThrownBy(() -> p.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key)))
            .isInstanceOf(ProviderException.class)
            .hasMessageContaining("earlier version of preview that wrote no instance")
            .hasMessageContaining("the TXT record _preview." + host);
      }
      assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.9");
      assertThat(Bind9.transferredTxt("_preview." + host)).containsExactly(legacy);
    } finally {
      Bind9.deleteForeign(host);
      Bind9.deleteForeign("_preview." + host);
    }
  }

  @Test
  void aWrongTsigSecretIsRejectedWithAClearError() {
    Map<String, Object> m = Bind9.config();
    m.remove("tsigKeyFile");
    m.put("tsigKeyName", "preview-key.");
    m.put("tsigAlgorithm", "hmac-sha256");
    m.put("tsigSecret", "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1yaWdodC1vbmUtMzI=");
    Rfc2136DnsProvider w =
        (Rfc2136DnsProvider) new Rfc2136DnsProvider.Factory().create(ProviderContext.of(dev.preview.spi.ProviderConfig.of("dns", m)));
    String host = Bind9.freshHost("pr");

    assertThatThrownBy(() -> w.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("rejected the TSIG key \"preview-key.\"")
        .hasMessageContaining("BADSIG")
        .hasMessageNotContaining("c2VjcmV0")
        .satisfies(e -> assertThat(((ProviderException) e).retryable()).isFalse());
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void anUnknownTsigKeyNameIsRejectedWithAClearError() {
    Map<String, Object> m = Bind9.config();
    m.remove("tsigKeyFile");
    m.put("tsigKeyName", "nobody-knows-me.");
    m.put("tsigSecret", "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1yaWdodC1vbmUtMzI=");
    Rfc2136DnsProvider wrong =
        (Rfc2136DnsProvider) new Rfc2136DnsProvider.Factory().create(ProviderContext.of(dev.preview.spi.ProviderConfig.of("dns", m)));

    String host = Bind9.freshHost("pr");
    assertThatThrownBy(() -> wrong.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("rejected the TSIG key \"nobody-knows-me.\"")
        .hasMessageContaining("BADKEY");
    assertThatThrownBy(wrong::list)
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("zone transfer (AXFR) of preview.test")
        .hasMessageContaining("allow-transfer { key \"nobody-knows-me.\"; }");
  }

  @Test
  void listReadsTheServerNotMemory() {
    String host = Bind9.freshHost("pr");
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    Rfc2136DnsProvider restarted = Bind9.provider(Map.of());
    List<DnsRecord> found = restarted.list();
    assertThat(found).contains(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.10", 60, key));
    restarted.delete(host);
    assertThat(dns.list()).noneMatch(r -> r.hostname().equals(host));
  }
}
