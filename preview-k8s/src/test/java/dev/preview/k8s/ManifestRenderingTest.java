package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static dev.preview.k8s.K8sFixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LimitRangeItem;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The manifests one apply renders, read back from the (CRUD mock) API server and asserted field by field. */
@EnableKubernetesMockClient(crud = true)
class ManifestRenderingTest {
  static KubernetesMockServer server;
  static KubernetesClient client;

  private static final PreviewKey key = PreviewKey.pr("acme/shop", 42);
  private static final String ns = Names.namespace(key);
  private static Environment env;

  @BeforeAll
  static void applyOnce() {
    K8sFixtures.seedRegistrySecret(client);
    KubernetesEnvironmentProvider provider = KubernetesEnvironmentProvider.create(client, config(baseConfig()));
    env = provider.apply(spec(key, "0123456789abcdef0123456789abcdef01234567"));
  }

  @Test
  void namespaceCarriesSelectableLabelsAndFullOwnershipAnnotations() {
    Namespace n = client.namespaces().withName(ns).get();
    assertThat(ns).startsWith("shop-pr-42-").hasSizeLessThanOrEqualTo(63);
    Map<String, String> labels = n.getMetadata().getLabels();
    assertThat(labels).containsEntry(Labels.MANAGED, "true")
        .containsEntry(Labels.KEY, Names.labelValue("acme/shop#42"))
        .containsEntry(Labels.REVISION, "0123456789abcdef0123456789abcdef01234567")
        .containsEntry("app.kubernetes.io/managed-by", "preview")
        .doesNotContainKeys(Labels.CREATED, Labels.EXPIRES);
    labels.values().forEach(v -> assertThat(v).matches("([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?"));
    Map<String, String> annotations = n.getMetadata().getAnnotations();
    assertThat(annotations).containsEntry(Labels.KEY, "acme/shop#42")
        .containsEntry(Labels.REVISION, "0123456789abcdef0123456789abcdef01234567")
        .containsEntry(Labels.EXPIRES, "2030-01-01T00:00:00Z")
        .containsEntry("preview.dev/url", "https://pr-42.preview.example.com")
        .containsKey(Labels.CREATED);
    assertThat(env.url()).hasToString("https://pr-42.preview.example.com");
    assertThat(env.key()).isEqualTo(key);
    assertThat(env.expires()).hasValueSatisfying(i -> assertThat(i).hasToString("2030-01-01T00:00:00Z"));
  }

  @Test
  void quotaAndLimitRangeComeFromConfig() {
    ResourceQuota q = client.resourceQuotas().inNamespace(ns).withName("preview-quota").get();
    assertThat(q.getSpec().getHard()).containsOnly(
        Map.entry("requests.cpu", new Quantity("2")), Map.entry("limits.memory", new Quantity("2Gi")),
        Map.entry("pods", new Quantity("10")));
    LimitRangeItem item = client.limitRanges().inNamespace(ns).withName("preview-limits").get().getSpec().getLimits().get(0);
    assertThat(item.getType()).isEqualTo("Container");
    assertThat(item.getDefault()).containsEntry("cpu", new Quantity("500m")).containsEntry("memory", new Quantity("256Mi"));
    assertThat(item.getDefaultRequest()).containsEntry("cpu", new Quantity("100m")).containsEntry("memory", new Quantity("128Mi"));
    assertThat(item.getMax()).containsEntry("cpu", new Quantity("1")).containsEntry("memory", new Quantity("1Gi"));
    assertThat(q.getMetadata().getLabels()).containsEntry(Labels.MANAGED, "true");
  }

