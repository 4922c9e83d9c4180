package dev.preview.server;

import static dev.preview.server.Deliveries.GL_TOKEN;
import static dev.preview.server.Deliveries.JSON;
import static dev.preview.server.Deliveries.KEY;
import static dev.preview.server.Deliveries.SECRET;
import static dev.preview.server.Deliveries.SHA;
import static dev.preview.server.Deliveries.json;
import static dev.preview.server.Deliveries.opened;
import static dev.preview.server.Deliveries.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.scm.gitlab.GitLabWebhookSource;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WebhookServerTest extends ServerOverFakes {
  @BeforeEach
  void start() throws Exception {
    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build())
        .policy(PreviewPolicy.defaults())
        .healthCheck(url -> true)
        .build();
    server = WebhookServer.builder().orchestrator(orchestrator)
        .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
        .source(GitLabWebhookSource.builder(Secret.of(GL_TOKEN)).build())
        .port(0).bind("127.0.0.1").maxBodyBytes(64 * 1024).reconcileInterval(Duration.ofMillis(200))
        .start();
  }

  HttpResponse<String> post(String path, Map<String, String> headers, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.url().resolve(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> github(String event, String delivery, byte[] body) throws Exception {
    return post("/webhooks/github", Map.of("X-GitHub-Event", event, "X-GitHub-Delivery", delivery,
        "X-Hub-Signature-256", sign(body), "Content-Type", "application/json"), body);
  }

  @Test
  void aSignedOpenedEventIsAcceptedAndEndsInAReadyStickyComment() throws Exception {
    String delivery = UUID.randomUUID().toString();
    HttpResponse<String> r = github("pull_request", delivery, opened());
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(json(r).path("key").asText()).isEqualTo("acme/shop#42");
    assertThat(json(r).path("action").asText()).isEqualTo("OPENED");

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(scm.latest(KEY)).get().satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.READY)));
    assertThat(scm.comment(KEY)).get().asString()
        .startsWith("<!-- preview.dev:acme/shop#42 -->").contains("Preview READY", "pr-42.preview.example.com", SHA);
    assertThat(env.applied(KEY)).hasSize(1);

    // GitHub redelivers with the same id: answered, not run again
    await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 0);
    HttpResponse<String> again = github("pull_request", delivery, opened());
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(json(again).path("status").asText()).isEqualTo("duplicate");
    assertThat(env.applied(KEY)).hasSize(1);
  }

  @Test
  void pingAndIgnoredEventsAre200() throws Exception {
    byte[] ping = "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":30}".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r = github("ping", "d-1", ping);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r).path("status").asText()).isEqualTo("ignored");
    HttpResponse<String> issues = github("issues", "d-2", "{\"action\":\"opened\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(issues.statusCode()).isEqualTo(200);
    assertThat(json(issues).path("message").asText()).isEqualTo("event issues is not handled");
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void missingOrBadSignaturesAndTokensAre401() throws Exception {
    byte[] body = opened();
    assertThat(post("/webhooks/github", Map.of("X-GitHub-Event", "pull_request"), body).statusCode()).isEqualTo(401);
    assertThat(post("/webhooks/github", Map.of("X-GitHub-Event", "pull_request",
        "X-Hub-Signature-256", "sha256=" + "0".repeat(64)), body).statusCode()).isEqualTo(401);
    assertThat(post("/webhooks/gitlab", Map.of("X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", "wrong"), body).statusCode())
        .isEqualTo(401);
    assertThat(post("/webhooks/gitlab", Map.of("X-Gitlab-Event", "Merge Request Hook"), body).statusCode()).isEqualTo(401);
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void aMalformedBodyIs400() throws Exception {
    byte[] notJson = "{\"action\": \"opened\", ".getBytes(StandardCharsets.UTF_8);
    assertThat(github("pull_request", "d-3", notJson).statusCode()).isEqualTo(400);
    byte[] noHead = "{\"action\":\"opened\",\"pull_request\":{\"number\":42}}".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r = github("pull_request", "d-4", noHead);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).path("message").asText()).contains("repository.full_name");
  }

  @Test
  void aBodyAboveTheCapIs413() throws Exception {
    byte[] big = new byte[64 * 1024 + 1];
    HttpResponse<String> r = github("pull_request", "d-5", big);
    assertThat(r.statusCode()).isEqualTo(413);
  }

  @Test
  void aChunkedBodyWithoutContentLengthIs413AsSoonAsItPassesTheCapNotWhenItEnds() throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
      java.io.OutputStream out = s.getOutputStream();
      out.write(("POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: d-chunked\r\n"
          + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(("10000\r\n").getBytes(StandardCharsets.US_ASCII)); // 64 KB: the cap itself
      out.write(new byte[64 * 1024]);
      out.write(("\r\n1\r\nx\r\n").getBytes(StandardCharsets.US_ASCII)); // one byte over; the body never ends
      out.flush();
      // answered while the body is still open: the cap is enforced while reading (waiting for the end would be a 408 after 20 s)
      assertThat(WebhookServerSlowClientTest.readToEnd(s)).startsWith("HTTP/1.1 413");
    }
  }

  @Test
  void healthzWrongMethodUnknownPathsAndPeriodicReconcile() throws Exception {
    HttpResponse<String> health = client.send(HttpRequest.newBuilder(server.url().resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(json(health).path("status").asText()).isEqualTo("ok");
    assertThat(client.send(HttpRequest.newBuilder(server.url().resolve("/webhooks/github")).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode()).isEqualTo(405);
    assertThat(post("/webhooks/bitbucket", Map.of(), new byte[0]).statusCode()).isEqualTo(404);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(json(client.send(
        HttpRequest.newBuilder(server.url().resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString()))
        .path("lastReconcile").asText()).contains("actions"));
  }

  @Test
  void aGitLabMergeRequestIsAccepted() throws Exception {
    ObjectNode root = JSON.createObjectNode().put("object_kind", "merge_request");
    root.putObject("project").put("path_with_namespace", "acme/shop");
    root.putObject("user").put("username", "root");
    root.putObject("object_attributes").put("iid", 42).put("action", "open").put("state", "opened")
        .put("source_branch", "feature/basket").put("target_branch", "main").put("source_project_id", 14).put("target_project_id", 14)
        .putObject("last_commit").put("id", SHA);
    HttpResponse<String> r = post("/webhooks/gitlab", Map.of("X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", GL_TOKEN,
        "Idempotency-Key", UUID.randomUUID().toString()), root.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(scm.latest(KEY)).get().satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.READY)));
  }
}
