package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import io.micrometer.core.instrument.Meter;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The delivery meters stay bounded whatever unverified senders put in headers; chunked bodies are read whole. */
class WebhookServerDeliveryMetersTest extends ServerWithMetrics {
  void start() throws Exception {
    prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().build()).healthCheck(url -> true).listener(metrics).build();
    server = WebhookServer.builder().orchestrator(orchestrator).metrics(metrics)
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build()).port(0).bind("127.0.0.1").start();
  }

  long deliveryMeters() {
    return metrics.registry().getMeters().stream().map(Meter::getId).filter(id -> id.getName().equals("preview.webhook.deliveries")).count();
  }

  @Test
  void madeUpEventNamesOfUnverifiedDeliveriesShareOneMeter() throws Exception {
    start();
    byte[] body = Deliveries.opened();
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> r = client.send(Deliveries.github(server, "made-up-" + i, "d-" + i, body, "sha256=" + "0".repeat(64)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(401);
    }
    // one meter for all 50 made-up names: {event=other, outcome=rejected}, counting them all
    assertThat(deliveryMeters()).isEqualTo(1);
    assertThat(sample(scrape(), "preview_webhook_deliveries_total", Map.of("event", "other", "outcome", "rejected"))).isEqualTo(50);
    // a known name keeps its tag even when rejected; a verified delivery keeps whatever the SCM called it
    client.send(Deliveries.github(server, "pull_request", "d-x", body, "sha256=" + "0".repeat(64)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(client.send(Deliveries.github(server, "pull_request", "d-ok", body).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(202);
    String scrape = scrape();
    assertThat(sample(scrape, "preview_webhook_deliveries_total", Map.of("event", "pull_request", "outcome", "rejected"))).isEqualTo(1);
    assertThat(sample(scrape, "preview_webhook_deliveries_total", Map.of("event", "pull_request", "outcome", "accepted"))).isEqualTo(1);
    assertThat(sample(scrape, "preview_webhook_ack_seconds_count", Map.of("provider", "github"))).isEqualTo(52);
  }

  @Test
  void aChunkedBodyWithoutContentLengthIsReadWholeAndVerified() throws Exception {
    start();
    com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode) Deliveries.JSON.readTree(Deliveries.opened());
    root.put("padding", "x".repeat(30_000)); // larger than the 8 KB a body of unknown length starts with
    byte[] body = root.toString().getBytes(StandardCharsets.UTF_8);
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: pull_request\r\n"
          + "X-GitHub-Delivery: d-chunked\r\nX-Hub-Signature-256: " + Deliveries.sign(body) + "\r\nTransfer-Encoding: chunked\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      // chunks of 3000 bytes: the body array starts at 8 KB and has to grow
      for (int off = 0; off < body.length; off += 3000) {
        int n = Math.min(3000, body.length - off);
        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body, off, n);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 202").contains("\"status\":\"accepted\"");
    }
    assertThat(body.length).as("the body is larger than the first array").isGreaterThan(8192);
  }
}
