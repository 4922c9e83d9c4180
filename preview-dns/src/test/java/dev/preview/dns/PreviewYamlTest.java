package dev.preview.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.dns.cloudflare.CloudflareDnsProvider;
import dev.preview.dns.none.NoneDnsProvider;
import dev.preview.dns.route53.Route53DnsProvider;
import dev.preview.dns.rfc2136.Rfc2136DnsProvider;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsProvider;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's preview.yaml examples build the right provider through the registry (ServiceLoader). */
class PreviewYamlTest {
  static DnsProvider dns(String section, Map<String, String> env) {
    PreviewConfig config = PreviewConfig.parse("app:\n  image: shop:1\n  hostname: \"pr-{number}.preview.example.com\"\n"
        + "policy: {repositories: [acme/shop]}\n" + section,
        env::get, "preview.yaml");
    try (ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry())) {
      return providers.dns().orElseThrow();
    }
  }

  @Test
  void rfc2136() {
    DnsProvider p = dns("""
        dns:
          provider: rfc2136
          server: 127.0.0.1
          port: 5353
          zone: preview.example.com
          tsigKeyName: preview-key.
          tsigSecret: ${TSIG_SECRET}
          target: 203.0.113.7
        """, Map.of("TSIG_SECRET", "c2VjcmV0"));
    assertThat(p).isInstanceOf(Rfc2136DnsProvider.class);
    assertThat(p.toString()).contains("zone=preview.example.com").doesNotContain("c2VjcmV0");
  }

  @Test
  void cloudflare() {
    assertThat(dns("""
        dns:
          provider: cloudflare
          apiToken: ${CLOUDFLARE_API_TOKEN}
          zone: example.com
          proxied: false
          ttl: 1
          target: ingress.example.net
        """, Map.of("CLOUDFLARE_API_TOKEN", "t0ken"))).isInstanceOf(CloudflareDnsProvider.class);
  }

  @Test
  void route53() {
    assertThat(dns("""
        dns:
          provider: route53
          zone: preview.example.com
          hostedZoneId: Z1D633PJN98FT9
          waitForSync: true
          accessKeyId: AKIDEXAMPLE
          secretAccessKey: ${AWS_SECRET}
          target: 203.0.113.7
        """, Map.of("AWS_SECRET", "s3cret"))).isInstanceOf(Route53DnsProvider.class);
  }

  @Test
  void none() {
    assertThat(dns("dns: none\n", Map.of())).isInstanceOf(NoneDnsProvider.class);
  }

  @Test
  void aTypoIsReportedWithItsPath() {
    assertThatThrownBy(() -> dns("""
        dns:
          provider: rfc2136
          server: 127.0.0.1
          zone: preview.example.com
          adpot: true
        """, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("dns.adpot: unknown key");
  }

  @Test
  void oldKeysAreReportedOnceEachWithEveryOtherProblem() {
    assertThatThrownBy(() -> dns("""
        dns:
          provider: cloudflare
          api-token: ${CLOUDFLARE_API_TOKEN}
          max-comment-length: 500
          zone: example.com
          ttl: 30
        """, Map.of("CLOUDFLARE_API_TOKEN", "t0ken-value")))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
            .containsOnlyOnce("dns.api-token: renamed to apiToken")
            .containsOnlyOnce("dns.max-comment-length: renamed to maxCommentLength")
            .containsOnlyOnce("dns.ttl: Cloudflare accepts 1 (automatic) or 60-86400 seconds (set ttl: 1 for automatic,"
                + " or at least 60), got 30")
            .noneMatch(p -> p.contains("unknown key") || p.contains("dns.apiToken")))
        .hasMessageNotContaining("t0ken-value");
    // the assembly reports dns.instance itself (before any factory runs), once
    assertThatThrownBy(() -> dns("""
        dns:
          provider: none
          instance: ci
        """, Map.of()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "dns.instance: the instance is set once, at the top level of the file (instance: ci); remove it here"));
  }
}
