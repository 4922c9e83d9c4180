package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Render + apply of the test chart {@code charts/shop} (2 Deployments, Service, Ingress, ConfigMap,
 * Job) against the built-in template (1 Deployment, Service, Ingress), both with the same guardrails
 * (quota, limits, policy, app secret, one pull secret), on the CRUD mock server, interleaved in one
 * run so both see the same machine load. Opt-in:
 *
 * <pre>
 * mvn -B -q -o -pl preview-k8s -am verify -Dtest=HelmApplyHarnessTest -Dpreview.benchmark=true \
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dpreview.benchmark.rounds=20]
 * </pre>
 *
 * Figures are printed and written to {@code preview-k8s/target/helm-apply.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true",
    disabledReason = "a benchmark harness: run with -Dpreview.benchmark=true")
@EnableKubernetesMockClient(crud = true)
class HelmApplyHarnessTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void renderAndApplyOfTheChartAgainstTheBuiltInTemplate() throws Exception {
    int rounds = Integer.getInteger("preview.benchmark.rounds", 20);
    K8sFixtures.seedRegistrySecret(client);
    KubernetesEnvironmentProvider chart = KubernetesEnvironmentProvider.create(client, config(HelmChartProviderTest.chartConfig(Map.of())));
    KubernetesEnvironmentProvider builtIn = KubernetesEnvironmentProvider.create(client, config(baseConfig()));
    HelmChart helm = new HelmChart(KubernetesSettings.read(config(HelmChartProviderTest.chartConfig(Map.of()))).chart,
        client::getKubernetesSerialization);
    Map<String, String> vars = Map.of("number", "1", "shortSha", "aaaa111", "hostname", "pr-1.preview.example.com",
        "imageRepository", "registry.example.com/shop", "env.DATABASE_URL", "postgresql://db/x");

    String loadBefore = load();
    long first = System.nanoTime();
    helm.render("app", "ns-warmup", vars);
    double firstRenderMs = (System.nanoTime() - first) / 1e6;
    for (int i = 0; i < 3; i++) { // warm-up of both paths (JIT, the mock's store)
      chart.apply(HelmChartProviderTest.spec(PreviewKey.pr("warm/chart", i + 1), "aaaa1111"));
      builtIn.apply(HelmChartProviderTest.spec(PreviewKey.pr("warm/builtin", i + 1), "aaaa1111"));
    }

    List<Double> render = new ArrayList<>();
    List<Double> chartProvision = new ArrayList<>();
    List<Double> builtInProvision = new ArrayList<>();
    List<Double> chartUpdate = new ArrayList<>();
    List<Double> builtInUpdate = new ArrayList<>();
    int[] requests = new int[4];
    for (int i = 1; i <= rounds; i++) {
      long t = System.nanoTime();
      helm.render("app", "ns-" + i, vars);
      render.add((System.nanoTime() - t) / 1e6);
      PreviewKey c = PreviewKey.pr("bench/chart", i);
      PreviewKey b = PreviewKey.pr("bench/builtin", i);
      requests[0] = timed(() -> chart.apply(HelmChartProviderTest.spec(c, "aaaa1111")), chartProvision);
      requests[1] = timed(() -> builtIn.apply(HelmChartProviderTest.spec(b, "aaaa1111")), builtInProvision);
      requests[2] = timed(() -> chart.apply(HelmChartProviderTest.spec(c, "bbbb2222")), chartUpdate);
      requests[3] = timed(() -> builtIn.apply(HelmChartProviderTest.spec(b, "bbbb2222")), builtInUpdate);
    }

    String report = String.format(
        "kubernetes provider: render + apply of the test chart (charts/shop: 2 Deployments, Service, Ingress, ConfigMap, Job)%n"
            + "vs the built-in template (Deployment, Service, Ingress); same guardrails; CRUD mock server; %d rounds, interleaved%n"
            + "load average (1/5/15 min) at start: %s, at end: %s; cores: %d%n"
            + "first Helm render in this JVM (loads helm-java's native library): %.0f ms%n"
            + "Helm render alone (helm template of the chart, values with placeholders): median %.1f ms, p90 %.1f ms%n"
            + "provision  chart: median %.1f ms, p90 %.1f ms, %d API requests | built-in: median %.1f ms, p90 %.1f ms, %d API requests | ratio chart/built-in: %.2fx time, %.2fx requests%n"
            + "update     chart: median %.1f ms, p90 %.1f ms, %d API requests | built-in: median %.1f ms, p90 %.1f ms, %d API requests | ratio chart/built-in: %.2fx time, %.2fx requests%n",
        rounds, loadBefore, load(), Runtime.getRuntime().availableProcessors(), firstRenderMs,
        median(render), p90(render),
        median(chartProvision), p90(chartProvision), requests[0], median(builtInProvision), p90(builtInProvision), requests[1],
        median(chartProvision) / median(builtInProvision), (double) requests[0] / requests[1],
        median(chartUpdate), p90(chartUpdate), requests[2], median(builtInUpdate), p90(builtInUpdate), requests[3],
        median(chartUpdate) / median(builtInUpdate), (double) requests[2] / requests[3]);
    System.out.print(report);
    Files.writeString(Path.of("target/helm-apply.txt"), report);
    assertThat(requests[0]).isEqualTo(14);
    assertThat(requests[1]).isEqualTo(11);
  }

  private int timed(Runnable r, List<Double> into) {
    int before = server.getRequestCount();
    long t = System.nanoTime();
    r.run();
    into.add((System.nanoTime() - t) / 1e6);
    return server.getRequestCount() - before;
  }

  private static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static double p90(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(s.size() * 0.9) - 1));
  }
}