  @Test
  void networkPolicyAdmitsIngressControllerAndOwnNamespaceOnly() {
    NetworkPolicy p = client.network().v1().networkPolicies().inNamespace(ns).withName("preview-isolation").get();
    assertThat(p.getSpec().getPodSelector().getMatchLabels()).isNullOrEmpty();
    assertThat(p.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
    assertThat(p.getSpec().getIngress()).hasSize(1);
    List<NetworkPolicyPeer> from = p.getSpec().getIngress().get(0).getFrom();
    assertThat(from).hasSize(3);
    assertThat(from.get(0).getNamespaceSelector().getMatchLabels()).containsExactly(Map.entry("kubernetes.io/metadata.name", "ingress-nginx"));
    assertThat(from.get(0).getPodSelector()).isNull();
    assertThat(from.get(1).getNamespaceSelector().getMatchLabels()).containsExactly(Map.entry("kubernetes.io/metadata.name", "monitoring"));
    // An empty podSelector without namespaceSelector means "pods of this namespace": other previews stay out.
    assertThat(from.get(2).getNamespaceSelector()).isNull();
    assertThat(from.get(2).getPodSelector().getMatchLabels()).isNullOrEmpty();
    assertThat(from).noneMatch(peer -> peer.getNamespaceSelector() != null
        && (peer.getNamespaceSelector().getMatchLabels() == null || peer.getNamespaceSelector().getMatchLabels().isEmpty()));
  }

  /**
   * Egress: every pod of the cluster (DNS, in-cluster services; their own policies decide), every
   * address but the cloud metadata services (a node's credentials at 169.254.169.254).
   */
  @Test
  void networkPolicyDeniesEgressToTheCloudMetadataServicesOnly() {
    NetworkPolicy p = client.network().v1().networkPolicies().inNamespace(ns).withName("preview-isolation").get();
    var egress = p.getSpec().getEgress();
    assertThat(egress).hasSize(2);
    assertThat(egress.get(0).getTo()).singleElement().satisfies(peer -> {
      assertThat(peer.getNamespaceSelector()).isNotNull();
      assertThat(peer.getNamespaceSelector().getMatchLabels()).isNullOrEmpty();
      assertThat(peer.getIpBlock()).isNull();
    });
    assertThat(egress.get(0).getPorts()).isNullOrEmpty();
    assertThat(egress.get(1).getTo()).extracting(peer -> peer.getIpBlock().getCidr()).containsExactly("0.0.0.0/0", "::/0");
    assertThat(egress.get(1).getTo().get(0).getIpBlock().getExcept()).containsExactly("169.254.0.0/16");
    assertThat(egress.get(1).getTo().get(1).getIpBlock().getExcept()).containsExactly("fd00:ec2::254/128");
  }

  @Test
  void deploymentHasImageResourcesProbesSecretRefsAndPullSecret() {
    Deployment d = client.apps().deployments().inNamespace(ns).withName("app").get();
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(d.getSpec().getSelector().getMatchLabels()).containsExactly(Map.entry("app.kubernetes.io/name", "app"));
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "app")
        .containsEntry(Labels.MANAGED, "true");
    assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry(Labels.REVISION, "0123456789abcdef0123456789abcdef01234567");
    assertThat(d.getSpec().getTemplate().getSpec().getImagePullSecrets()).extracting("name").containsExactly("regcred");
    assertThat(d.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken()).isFalse();
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("registry.example.com/shop:0123456789abcdef0123456789abcdef01234567");
    assertThat(c.getPorts().get(0).getContainerPort()).isEqualTo(8080);
    assertThat(c.getResources().getLimits()).containsEntry("cpu", new Quantity("500m"))
        .containsEntry("memory", new Quantity(Long.toString(256L * 1024 * 1024)));
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getLivenessProbe().getInitialDelaySeconds()).isEqualTo(5);
    EnvVar greeting = c.getEnv().stream().filter(e -> e.getName().equals("GREETING")).findFirst().orElseThrow();
    assertThat(greeting.getValue()).isEqualTo("hello");
    EnvVar password = c.getEnv().stream().filter(e -> e.getName().equals("DB_PASSWORD")).findFirst().orElseThrow();
    assertThat(password.getValue()).isNull();
    assertThat(password.getValueFrom().getSecretKeyRef().getName()).isEqualTo("app-secrets");
    assertThat(password.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("DB_PASSWORD");
    // The secret value is never in the Deployment, its labels or annotations.
    assertThat(client.getKubernetesSerialization().asJson(d)).doesNotContain("s3cr3t-value");
  }

  @Test
  void secretsAreStoredInTheNamespaceAndRegistryCredentialsCopied() {
    Secret app = client.secrets().inNamespace(ns).withName("app-secrets").get();
    assertThat(new String(Base64.getDecoder().decode(app.getData().get("DB_PASSWORD")), StandardCharsets.UTF_8)).isEqualTo("s3cr3t-value");
    assertThat(app.getMetadata().getLabels()).containsEntry(Labels.MANAGED, "true");
    Secret regcred = client.secrets().inNamespace(ns).withName("regcred").get();
    assertThat(regcred.getType()).isEqualTo("kubernetes.io/dockerconfigjson");
    assertThat(new String(Base64.getDecoder().decode(regcred.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8))
        .isEqualTo(K8sFixtures.REGCRED_JSON);
    assertThat(regcred.getMetadata().getAnnotations()).containsEntry(Labels.KEY, "acme/shop#42");
  }

  @Test
  void serviceAndIngressRouteTheHostWithTls() {
    Service s = client.services().inNamespace(ns).withName("app").get();
    assertThat(s.getSpec().getSelector()).containsExactly(Map.entry("app.kubernetes.io/name", "app"));
    assertThat(s.getSpec().getPorts().get(0).getPort()).isEqualTo(80);
    assertThat(s.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo("http");
    Ingress i = client.network().v1().ingresses().inNamespace(ns).withName("app").get();
    assertThat(i.getSpec().getIngressClassName()).isEqualTo("nginx");
    assertThat(i.getSpec().getRules()).hasSize(1);
    assertThat(i.getSpec().getRules().get(0).getHost()).isEqualTo("pr-42.preview.example.com");
    assertThat(i.getSpec().getRules().get(0).getHttp().getPaths().get(0).getBackend().getService().getName()).isEqualTo("app");
    assertThat(i.getSpec().getTls()).hasSize(1);
    assertThat(i.getSpec().getTls().get(0).getHosts()).containsExactly("pr-42.preview.example.com");
    assertThat(i.getSpec().getTls().get(0).getSecretName()).isEqualTo("app-tls");
    assertThat(i.getMetadata().getAnnotations()).containsEntry("cert-manager.io/cluster-issuer", "letsencrypt");
  }
}
