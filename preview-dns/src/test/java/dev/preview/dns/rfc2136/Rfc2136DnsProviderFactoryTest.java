package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Rfc2136DnsProviderFactoryTest {
  @Test
  void isDiscoveredByName() {
    assertThat(ServiceLoader.load(DnsProvider.Factory.class).stream().map(p -> p.get().name()))
        .contains("rfc2136", "cloudflare", "route53", "none");
  }

  @Test
  void reportsEveryProblemAtOnceWithoutShowingTheSecret() {
    Map<String, Object> m = Map.of("port", 70000, "transport", "carrier-pigeon", "tsigSecret", "s3cr3t-value",
        "adoptt", true);
    assertThatThrownBy(() -> new Rfc2136DnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", m))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("dns.server: is required")
        .hasMessageContaining("dns.zone: is required")
        .hasMessageContaining("dns.port: must be 1-65535")
        .hasMessageContaining("dns.transport: must be one of tcp, udp")
        .hasMessageContaining("dns.tsigKeyName: is required when tsigSecret is set")
        .hasMessageContaining("dns.adoptt: unknown key")
        .hasMessageNotContaining("s3cr3t-value");
  }

  @Test
  void readsABindKeyFile(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("tsig.key");
    Files.writeString(key, "key \"preview-key.\" {\n\talgorithm hmac-sha512;\n\tsecret \"c2VjcmV0\";\n};\n");
    DnsProvider p = new Rfc2136DnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns",
        Map.of("server", "127.0.0.1", "zone", "preview.test.", "tsigKeyFile", key.toString()))));
    assertThat(p.toString()).contains("zone=preview.test,").contains("key=preview-key.").doesNotContain("c2VjcmV0");
  }

  @Test
  void aKeyFileWithoutAKeyIsAConfigProblem(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("empty.key");
    Files.writeString(key, "# nothing here\n");
    assertThatThrownBy(() -> new Rfc2136DnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns",
        Map.of("server", "127.0.0.1", "zone", "preview.test", "tsigKeyFile", key.toString())))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("dns.tsigKeyFile: " + key + " holds no key")
        .hasMessageContaining("tsig-keygen");
  }

  @Test
  void aSecretThatIsNotBase64IsAConfigProblemNotACrash() {
    for (String bad : java.util.List.of("placeholder-tsig_secret", "not base64!", "")) {
      Map<String, Object> m = Map.of("server", "127.0.0.1", "zone", "preview.test", "tsigKeyName", "preview-key.",
          "tsigSecret", bad);
      assertThatThrownBy(() -> new Rfc2136DnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", m))))
          .as("secret \"%s\"", bad)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("dns.tsigSecret")
          .satisfies(e -> {
            if (!bad.isEmpty()) {
              assertThat(e.getMessage()).doesNotContain(bad);
            }
          });
    }
  }
}
