package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A provider whose environment URL is a public one (a Kubernetes Ingress host, which resolves back to
 * the gateway) names its in-cluster service in {@link Labels#SERVICE_URL}: the gateway proxies there.
 */
class GatewayServiceUrlTest {
  @TempDir Path dir;
  GatewayRig rig;

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  @Test
  void theGatewaySendsRequestsToTheServiceUrlNotToThePublicUrlThatLeadsBackToIt() throws Exception {
    rig = new GatewayRig(dir, Clock.systemUTC(), b -> b, PreviewPolicy.defaults(), PublicUrl::new);
    rig.open(42, "c".repeat(40));
    GatewayRig.Reply r = rig.get("pr-42.preview.test", "/echo");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("key=acme/shop#42\n");
    assertThat(Routes.upstream(new Environment(PreviewKey.pr("acme/shop", 1), "r", URI.create("https://pr-1.example.com/"),
        Environment.Phase.RUNNING, Map.of(Labels.SERVICE_URL, "file:///etc/passwd"))).url())
        .as("only an http(s) service URL is used").isEqualTo(URI.create("https://pr-1.example.com/"));
  }

  /**
   * Reports a public URL the gateway must not use (the app answers 404 under {@code /public/}; its
   * health path, absolute, still resolves for the readiness gate) and the app's own address as its
   * service URL.
   */
  static final class PublicUrl implements EnvironmentProvider {
    final EnvironmentProvider delegate;

    PublicUrl(EnvironmentProvider delegate) {
      this.delegate = delegate;
    }

    private Environment publicView(Environment e) {
      if (e.url() == null) {
        return e;
      }
      Map<String, String> labels = new HashMap<>(e.labels());
      labels.put(Labels.SERVICE_URL, e.url().toString());
      return new Environment(e.key(), e.revision(), e.url().resolve("/public/"), e.phase(), labels);
    }

    @Override public String name() { return delegate.name(); }
    @Override public Environment apply(EnvironmentSpec spec) { return publicView(delegate.apply(spec)); }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key).map(this::publicView); }
    @Override public List<Environment> list() { return delegate.list().stream().map(this::publicView).toList(); }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }
  }
}
