package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static dev.preview.k8s.K8sFixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * API requests per operation, counted on the mock server. The counts are asserted exactly so a
 * change that adds calls (an N+1 in list(), a GET per object) fails here and is looked at.
 */
@EnableKubernetesMockClient(crud = true)
class ApiRequestBudgetTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void requestsPerProvisionUpdateAndTeardown() {
    K8sFixtures.seedRegistrySecret(client);
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, config(baseConfig()));
    PreviewKey key = PreviewKey.pr("acme/shop", 1);

    int provision = count(() -> p.apply(spec(key, "aaaa1111")));
    drain();
    int update = count(() -> p.apply(spec(key, "bbbb2222")));
    List<String> updateRequests = drain();
    int list = count(p::list);
    int teardown = count(() -> p.delete(key));
    System.out.printf("k8s API requests: provision=%d update=%d list=%d teardown=%d%n", provision, update, list, teardown);
    // provision: GET ns, POST ns, GET+POST pull secret, POST quota, limits, policy, app secret, deployment, service, ingress
    assertThat(provision).isEqualTo(11);
    // update: GET ns, PATCH ns (merge), GET source + GET/PUT pull secret, then GET+PUT per object
    assertThat(updateRequests).as("update requests").hasSize(update).containsExactly(UPDATE);
    assertThat(list).isEqualTo(1);
    assertThat(teardown).isEqualTo(2);
  }

  @Test
  void chartRequestsPerProvisionUpdateAndTeardown() {
    K8sFixtures.seedRegistrySecret(client);
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client,
        config(HelmChartProviderTest.chartConfig(Map.of())));
    PreviewKey key = PreviewKey.pr("acme/shop", 1);
    drain();
    p.apply(HelmChartProviderTest.spec(key, "aaaa1111"));
    List<String> provision = drain();
    p.apply(HelmChartProviderTest.spec(key, "bbbb2222"));
    List<String> update = drain();
    System.out.printf("k8s API requests with the chart: provision=%d %s%n update=%d %s%n", provision.size(), provision,
        update.size(), update);
    // GET ns, POST ns, GET+POST pull secret, POST quota, limits, policy, app secret, then one POST per chart object (6)
    assertThat(provision).hasSize(14).containsSubsequence("GET " + NS1, "POST /api/v1/namespaces",
        "POST /apis/batch/v1" + NS1.substring(7) + "/jobs", "POST /apis/networking.k8s.io/v1" + NS1.substring(7) + "/ingresses");
    // GET ns, a GET per chart object (6: nothing of another preview's is adopted, read before anything is written),
    // PATCH ns, 3 for the pull secret, GET+PUT x4 guardrails, a PUT per chart object (the Job of a new revision:
    // DELETE + POST), then one list per kind to prune among (5)
    assertThat(update).hasSize(31);
    assertThat(update.stream().filter(r -> r.startsWith("DELETE")).toList())
        .containsExactly("DELETE /apis/batch/v1" + NS1.substring(7) + "/jobs/app-migrate");
  }

  private static final String NS1 = "/api/v1/namespaces/" + Names.namespace(PreviewKey.pr("acme/shop", 1));

  @Test
  void listOfAThousandPreviewsIsOneRequest() throws Exception {
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, config(baseConfig()));
    createManagedNamespaces(client, 10);
    assertThat(count(p::list)).isEqualTo(1);
    createManagedNamespaces(client, 1_000);
    long start = System.nanoTime();
    List<Environment>[] all = new List[1];
    int requests = count(() -> all[0] = p.list());
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("k8s list() of %d namespaces: %d request(s), %d ms%n", all[0].size(), requests, millis);
    assertThat(requests).isEqualTo(1);
    assertThat(all[0]).hasSize(1_010);
  }

  private static final String NS = "/api/v1/namespaces/" + Names.namespace(PreviewKey.pr("acme/shop", 1));
  private static final String[] UPDATE = {
      "GET " + NS, "PATCH " + NS,
      "GET /api/v1/namespaces/preview-system/secrets/regcred", "GET " + NS + "/secrets/regcred", "PUT " + NS + "/secrets/regcred",
      "GET " + NS + "/resourcequotas/preview-quota", "PUT " + NS + "/resourcequotas/preview-quota",
      "GET " + NS + "/limitranges/preview-limits", "PUT " + NS + "/limitranges/preview-limits",
      "GET /apis/networking.k8s.io/v1" + NS.substring(7) + "/networkpolicies/preview-isolation",
      "PUT /apis/networking.k8s.io/v1" + NS.substring(7) + "/networkpolicies/preview-isolation",
      "GET " + NS + "/secrets/app-secrets", "PUT " + NS + "/secrets/app-secrets",
      "GET /apis/apps/v1" + NS.substring(7) + "/deployments/app", "PUT /apis/apps/v1" + NS.substring(7) + "/deployments/app",
      "GET " + NS + "/services/app", "PUT " + NS + "/services/app",
      "GET /apis/networking.k8s.io/v1" + NS.substring(7) + "/ingresses/app",
      "PUT /apis/networking.k8s.io/v1" + NS.substring(7) + "/ingresses/app"};

  private List<String> drain() {
    List<String> out = new ArrayList<>();
    try {
      io.fabric8.mockwebserver.http.RecordedRequest r;
      while ((r = server.takeRequest(20, java.util.concurrent.TimeUnit.MILLISECONDS)) != null) {
        out.add(r.getMethod() + " " + r.getPath().replaceAll("\\?.*", ""));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }

  private int count(Runnable r) {
    int before = server.getRequestCount();
    r.run();
    return server.getRequestCount() - before;
  }

  /** Namespaces as apply() labels and annotates them, created in parallel (the mock's store is the bottleneck). */
  static void createManagedNamespaces(KubernetesClient client, int n) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      int offset = client.namespaces().list().getItems().size();
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        PreviewKey key = PreviewKey.pr("scale/repo-" + ((offset + i) % 97), offset + i + 1);
        Namespace ns = new NamespaceBuilder().withNewMetadata().withName(Names.namespace(key))
            .withLabels(Map.of(Labels.MANAGED, "true", Labels.INSTANCE, "default", Labels.KEY, Names.labelValue(key.id()),
                Labels.REVISION, "aaaa1111"))
            .withAnnotations(Map.of(Labels.KEY, key.id(), Labels.REVISION, "aaaa1111", Labels.CREATED, "2026-01-01T00:00:00Z",
                KubernetesEnvironmentProvider.URL, "https://pr-" + key.number() + ".preview.example.com",
                KubernetesEnvironmentProvider.PHASE, "RUNNING"))
            .endMetadata().build();
        calls.add(CompletableFuture.runAsync(() -> client.namespaces().resource(ns).create(), pool));
      }
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get();
    } finally {
      pool.shutdownNow();
    }
  }
}
