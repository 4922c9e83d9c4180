package dev.preview.k8s;

import dev.preview.spi.RegistryManifests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.ImageAvailability;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code imageAvailable}: a HEAD on the registry's manifest, with the credentials the provider's
 * pull secret holds for that registry (and no other's), mapped 200/404/other to PRESENT/ABSENT/UNKNOWN.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesImageAvailableTest {
  static final String BASIC = "Basic " + Base64.getEncoder().encodeToString("ci-bot:s3cret".getBytes(StandardCharsets.UTF_8));

  KubernetesClient client;
  @StartStop final MockWebServer registry = new MockWebServer();
  String host;

  @BeforeEach
  void seed() {
    host = registry.getHostName() + ":" + registry.getPort();
    assertThat(RegistryManifests.loopback(host)).as("the mock registry is on this machine: plain HTTP").isTrue();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("preview-system").endMetadata().build())
        .create();
    // One secret for the mock registry (username/password form), one for another registry (auth form).
    String json = "{\"auths\":{\"http://" + host + "\":{\"username\":\"ci-bot\",\"password\":\"s3cret\"},"
        + "\"registry.example.com\":{\"auth\":\"" + Base64.getEncoder().encodeToString("other:pw".getBytes()) + "\"}}}";
    client.secrets().inNamespace("preview-system").resource(new SecretBuilder().withNewMetadata().withName("regcred")
        .endMetadata().withType("kubernetes.io/dockerconfigjson")
        .withData(Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8))))
        .build()).create();
  }

  KubernetesEnvironmentProvider provider(boolean withPullSecret) {
    Map<String, Object> cfg = K8sFixtures.baseConfig();
    if (!withPullSecret) {
      cfg.remove("pullSecrets");
      cfg.remove("pullSecretsNamespace");
    }
    return KubernetesEnvironmentProvider.create(client, K8sFixtures.config(cfg));
  }

  RecordedRequest taken() throws InterruptedException {
    RecordedRequest r = registry.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).as("the registry was asked").isNotNull();
    return r;
  }

  static void assertManifestHead(RecordedRequest r, String path) {
    assertThat(r.getMethod()).isEqualTo("HEAD");
    assertThat(r.getTarget()).isEqualTo(path);
    assertThat(List.of(r.getHeaders().get("Accept").split(",\\s*"))).containsExactlyInAnyOrder(
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json");
  }

  @Test
  void a_manifest_that_is_there_is_present_asked_with_the_pull_secrets_credentials() throws Exception {
    registry.enqueue(new MockResponse.Builder().code(200).build());

    assertThat(provider(true).imageAvailable(host + "/acme/shop:pr-42-abc123")).isEqualTo(ImageAvailability.PRESENT);

    RecordedRequest r = taken();
    assertManifestHead(r, "/v2/acme/shop/manifests/pr-42-abc123");
    assertThat(r.getHeaders().get("Authorization")).isEqualTo(BASIC);
  }

  @Test
  void a_missing_manifest_is_absent() throws Exception {
    registry.enqueue(new MockResponse.Builder().code(404).build());

    assertThat(provider(true).imageAvailable(host + "/acme/shop:pr-42-def456")).isEqualTo(ImageAvailability.ABSENT);

    assertManifestHead(taken(), "/v2/acme/shop/manifests/pr-42-def456");
  }

  @Test
  void refused_credentials_are_unknown_not_absent() throws Exception {
    registry.enqueue(new MockResponse.Builder().code(401).addHeader("WWW-Authenticate", "Basic realm=\"registry\"").build());

    assertThat(provider(true).imageAvailable(host + "/acme/shop:pr-42")).isEqualTo(ImageAvailability.UNKNOWN);
    assertThat(taken().getHeaders().get("Authorization")).isEqualTo(BASIC);
  }

  @Test
  void forbidden_and_server_errors_are_unknown() throws Exception {
    registry.enqueue(new MockResponse.Builder().code(403).build());
    registry.enqueue(new MockResponse.Builder().code(503).build());
    KubernetesEnvironmentProvider p = provider(true);

    assertThat(p.imageAvailable(host + "/acme/shop:a")).isEqualTo(ImageAvailability.UNKNOWN);
    assertThat(p.imageAvailable(host + "/acme/shop:b")).isEqualTo(ImageAvailability.UNKNOWN);
  }

  @Test
  void without_a_pull_secret_it_asks_anonymously() throws Exception {
    registry.enqueue(new MockResponse.Builder().code(200).build());

    assertThat(provider(false).imageAvailable(host + "/acme/shop@sha256:0123")).isEqualTo(ImageAvailability.PRESENT);

    RecordedRequest r = taken();
    assertManifestHead(r, "/v2/acme/shop/manifests/sha256:0123");
    assertThat(r.getHeaders().get("Authorization")).isNull();
  }

  @Test
  void a_bearer_challenge_gets_a_token_with_the_credentials_then_asks_again() throws Exception {
    registry.enqueue(new MockResponse.Builder().code(401).addHeader("WWW-Authenticate", "Bearer realm=\"http://" + host
        + "/token\",service=\"mock\",scope=\"repository:acme/shop:pull\"").build());
    registry.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
        .body("{\"token\":\"t0k3n\"}").build());
    registry.enqueue(new MockResponse.Builder().code(200).build());

    assertThat(provider(true).imageAvailable(host + "/acme/shop:pr-1")).isEqualTo(ImageAvailability.PRESENT);

    assertThat(taken().getHeaders().get("Authorization")).isEqualTo(BASIC);
    RecordedRequest token = taken();
    assertThat(token.getMethod()).isEqualTo("GET");
    assertThat(token.getUrl().encodedPath()).isEqualTo("/token");
    assertThat(token.getUrl().queryParameter("scope")).isEqualTo("repository:acme/shop:pull");
    assertThat(token.getHeaders().get("Authorization")).isEqualTo(BASIC);
    RecordedRequest again = taken();
    assertManifestHead(again, "/v2/acme/shop/manifests/pr-1");
    assertThat(again.getHeaders().get("Authorization")).isEqualTo("Bearer t0k3n");
  }

  @Test
  void a_registry_that_does_not_answer_is_unknown() {
    assertThat(provider(true).imageAvailable("127.0.0.1:1/acme/shop:pr-1")).isEqualTo(ImageAvailability.UNKNOWN);
  }

  @Test
  void references_and_hosts() {
    assertThat(RegistryManifests.Reference.parse("ghcr.io/acme/shop:pr-1"))
        .isEqualTo(new RegistryManifests.Reference("ghcr.io", "acme/shop", "pr-1"));
    assertThat(RegistryManifests.Reference.parse("nginx"))
        .isEqualTo(new RegistryManifests.Reference("registry-1.docker.io", "library/nginx", "latest"));
    assertThat(RegistryManifests.Reference.parse("localhost:5000/shop@sha256:ab"))
        .isEqualTo(new RegistryManifests.Reference("localhost:5000", "shop", "sha256:ab"));
    assertThat(RegistryManifests.host("https://index.docker.io/v1/")).isEqualTo("registry-1.docker.io");
    assertThat(RegistryManifests.loopback("registry.example.com")).isFalse();
    assertThat(RegistryManifests.loopback("127.0.0.1:5000")).isTrue();
    assertThat(RegistryManifests.loopback("[::1]:5000")).isTrue();
    assertThat(RegistryManifests.loopback("127.attacker.example")).as("a name, not an address").isFalse();
  }
}
