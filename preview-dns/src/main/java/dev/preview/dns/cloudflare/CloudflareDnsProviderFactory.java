package dev.preview.dns.cloudflare;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.Optional;

/** Creates {@link CloudflareDnsProvider}s from {@code dns: {provider: cloudflare, ...}}. */
public final class CloudflareDnsProviderFactory implements DnsProvider.Factory {
  @Override
  public String name() {
    return "cloudflare";
  }

  @Override
  public DnsProvider create(ProviderContext context) {
    ProviderConfig config = context.config();
    // provider: read by the registry; target: read by the orchestrator (where hostnames point)
    config.ignore("provider", "target");
    Secret token = config.requiredSecret("api-token");
    String zone = config.requiredString("zone");
    Optional<String> zoneId = config.string("zone-id");
    boolean proxied = config.bool("proxied", false);
    Integer ttl = null;
    if (config.has("ttl")) {
      String t = config.string("ttl", "");
      if ("auto".equalsIgnoreCase(t.trim())) {
        ttl = 1;
      } else {
        ttl = config.integer("ttl", 1, 1, 86400);
      }
    }
    CloudflareDnsProvider.Builder b = CloudflareDnsProvider.builder()
        .apiToken(token)
        .zone(zone)
        .zoneId(zoneId.orElse(null))
        .proxied(proxied)
        .ttl(ttl)
        .adopt(config.bool("adopt", false))
        .instance(config.string("instance").orElse(null))
        .apiUrl(config.string("api-url", CloudflareDnsProvider.DEFAULT_API_URL))
        .timeout(config.duration("timeout", Duration.ofSeconds(30)))
        .retries(config.integer("max-retries", 5, 0, 20), config.duration("retry-base-delay", Duration.ofSeconds(1)),
            config.duration("max-retry-wait", Duration.ofSeconds(60)))
        .maxCommentLength(config.integer("max-comment-length", 100, 40, 500));
    config.validate();
    return b.build();
  }
}
