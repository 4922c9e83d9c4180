package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The preview.yaml in README.md is valid and works: parsed by the core, provider built through ServiceLoader. */
@EnableKubernetesMockClient(crud = true, https = false)
class ReadmeExampleTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void theReadmeExampleBuildsAWorkingProvider() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(m.find()).as("README has a yaml block").isTrue();
    Map<String, String> env = Map.of("KUBE_API", client.getMasterUrl().toString(), "KUBE_TOKEN", "readme-token",
        "PREVIEW_DB_PASSWORD", "pw");
    PreviewConfig config = PreviewConfig.parse(m.group(1), env::get, "README.md");

    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("preview-system").endMetadata().build()).create();
    client.secrets().inNamespace("preview-system").resource(new SecretBuilder().withNewMetadata().withName("regcred").endMetadata()
        .withType("kubernetes.io/dockerconfigjson").withData(Map.of(".dockerconfigjson", "e30=")).build()).create();

    try (ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry())) {
      EnvironmentProvider p = providers.environment();
      assertThat(p).isInstanceOf(KubernetesEnvironmentProvider.class);
      assertThat(p.list()).isEmpty();
      assertThat(server.getLastRequest().getHeader("Authorization")).isEqualTo("Bearer readme-token");

      PreviewKey key = PreviewKey.pr("acme/shop", 5);
      String ns = Names.namespace(key);
      CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(K8sFixtures.spec(key, "aaaa1111")));
      await().atMost(20, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
      K8sFixtures.markReady(client, ns, "app");
      assertThat(f.get(20, TimeUnit.SECONDS).phase()).isEqualTo(Environment.Phase.RUNNING);
      var worker = client.apps().deployments().inNamespace(ns).withName("worker").get();
      assertThat(worker.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
          .isEqualTo("registry.example.com/shop:aaaa1111");
      assertThat(worker.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().get(0).getValue())
          .isEqualTo("https://pr-42.preview.example.com".replace("42", "5"));
      assertThat(client.resourceQuotas().inNamespace(ns).withName("preview-quota").get()).isNotNull();
    }
  }
}
