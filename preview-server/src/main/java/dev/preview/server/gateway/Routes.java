package dev.preview.server.gateway;

import dev.preview.spi.Environment;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Which preview answers a request: a snapshot of the provider's {@code list()}, indexed by the
 * hostname and the path prefix each preview is reached on. Replaced whole on every refresh (reads
 * never lock); one environment can be updated in place after a wake. Only environments with a URL
 * (or asleep: woken before anything is sent) are routed; an unknown host or prefix finds nothing,
 * never another preview.
 */
final class Routes {
  /** One routed preview: its environment as last listed, and where it is reached. */
  record Route(PreviewKey key, Environment environment, @Nullable String host, @Nullable String prefix) {
    Route with(Environment e) {
      return new Route(key, e, host, prefix);
    }
  }

  private record Snapshot(Map<String, Route> byHost, Map<String, Route> byPrefix, Map<PreviewKey, Route> byKey) {}

  private final Function<PreviewKey, Optional<String>> hostnames;
  private final @Nullable String prefixTemplate;
  private final int prefixSegments;
  private volatile Snapshot current = new Snapshot(Map.of(), Map.of(), Map.of());

  Routes(Function<PreviewKey, Optional<String>> hostnames, @Nullable String prefixTemplate) {
    this.hostnames = hostnames;
    this.prefixTemplate = prefixTemplate;
    this.prefixSegments = prefixTemplate == null ? 0 : (int) prefixTemplate.chars().filter(ch -> ch == '/').count() - 1;
  }

  /** The hostname {@code key} is routed by, lower case; empty without a hostname rule. */
  Optional<String> host(PreviewKey key) {
    return hostnames.apply(key).map(h -> h.toLowerCase(Locale.ROOT));
  }

  /** The path prefix {@code key} is routed by ({@code /pr/42/}); empty without path routing. */
  Optional<String> prefix(PreviewKey key) {
    if (prefixTemplate == null) {
      return Optional.empty();
    }
    String number = key.isPullRequest() ? Integer.toString(key.number()) : Names.dnsLabel(key);
    return Optional.of(prefixTemplate.replace("{number}", number).replace("{name}", Names.dnsLabel(key))
        .replace("{repo}", slug(key.repositoryName())).replace("{owner}", slug(key.owner())).replace("{hash}", Names.hash(key)));
  }

  private static String slug(String s) {
    String c = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-");
    return c.isEmpty() ? "x" : c;
  }

  /**
   * {@code e} with the URL the gateway sends its requests to: the in-cluster service URL when the
   * provider gives one ({@link dev.preview.spi.Labels#SERVICE_URL}: the public URL of a Kubernetes
   * Ingress leads back through the gateway), else its own URL.
   */
  static Environment upstream(Environment e) {
    String service = e.labels().get(dev.preview.spi.Labels.SERVICE_URL);
    if (service == null || service.isBlank() || e.url() == null) {
      return e;
    }
    try {
      java.net.URI u = java.net.URI.create(service.endsWith("/") ? service : service + "/");
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
        return e;
      }
      return new Environment(e.key(), e.revision(), u, e.phase(), e.labels());
    } catch (IllegalArgumentException bad) {
      return e;
    }
  }

  void replace(List<Environment> environments) {
    Map<String, Route> byHost = new HashMap<>();
    Map<String, Route> byPrefix = new HashMap<>();
    Map<PreviewKey, Route> byKey = new HashMap<>();
    for (Environment e : environments) {
      if (e.url() == null && e.phase() != Environment.Phase.SUSPENDED) {
        continue; // nowhere to send it; a sleeping one (a stopped container has no port) is woken first
      }
      Route r = new Route(e.key(), upstream(e), host(e.key()).orElse(null), prefix(e.key()).orElse(null));
      byKey.put(e.key(), r);
      if (r.host() != null) {
        byHost.put(r.host(), r);
      }
      if (r.prefix() != null) {
        byPrefix.put(r.prefix(), r);
      }
    }
    current = new Snapshot(Map.copyOf(byHost), Map.copyOf(byPrefix), Map.copyOf(byKey));
  }

  /** Puts one environment as now observed (after a wake), keeping the rest. */
  synchronized void update(Environment e) {
    Snapshot s = current;
    Route old = s.byKey().get(e.key());
    if (old == null || e.url() == null) {
      return;
    }
    Route r = old.with(upstream(e));
    Map<String, Route> byHost = new HashMap<>(s.byHost());
    Map<String, Route> byPrefix = new HashMap<>(s.byPrefix());
    Map<PreviewKey, Route> byKey = new HashMap<>(s.byKey());
    byKey.put(e.key(), r);
    if (r.host() != null) {
      byHost.put(r.host(), r);
    }
    if (r.prefix() != null) {
      byPrefix.put(r.prefix(), r);
    }
    current = new Snapshot(Map.copyOf(byHost), Map.copyOf(byPrefix), Map.copyOf(byKey));
  }

  Optional<Route> byKey(PreviewKey key) {
    return Optional.ofNullable(current.byKey().get(key));
  }

  int size() {
    return current.byKey().size();
  }

  /** The route of a request to {@code host} (no port) and {@code path}: by host first, then by path prefix. */
  Optional<Route> find(@Nullable String host, String path) {
    Snapshot s = current;
    if (host != null) {
      Route r = s.byHost().get(host.toLowerCase(Locale.ROOT));
      if (r != null) {
        return Optional.of(r);
      }
    }
    if (prefixSegments <= 0) {
      return Optional.empty();
    }
    String p = prefixOf(path, prefixSegments);
    return p == null ? Optional.empty() : Optional.ofNullable(s.byPrefix().get(p));
  }

  /** The first {@code n} segments of {@code path} with both slashes ({@code /pr/42/}); the bare {@code /pr/42} too. */
  static @Nullable String prefixOf(String path, int n) {
    if (path == null || !path.startsWith("/")) {
      return null;
    }
    int at = 0;
    for (int i = 0; i < n; i++) {
      int next = path.indexOf('/', at + 1);
      if (next < 0) {
        return i == n - 1 && path.length() > at + 1 ? path + "/" : null;
      }
      at = next;
    }
    return path.substring(0, at + 1);
  }
}
