package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * {@link ServerOverFakes} plus a Prometheus registry the test hands to the orchestrator and the
 * server (closed after them), the server's {@code /metrics} scrape and one sample of it.
 */
abstract class ServerWithMetrics extends ServerOverFakes {
  final PreviewMetrics metrics = PreviewMetrics.prometheus();

  @AfterEach
  @Override
  void stop() {
    super.stop();
    metrics.close();
  }

  /** The server's {@code /metrics}: 200, Prometheus text. */
  String scrape() throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(server.url().resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).get().asString().startsWith("text/plain");
    return r.body();
  }

  /** The value of one sample of the scrape, or 0 if absent. */
  static double sample(String scrape, String name, Map<String, String> labels) {
    for (String line : scrape.split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      boolean all = labels.entrySet().stream().allMatch(e -> line.contains(e.getKey() + "=\"" + e.getValue() + "\""));
      if (all) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }
}
