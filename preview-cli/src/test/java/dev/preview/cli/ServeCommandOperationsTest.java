package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The operations side of {@code preview serve}: /metrics, the server limits and the log format as options. */
class ServeCommandOperationsTest {
  @TempDir Path dir;
  final HttpClient client = HttpClient.newHttpClient();

  Path config() throws Exception {
    return ServeConfigs.write(dir, java.util.List.of());
  }

  @Test
  void metricsAreServedAndCountTheDeliveries() throws Exception {
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", config().toString(), "--port", "0",
        "--bind", "127.0.0.1", "--reconcile-interval", "0", "--idle-timeout", "5s", "--request-timeout", "5s", "--max-connections", "64");
    try (ServeCommand.Running running = cmd.start()) {
      var base = running.server().url();
      byte[] ping = "{\"zen\":\"Design for failure.\",\"hook_id\":1}".getBytes(StandardCharsets.UTF_8);
      HttpRequest signed = HttpRequest.newBuilder(base.resolve("/webhooks/github")).header("X-GitHub-Event", "ping")
          .header("X-GitHub-Delivery", "d-1").header("X-Hub-Signature-256", ServeCommandTest.sign("s3cret", ping))
          .POST(HttpRequest.BodyPublishers.ofByteArray(ping)).build();
      assertThat(client.send(signed, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("preview_webhook_deliveries_total{event=\"ping\",outcome=\"ignored\",provider=\"github\"} 1.0");
      assertThat(metrics.body()).doesNotContain("s3cret", "ghp_test");
    }
  }

  @Test
  void noMetricsMeansNoEndpoint() throws Exception {
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", config().toString(), "--port", "0",
        "--bind", "127.0.0.1", "--reconcile-interval", "0", "--no-metrics");
    try (ServeCommand.Running running = cmd.start()) {
      assertThat(client.send(HttpRequest.newBuilder(running.server().url().resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(404);
    }
  }

  @Test
  void badServerOptionsAreReportedTogether() throws Exception {
    StringWriter err = new StringWriter();
    CommandLine line = new CommandLine(new ServeCommand());
    line.setErr(new PrintWriter(err, true));
    int code = line.execute("--config", config().toString(), "--port", "0", "--log-format", "xml", "--idle-timeout", "0s",
        "--request-timeout", "soon", "--threads", "0", "--max-connections", "0");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--log-format: must be text or json, got \"xml\"", "--idle-timeout: must be longer than zero",
        "--request-timeout:", "--threads: must be at least 1", "--max-connections: must be at least 1");
  }
}
