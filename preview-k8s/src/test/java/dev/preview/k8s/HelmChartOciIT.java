package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import dev.preview.spi.Environment;
import dev.preview.testkit.Servers;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code environment.chart.ref: oci://...}: the test chart pushed with Helm to a real OCI registry
 * (Debian's {@code docker-registry}, as {@code .ci/servers/docker.sh} installs it) and rendered from
 * there, at the version asked for, then applied like a chart on disk.
 */
class HelmChartOciIT extends MockClusterTest {
  static final Path REGISTRY = Path.of("/usr/bin/docker-registry");

  @TempDir Path dir;

  @Test
  void aChartInAnOciRegistryRendersAtItsVersionLikeItsDirectory() throws Exception {
    Servers.require("a Docker registry binary at " + REGISTRY, Files.isExecutable(REGISTRY),
        "apt-get install docker-registry (.ci/servers/docker.sh does)");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String server = "127.0.0.1:" + port;
    Files.writeString(dir.resolve("config.yml"), String.join("\n", "version: 0.1", "log: {level: warn}",
        "storage: {filesystem: {rootdirectory: " + dir.resolve("data") + "}}", "http: {addr: \"" + server + "\"}", ""));
    Process registry = new ProcessBuilder(REGISTRY.toString(), "serve", dir.resolve("config.yml").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() ->
          http.send(HttpRequest.newBuilder(URI.create("http://" + server + "/v2/")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
      new Helm(Path.of(HelmChartProviderTest.CHART)).packageIt().withDestination(dir).call();
      Helm.push().withChart(dir.resolve("shop-0.1.0.tgz")).withRemote(URI.create("oci://" + server + "/charts"))
          .plainHttp().call();

      Map<String, Object> cfg = HelmChartProviderTest.chartConfig(Map.of());
      @SuppressWarnings("unchecked") Map<String, Object> chart = (Map<String, Object>) cfg.get("chart");
      chart.remove("path");
      chart.put("ref", "oci://" + server + "/charts/shop");
      chart.put("version", "0.1.0");
      Environment e = KubernetesEnvironmentProvider.create(client, K8sFixtures.config(cfg))
          .apply(HelmChartProviderTest.spec(key, "aaaa1111"));
      assertThat(client.apps().deployments().inNamespace(ns).list().getItems())
          .extracting(d -> d.getMetadata().getName()).containsExactlyInAnyOrder("app-api", "app-worker");
      assertThat(client.configMaps().inNamespace(ns).withName("app-config").get().getData())
          .containsEntry("GREETING", "hello from PR 42");
      assertThat(e.url()).hasToString("http://pr-42.preview.example.com");

      chart.put("version", "9.9.9");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> KubernetesEnvironmentProvider.create(client,
          K8sFixtures.config(cfg)).apply(HelmChartProviderTest.spec(key, "bbbb2222")))
          .as("a version the registry does not have").hasMessageContaining("9.9.9");
      assertThat(List.of(HelmChart.loopbackOci("oci://localhost:5000/c"), HelmChart.loopbackOci("oci://[::1]:5000/c"),
          HelmChart.loopbackOci("oci://ghcr.io/acme/c"), HelmChart.loopbackOci("oci://127.evil.example/c")))
          .containsExactly(true, true, false, false);
    } finally {
      registry.destroy();
    }
  }
}
