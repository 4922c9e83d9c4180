package dev.preview.server.gateway;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.ScmNotifier;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The orchestrator's notifier behind the gateway, the way {@code RedactingNotifier} wraps it: the URL of
 * a routed preview becomes its gateway URL, and with token access the URL and the links to the same
 * address get a signed {@code preview_token} valid {@code tokenTtl} (every status published issues a new
 * one). The orchestrator is unchanged and never sees a token; {@link #published} maps the URL back, so
 * that reconcile compares what it published, not the token.
 */
final class TokenLinkNotifier implements ScmNotifier {
  private final ScmNotifier delegate;
  private final PreviewGateway gateway;
  private final @Nullable AccessTokens tokens;
  private final Duration ttl;
  private final Clock clock;
  /** What each key's URL was before it was rewritten (for {@link #published}); lost on restart: one re-publish. */
  private final Map<PreviewKey, URI> originals = new ConcurrentHashMap<>();

  TokenLinkNotifier(ScmNotifier delegate, PreviewGateway gateway, @Nullable AccessTokens tokens, Duration ttl, Clock clock) {
    this.delegate = delegate;
    this.gateway = gateway;
    this.tokens = tokens;
    this.ttl = ttl;
    this.clock = clock;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public void publish(PreviewStatus s) {
    delegate.publish(rewrite(s));
  }

  PreviewStatus rewrite(PreviewStatus s) {
    if (s.url() == null) {
      return s;
    }
    Optional<URI> through = gateway.url(s.key());
    if (through.isEmpty()) {
      return s;
    }
    String token = tokens == null ? null : tokens.issue(AccessTokens.LINK, s.key(), clock.instant().plus(ttl));
    URI original = s.url();
    originals.put(s.key(), original);
    URI url = withToken(through.get(), token);
    Map<String, URI> links = new LinkedHashMap<>();
    s.links().forEach((name, link) -> links.put(name, sameOrigin(link, original) ? withToken(rebase(link, original, through.get()), token) : link));
    return new PreviewStatus(s.key(), s.state(), s.revision(), url, links, s.message(), s.failedStep(), s.logTail(),
        s.steps(), s.updatedAt(), s.database());
  }

  @Override
  public Optional<PublishedStatus> published(PreviewKey key) {
    return delegate.published(key).map(this::unwrapped);
  }

  @Override
  public Optional<Map<PreviewKey, PublishedStatus>> publishedAll(String repository) {
    return delegate.publishedAll(repository).map(all -> {
      Map<PreviewKey, PublishedStatus> out = new LinkedHashMap<>();
      all.forEach((key, p) -> out.put(key, unwrapped(p)));
      return out;
    });
  }

  /** {@code p} with the URL this notifier was given in place of the one through the gateway. */
  private PublishedStatus unwrapped(PublishedStatus p) {
    URI original = originals.get(p.key());
    if (p.url() == null || original == null) {
      return p;
    }
    return new PublishedStatus(p.key(), p.state(), p.revision(), original, p.failedStep());
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a != null && b != null && String.valueOf(a.getHost()).equalsIgnoreCase(String.valueOf(b.getHost())) && a.getPort() == b.getPort();
  }

  /** {@code link} (under {@code original}) moved under {@code base}: its path relative to the original root. */
  private static URI rebase(URI link, URI original, URI base) {
    String path = link.getRawPath() == null ? "" : link.getRawPath();
    String root = original.getRawPath() == null ? "" : original.getRawPath();
    if (path.startsWith(root)) {
      path = path.substring(root.length());
    }
    path = path.replaceAll("^/+", "");
    String b = base.toString();
    return URI.create(b + path + (link.getRawQuery() == null ? "" : "?" + link.getRawQuery()));
  }

  private static URI withToken(URI url, @Nullable String token) {
    if (token == null) {
      return url;
    }
    String s = url.toString();
    return URI.create(s + (url.getRawQuery() == null ? "?" : "&") + GatewaySettings.TOKEN_PARAMETER + "=" + token);
  }

  @Override
  public void close() {
    delegate.close(); // the orchestrator closes what it was given: this, for the notifier it wraps
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
