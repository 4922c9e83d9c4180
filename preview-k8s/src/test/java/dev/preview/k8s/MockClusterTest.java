package dev.preview.k8s;

import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.testkit.MutableClock;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;

/**
 * The set-up the provider's tests share: Fabric8's mock API server in CRUD mode (a fresh one per test;
 * the extension finds the annotation and these fields on a superclass), the registry pull secret
 * {@link K8sFixtures#baseConfig()} names already there, and the key, namespace and clock most of them use.
 */
@EnableKubernetesMockClient(crud = true)
abstract class MockClusterTest {
  KubernetesMockServer server;
  KubernetesClient client;

  final PreviewKey key = PreviewKey.pr("acme/shop", 42);
  final String ns = Names.namespace(key);
  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T10:00:00Z"));

  @BeforeEach
  void seedRegistrySecret() {
    K8sFixtures.seedRegistrySecret(client);
  }
}
