package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {
  @TempDir Path dir;
  final HttpClient client = HttpClient.newHttpClient();

  Path config(String scm) throws Exception {
    Path f = dir.resolve("preview.yaml");
    Files.writeString(f, String.join("\n",
        "repository: acme/shop",
        "app:",
        "  command: ['true']",
        CliRun.localEnvironment(dir),
        scm,
        ""));
    return f;
  }

  @Test
  void servesTheScmOfTheConfigurationOnAFreePort() throws Exception {
    Path f = config(String.join("\n", "scm:", "  provider: github", "  token: ghp_test", "  webhookSecret: s3cret",
        "  baseUrl: http://127.0.0.1:9/api/v3"));
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", f.toString(), "--port", "0", "--bind", "127.0.0.1",
        "--reconcile-interval", "0");
    try (ServeCommand.Running running = cmd.start()) {
      assertThat(running.webhookPath()).isEqualTo("/webhooks/github");
      var base = running.server().url();
      assertThat(client.send(HttpRequest.newBuilder(base.resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
      byte[] ping = "{\"zen\":\"Design for failure.\",\"hook_id\":1}".getBytes(StandardCharsets.UTF_8);
      HttpRequest unsigned = HttpRequest.newBuilder(base.resolve("/webhooks/github")).header("X-GitHub-Event", "ping")
          .POST(HttpRequest.BodyPublishers.ofByteArray(ping)).build();
      assertThat(client.send(unsigned, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
      HttpRequest signed = HttpRequest.newBuilder(base.resolve("/webhooks/github")).header("X-GitHub-Event", "ping")
          .header("X-Hub-Signature-256", sign("s3cret", ping)).POST(HttpRequest.BodyPublishers.ofByteArray(ping)).build();
      assertThat(client.send(signed, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aConfigurationWithoutAWebhookScmIsRefusedWithEveryProblem() throws Exception {
    Path f = config(String.join("\n", "scm:", "  provider: console"));
    StringWriter err = new StringWriter();
    CommandLine line = new CommandLine(new ServeCommand());
    line.setErr(new PrintWriter(err, true));
    int code = line.execute("--config", f.toString(), "--port", "0", "--max-body-size", "lots");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("scm.provider: preview serve receives webhooks from", "github", "gitlab", "--max-body-size");
  }

  @Test
  void aMissingWebhookSecretIsAConfigurationError() throws Exception {
    Path f = config(String.join("\n", "scm:", "  provider: gitlab", "  token: glpat-x"));
    StringWriter err = new StringWriter();
    CommandLine line = new CommandLine(new ServeCommand());
    line.setErr(new PrintWriter(err, true));
    assertThat(line.execute("--config", f.toString(), "--port", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("scm.webhookSecret: is required");
  }

  static String sign(String secret, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    StringBuilder hex = new StringBuilder("sha256=");
    for (byte b : mac.doFinal(body)) {
      hex.append(String.format("%02x", b));
    }
    return hex.toString();
  }
}
