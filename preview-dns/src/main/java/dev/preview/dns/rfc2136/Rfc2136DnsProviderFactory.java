package dev.preview.dns.rfc2136;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Creates {@link Rfc2136DnsProvider}s from the {@code dns:} section of {@code preview.yaml}
 * ({@code provider: rfc2136}). The TSIG key comes either from {@code tsig-key-file} (a BIND key file as
 * written by {@code tsig-keygen}) or from {@code tsig-key-name}, {@code tsig-algorithm} and
 * {@code tsig-secret}.
 */
public final class Rfc2136DnsProviderFactory implements DnsProvider.Factory {
  private static final Pattern KEY_FILE = Pattern.compile(
      "key\\s+\"?([^\"\\s{]+)\"?\\s*\\{[^}]*?algorithm\\s+\"?([A-Za-z0-9-]+)\"?\\s*;[^}]*?secret\\s+\"([^\"]+)\"\\s*;",
      Pattern.DOTALL);
  private static final String[] ALGORITHMS =
      {"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"};

  @Override
  public String name() {
    return "rfc2136";
  }

  @Override
  public DnsProvider create(ProviderContext context) {
    ProviderConfig config = context.config();
    // provider: read by the registry; target: read by the orchestrator (where hostnames point)
    config.ignore("provider", "target");
    Rfc2136DnsProvider.Builder b = Rfc2136DnsProvider.builder()
        .server(config.requiredString("server"))
        .port(config.integer("port", 53, 1, 65535))
        .zone(config.requiredString("zone"))
        .tcp("tcp".equals(config.choice("transport", "tcp", "tcp", "udp")))
        .timeout(config.duration("timeout", Duration.ofSeconds(10)))
        .adopt(config.bool("adopt", false))
        .txtPrefix(config.string("txt-prefix", "_preview"))
        .instance(config.string("instance").orElse(null));
    if (config.has("ttl")) {
      b.ttl(config.integer("ttl", 60, 1, 2147483647));
    }
    Optional<String> keyFile = config.string("tsig-key-file");
    Optional<String> keyName = config.string("tsig-key-name");
    String algorithm = config.choice("tsig-algorithm", "hmac-sha256", ALGORITHMS);
    Optional<Secret> secret = config.secret("tsig-secret");
    if (keyFile.isPresent()) {
      if (keyName.isPresent() || secret.isPresent()) {
        config.problem("tsig-key-file", "set either tsig-key-file or tsig-key-name + tsig-secret, not both");
      } else {
        readKeyFile(config, keyFile.get(), b);
      }
    } else if (keyName.isPresent() != secret.isPresent()) {
      config.problem(keyName.isPresent() ? "tsig-secret" : "tsig-key-name",
          "is required when " + (keyName.isPresent() ? "tsig-key-name" : "tsig-secret") + " is set");
    } else if (keyName.isPresent()) {
      b.tsig(keyName.get(), algorithm, secret.get());
    }
    config.validate();
    return b.build();
  }

  private static void readKeyFile(ProviderConfig config, String file, Rfc2136DnsProvider.Builder b) {
    String text;
    try {
      text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      config.problem("tsig-key-file", "cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
      return;
    }
    Matcher m = KEY_FILE.matcher(text);
    if (!m.find()) {
      config.problem("tsig-key-file", file + " holds no key { algorithm ...; secret \"...\"; } block"
          + " (write one with: tsig-keygen -a hmac-sha256 preview-key.)");
      return;
    }
    b.tsig(m.group(1), m.group(2).toLowerCase(java.util.Locale.ROOT), Secret.of(m.group(3)));
  }
}
