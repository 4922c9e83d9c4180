package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code preview serve} starts the gateway of the {@code gateway:} section (or {@code --gateway-port}) on its own port. */
class ServeGatewayTest {
  @TempDir Path dir;
  final HttpClient client = HttpClient.newHttpClient();

  Path config(String gateway) throws Exception {
    return ServeConfigs.write(dir, java.util.List.of("hostname: 'pr-{number}.preview.example.com'"), gateway);
  }

  @Test
  void theGatewayOfTheConfigurationAnswersOnItsOwnPortAndItsMetricsAreOnTheServers() throws Exception {
    Path f = config(String.join("\n", "gateway:", "  port: 0", "  bind: 127.0.0.1", "  pathPrefix: /pr/{number}/",
        "  access:", "    mode: token", "    signingKey: 0123456789abcdef0123456789abcdef"));
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", f.toString(), "--port", "0", "--bind", "127.0.0.1",
        "--reconcile-interval", "0");
    try (ServeCommand.Running running = cmd.start()) {
      var gateway = running.gateway().orElseThrow();
      assertThat(gateway.port()).isNotEqualTo(running.server().port());
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(gateway.url().resolve("/pr/7/")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.headers().firstValue("X-Robots-Tag")).hasValue("noindex, nofollow");
      String metrics = client.send(HttpRequest.newBuilder(running.server().url().resolve("/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("preview_gateway_requests_total{outcome=\"unknown\",status=\"4xx\"} 1.0");
      assertThat(gateway.url(dev.preview.spi.PreviewKey.pr("acme/shop", 7)))
          .hasValue(URI.create("http://pr-7.preview.example.com:" + gateway.port() + "/"));
    }
  }

  @Test
  void gatewayProblemsAreReportedWithTheOthersAndTheOptionsOverrideTheSection() throws Exception {
    Path f = config(String.join("\n", "gateway:", "  access:", "    mode: token", "  colour: blue"));
    ServeCommand bad = CommandLine.populateCommand(new ServeCommand(), "--config", f.toString(), "--threads", "0");
    assertThatThrownBy(bad::start).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("--threads: must be at least 1")
        .hasMessageContaining("gateway.access.signingKey: is required with mode: token")
        .hasMessageContaining("gateway.colour: unknown key");

    Path none = config("");
    ServeCommand withPort = CommandLine.populateCommand(new ServeCommand(), "--config", none.toString(), "--port", "0", "--bind", "127.0.0.1",
        "--reconcile-interval", "0", "--gateway-port", "0", "--gateway-bind", "127.0.0.1");
    try (ServeCommand.Running running = withPort.start()) {
      assertThat(running.gateway()).isPresent();
      assertThat(running.gateway().get().url().getHost()).isEqualTo("127.0.0.1");
    }
    Path section = config(String.join("\n", "gateway:", "  port: 0"));
    ServeCommand off = CommandLine.populateCommand(new ServeCommand(), "--config", section.toString(), "--port", "0", "--bind", "127.0.0.1",
        "--reconcile-interval", "0", "--no-gateway");
    try (ServeCommand.Running running = off.start()) {
      assertThat(running.gateway()).isEmpty();
    }
    ServeCommand both = CommandLine.populateCommand(new ServeCommand(), "--config", section.toString(), "--no-gateway", "--gateway-port", "1");
    assertThatThrownBy(both::start).hasMessageContaining("--no-gateway: cannot be used with --gateway-port");
  }
}
