package dev.preview.dns.route53;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.Optional;

/** Creates {@link Route53DnsProvider}s from {@code dns: {provider: route53, ...}}. */
public final class Route53DnsProviderFactory implements DnsProvider.Factory {
  @Override
  public String name() {
    return "route53";
  }

  @Override
  public DnsProvider create(ProviderContext context) {
    ProviderConfig config = context.config();
    // provider: read by the registry; target: read by the orchestrator (where hostnames point)
    config.ignore("provider", "target");
    Route53DnsProvider.Builder b = Route53DnsProvider.builder()
        .zone(config.requiredString("zone"))
        .hostedZoneId(config.string("hosted-zone-id").orElse(null))
        .endpoint(config.string("endpoint").orElse(null))
        .region(config.string("region", "us-east-1"))
        .adopt(config.bool("adopt", false))
        .txtPrefix(config.string("txt-prefix", "_preview"))
        .instance(config.string("instance").orElse(null))
        .waitForSync(config.bool("wait-for-sync", false), config.duration("sync-poll-interval", Duration.ofSeconds(5)),
            config.duration("sync-timeout", Duration.ofMinutes(5)))
        .timeout(config.duration("timeout", Duration.ofSeconds(30)))
        .retries(config.integer("max-attempts", 8, 1, 50), config.duration("retry-base-delay", Duration.ofMillis(100)),
            config.duration("throttle-base-delay", Duration.ofSeconds(1)),
            config.duration("max-retry-delay", Duration.ofSeconds(20)));
    if (config.has("ttl")) {
      b.ttl(config.integer("ttl", 60, 1, 2147483647));
    }
    if (config.has("private-zone")) {
      b.privateZone(config.bool("private-zone", false));
    }
    Optional<String> keyId = config.string("access-key-id");
    Optional<Secret> secret = config.secret("secret-access-key");
    Optional<Secret> session = config.secret("session-token");
    if (keyId.isPresent() != secret.isPresent()) {
      config.problem(keyId.isPresent() ? "secret-access-key" : "access-key-id",
          "is required when " + (keyId.isPresent() ? "access-key-id" : "secret-access-key") + " is set"
              + " (or leave both out to use the default credential chain)");
    } else if (keyId.isPresent()) {
      b.credentials(keyId.get(), secret.get(), session.orElse(null));
    } else if (session.isPresent()) {
      config.problem("session-token", "needs access-key-id and secret-access-key");
    }
    config.validate();
    return b.build();
  }
}
