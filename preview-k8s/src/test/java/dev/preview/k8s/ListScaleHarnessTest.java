package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.Environment;
import dev.preview.spi.PullRequest;
import dev.preview.testkit.FakePullRequestSource;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures list() (what reconcile reads from this provider) over many preview namespaces. Off by
 * default to keep the test run fast; run it with
 * {@code mvn -B -q -pl preview-k8s -am verify -Dtest=ListScaleHarnessTest -Dsurefire.failIfNoSpecifiedTests=false -Dpreview.k8s.scale=1000,10000}.
 */
@EnableKubernetesMockClient(crud = true)
@EnabledIfSystemProperty(named = "preview.k8s.scale", matches = "[0-9,]+")
class ListScaleHarnessTest {
  KubernetesMockServer server;
  KubernetesClient client;

  /** The orchestrator's reconcile when every preview's PR is open: it reads and repairs nothing. */
  private void reconcileSteadyState(KubernetesEnvironmentProvider p, int n) {
    FakePullRequestSource prs = new FakePullRequestSource();
    for (Environment e : p.list()) {
      prs.put(new PullRequest(e.key(), PullRequest.State.OPEN, "aaaa1111", "feature", "main", "dev", Set.of(), false, false));
    }
    try (PreviewOrchestrator o = PreviewOrchestrator.builder().environment(p).pullRequests(prs).closeProviders(false)
        .clock(Clock.fixed(Instant.parse("2026-01-01T00:05:00Z"), ZoneOffset.UTC)).build()) {
      o.reconcile(false); // warm-up
      int before = server.getRequestCount();
      long t = System.nanoTime();
      ReconcileReport r = o.reconcile(false);
      long millis = (System.nanoTime() - t) / 1_000_000;
      int requests = server.getRequestCount() - before;
      System.out.printf("k8s reconcile over %,d preview namespaces (all PRs open): %d API request(s), %d ms%n", n, requests, millis);
      assertThat(r.actions()).isEmpty();
      assertThat(requests).isEqualTo(1);
    }
  }

  @Test
  void listTimeAndRequests() throws Exception {
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, K8sFixtures.config(K8sFixtures.baseConfig()));
    int created = 0;
    for (String s : System.getProperty("preview.k8s.scale").split(",")) {
      int n = Integer.parseInt(s.trim());
      ApiRequestBudgetTest.createManagedNamespaces(client, n - created);
      created = n;
      for (int i = 0; i < 3; i++) {
        p.list(); // warm-up
      }
      List<Long> millis = new ArrayList<>();
      int requests = 0;
      int size = 0;
      for (int i = 0; i < 7; i++) {
        int before = server.getRequestCount();
        long t = System.nanoTime();
        List<Environment> all = p.list();
        millis.add((System.nanoTime() - t) / 1_000_000);
        requests = server.getRequestCount() - before;
        size = all.size();
      }
      Collections.sort(millis);
      System.out.printf("k8s list() over %,d preview namespaces: %d API request(s); median %d ms, min %d ms, max %d ms%n",
          size, requests, millis.get(3), millis.get(0), millis.get(6));
      assertThat(requests).isEqualTo(1);
      assertThat(size).isEqualTo(n);
      reconcileSteadyState(p, n);
    }
  }
}
