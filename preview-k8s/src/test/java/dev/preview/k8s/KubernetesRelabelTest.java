package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static dev.preview.k8s.K8sFixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import io.fabric8.kubernetes.api.model.Namespace;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code relabel} on Fabric8's mock API server in CRUD mode: annotations change, the Deployment does not. */
class KubernetesRelabelTest extends MockClusterTest {
  @Test
  void aVisitIsWrittenToTheNamespaceAnnotationsWithoutTouchingTheDeployment() {
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, config(baseConfig()), clock);
    p.apply(spec(key, "aaaa1111"));
    K8sFixtures.markReady(client, ns, "app");
    String deploymentVersion = client.apps().deployments().inNamespace(ns).withName("app").get().getMetadata().getResourceVersion();
    assertThat(p.supportsRelabel()).isTrue();

    Environment e = p.relabel(key, Map.of(Labels.LAST_ACTIVITY, "2026-01-03T00:00:00Z", Labels.PINNED, "true")).orElseThrow();

    assertThat(e.lastActivity()).hasValue(Instant.parse("2026-01-03T00:00:00Z"));
    assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
    Namespace n = client.namespaces().withName(ns).get();
    assertThat(n.getMetadata().getAnnotations()).containsEntry(Labels.LAST_ACTIVITY, "2026-01-03T00:00:00Z")
        .containsEntry(Labels.EXPIRES, "2030-01-01T00:00:00Z");
    assertThat(n.getMetadata().getLabels()).containsEntry(Labels.PINNED, "true").doesNotContainKey(Labels.LAST_ACTIVITY);
    assertThat(client.apps().deployments().inNamespace(ns).withName("app").get().getMetadata().getResourceVersion())
        .isEqualTo(deploymentVersion);
    // a new provider (a restarted server) lists what the infrastructure holds
    KubernetesEnvironmentProvider fresh = KubernetesEnvironmentProvider.create(client, config(baseConfig()), clock);
    assertThat(fresh.list()).singleElement().satisfies(x -> {
      assertThat(x.lastActivity()).hasValue(Instant.parse("2026-01-03T00:00:00Z"));
      assertThat(x.labels()).containsEntry(Labels.PINNED, "true");
    });

    Environment unpinned = p.relabel(key, Map.of(Labels.PINNED, "")).orElseThrow();
    assertThat(unpinned.labels()).doesNotContainKey(Labels.PINNED);
    assertThat(client.namespaces().withName(ns).get().getMetadata().getLabels()).doesNotContainKey(Labels.PINNED);
  }

  @Test
  void anAbsentPreviewIsEmptyAndOwnershipCannotBeRelabelled() {
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, config(baseConfig()), clock);
    assertThat(p.relabel(PreviewKey.pr("acme/shop", 999), Map.of(Labels.LAST_ACTIVITY, "2026-01-03T00:00:00Z"))).isEmpty();
    assertThatThrownBy(() -> p.relabel(key, Map.of(Labels.REVISION, "bbbb"))).isInstanceOf(IllegalArgumentException.class);
  }
}
