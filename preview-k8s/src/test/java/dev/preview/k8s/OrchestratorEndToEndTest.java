package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakePullRequestSource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A PR's life through the core orchestrator with the kubernetes provider: open, push, close. */
@EnableKubernetesMockClient(crud = true)
class OrchestratorEndToEndTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void openPushAndCloseAPullRequest() throws Exception {
    Map<String, Object> cfg = K8sFixtures.baseConfig();
    cfg.remove("pullSecrets");
    cfg.remove("pullSecretsNamespace");
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "50ms", "timeout", "30s", "watch", false));
    KubernetesEnvironmentProvider provider = KubernetesEnvironmentProvider.create(client,
        dev.preview.spi.ProviderContext.of(K8sFixtures.config(cfg), dev.preview.spi.Installation.builder().instance("blue").build()));
    PreviewKey key = PreviewKey.pr("acme/shop", 7);
    String ns = provider.namespace(key);
    PullRequest pr = new PullRequest(key, PullRequest.State.OPEN, "aaaa1111", "feature", "main", "dev", Set.of(), false, false);
    FakePullRequestSource prs = new FakePullRequestSource().put(pr);
    List<URI> probed = new CopyOnWriteArrayList<>();
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(provider).pullRequests(prs).installation(dev.preview.spi.Installation.builder().instance("blue").build())
        .app(AppTemplate.builder().image("registry.example.com/shop:latest").port(8080).healthPath("/health")
            .hostnameTemplate("pr-{number}.preview.example.com").readinessTimeout(Duration.ofSeconds(30)).build())
        .healthCheck(url -> probed.add(url))
        .build();
    try {
      CompletableFuture<Preview> opened = o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr));
      await().atMost(20, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
      K8sFixtures.markReady(client, ns, "app"); // what the Deployment controller would do
      Preview ready = opened.get(30, TimeUnit.SECONDS);
      assertThat(ready.state()).as(String.valueOf(ready.message())).isEqualTo(PreviewState.READY);
      assertThat(ready.url().toString()).startsWith("https://pr-7.preview.example.com");
      assertThat(probed).isNotEmpty();

      Namespace n = client.namespaces().withName(ns).get();
      assertThat(n.getMetadata().getLabels()).containsEntry(Labels.INSTANCE, "blue").containsEntry(Labels.MANAGED, "true");
      assertThat(n.getMetadata().getAnnotations()).containsEntry(Labels.KEY, "acme/shop#7").containsEntry(Labels.REVISION, "aaaa1111");
      Deployment d = client.apps().deployments().inNamespace(ns).withName("app").get();
      assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
          .anySatisfy(e -> assertThat(e.getName()).isEqualTo("PREVIEW_URL"));
      assertThat(o.list()).extracting(Preview::key).containsExactly(key);

      PullRequest pushed = new PullRequest(key, PullRequest.State.OPEN, "bbbb2222", "feature", "main", "dev", Set.of(), false, false);
      prs.put(pushed);
      CompletableFuture<Preview> updated = o.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pushed));
      await().atMost(20, TimeUnit.SECONDS).until(() -> "bbbb2222".equals(client.apps().deployments().inNamespace(ns).withName("app").get()
          .getSpec().getTemplate().getMetadata().getAnnotations().get(Labels.REVISION)));
      K8sFixtures.markReady(client, ns, "app");
      assertThat(updated.get(30, TimeUnit.SECONDS).state()).isEqualTo(PreviewState.READY);

      prs.close(key);
      Preview closed = o.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pushed)).get(30, TimeUnit.SECONDS);
      assertThat(closed.state()).isEqualTo(PreviewState.DELETED);
      assertThat(client.namespaces().withName(ns).get()).isNull();
      assertThat(o.list()).isEmpty();
    } finally {
      o.close();
    }
  }
}
