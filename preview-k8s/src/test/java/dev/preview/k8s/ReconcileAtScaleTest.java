package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Labels;
import dev.preview.testkit.FakePullRequestSource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The orchestrator's reconcile over 1,000 preview namespaces on the mock: the provider reads them
 * with ONE list request, whatever their number; only the orphans cost requests (their teardown).
 */
@EnableKubernetesMockClient(crud = true)
class ReconcileAtScaleTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void reconcileOfAThousandNamespacesListsOnceAndDeletesOnlyOrphans() throws Exception {
    ApiRequestBudgetTest.createManagedNamespaces(client, 1_000);
    FakePullRequestSource prs = new FakePullRequestSource();
    List<Namespace> namespaces = client.namespaces().withLabel(Labels.MANAGED, "true").list().getItems();
    int open = 0;
    for (Namespace n : namespaces) {
      PreviewKey key = PreviewKey.parse(n.getMetadata().getAnnotations().get(Labels.KEY));
      if (key.number() % 2 == 0) {
        prs.put(new PullRequest(key, PullRequest.State.OPEN, "aaaa1111", "feature-" + key.number(), "main", "dev",
            Set.of(), false, false));
        open++;
      }
    }
    KubernetesEnvironmentProvider provider = KubernetesEnvironmentProvider.create(client, K8sFixtures.config(K8sFixtures.baseConfig()));
    PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(provider).pullRequests(prs)
        .clock(Clock.fixed(Instant.parse("2026-01-01T00:05:00Z"), ZoneOffset.UTC)).closeProviders(false).build();
    try {
      drain();
      ReconcileReport dry = orchestrator.reconcile(true);
      List<String> dryRequests = drain();
      assertThat(dryRequests).as("a dry run reads, once").containsExactly("GET /api/v1/namespaces");
      assertThat(dry.actions()).hasSize(1_000 - open)
          .allSatisfy(a -> assertThat(a.kind()).isEqualTo(ReconcileReport.Kind.DELETE_ORPHAN));

      long start = System.nanoTime();
      ReconcileReport report = orchestrator.reconcile(false);
      long millis = (System.nanoTime() - start) / 1_000_000;
      List<String> requests = drain();
      System.out.printf("k8s reconcile over 1,000 namespaces (%d orphans): %d requests, %d list, %d ms%n",
          1_000 - open, requests.size(), requests.stream().filter("GET /api/v1/namespaces"::equals).count(), millis);
      assertThat(report.errors()).isEmpty();
      assertThat(requests.stream().filter("GET /api/v1/namespaces"::equals)).hasSize(1);
      assertThat(requests.stream().filter(r -> r.startsWith("DELETE "))).hasSize(1_000 - open);
      assertThat(client.namespaces().withLabel(Labels.MANAGED, "true").list().getItems()).hasSize(open);
    } finally {
      orchestrator.close();
    }
  }

  private List<String> drain() throws InterruptedException {
    List<String> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(20, TimeUnit.MILLISECONDS)) != null) {
      out.add(r.getMethod() + " " + r.getPath().replaceAll("\\?.*", ""));
    }
    return out;
  }
}
