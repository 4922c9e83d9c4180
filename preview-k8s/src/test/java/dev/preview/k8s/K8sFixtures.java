package dev.preview.k8s;

import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Resources;
import dev.preview.spi.Secret;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Shared config, specs and mock-cluster helpers for the provider's tests. */
final class K8sFixtures {
  static final String REGCRED_JSON = "{\"auths\":{\"registry.example.com\":{\"auth\":\"dXNlcjpwYXNz\"}}}";

  private K8sFixtures() {}

  /** A complete config: quota, limits, policy, pull secret, ingress with cert-manager TLS; no readiness wait. */
  static Map<String, Object> baseConfig() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("provider", "kubernetes");
    m.put("ingress", new LinkedHashMap<>(Map.of("className", "nginx",
        "tls", Map.of("clusterIssuer", "letsencrypt"))));
    m.put("quota", Map.of("requests.cpu", "2", "limits.memory", "2Gi", "pods", "10"));
    m.put("limitRange", Map.of("default", Map.of("cpu", "500m", "memory", "256Mi"),
        "defaultRequest", Map.of("cpu", "100m", "memory", "128Mi"), "max", Map.of("cpu", "1", "memory", "1Gi")));
    m.put("network", Map.of("ingressNamespace", "ingress-nginx", "allowNamespaces", List.of("monitoring")));
    m.put("pullSecrets", List.of("regcred"));
    m.put("pullSecretsNamespace", "preview-system");
    m.put("readiness", new LinkedHashMap<>(Map.of("wait", false, "pollInterval", "50ms", "timeout", "20s", "watch", false)));
    return m;
  }

  static ProviderConfig config(Map<String, Object> values) {
    return ProviderConfig.of("environment", values);
  }

  /** What the hostname rule {@code app.hostname: pr-{number}.preview.example.com} gives (branches: their namespace). */
  static String hostname(PreviewKey key) {
    return (key.isPullRequest() ? "pr-" + key.number() : dev.preview.spi.Names.namespace(key)) + ".preview.example.com";
  }

  static EnvironmentSpec spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision)
        .hostname(hostname(key))
        .image("registry.example.com/shop:" + revision)
        .port(8080).healthPath("/healthz")
        .env("GREETING", "hello")
        .secret("DB_PASSWORD", Secret.of("s3cr3t-value"))
        .resources(new Resources(500, 256L * 1024 * 1024, 0))
        .labels(Labels.ownership(key, revision))
        .label(Labels.EXPIRES, "2030-01-01T00:00:00Z")
        .build();
  }

  static void seedRegistrySecret(KubernetesClient client) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("preview-system").endMetadata().build()).create();
    client.secrets().inNamespace("preview-system").resource(new SecretBuilder().withNewMetadata().withName("regcred").endMetadata()
        .withType("kubernetes.io/dockerconfigjson")
        .withData(Map.of(".dockerconfigjson", java.util.Base64.getEncoder().encodeToString(REGCRED_JSON.getBytes())))
        .build()).create();
  }

  /** What a Deployment controller would write once every replica is up (the mock has no controller). */
  static void markReady(KubernetesClient client, String ns, String name) {
    client.apps().deployments().inNamespace(ns).withName(name).edit(d -> {
      int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
      d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas).withUpdatedReplicas(replicas)
          .withReadyReplicas(replicas).withAvailableReplicas(replicas).build());
      return d;
    });
  }
}
