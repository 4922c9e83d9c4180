package dev.preview.k8s;

import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.testkit.EnvironmentProviderKit;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.Map;

/**
 * The SPI contract on the CRUD mock. The mock has no Deployment controller, so readiness is not
 * awaited here (readiness has its own tests in {@link KubernetesEnvironmentProviderTest}).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesEnvironmentProviderKitTest extends EnvironmentProviderKit {
  KubernetesMockServer server;
  KubernetesClient client;

  @Override
  protected EnvironmentProvider createProvider() {
    Map<String, Object> cfg = K8sFixtures.baseConfig();
    cfg.remove("pullSecrets");
    cfg.remove("pullSecretsNamespace");
    return KubernetesEnvironmentProvider.create(client, K8sFixtures.config(cfg));
  }

  @Override
  protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).image("registry.example.com/app:" + revision.substring(0, 12))
        .port(8080).healthPath("/health");
  }

  @Override
  protected Duration timeout() {
    return Duration.ofSeconds(10);
  }
}
