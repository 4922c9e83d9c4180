package dev.preview.server;

import static dev.preview.server.Deliveries.SECRET;
import static dev.preview.server.Deliveries.SHA;
import static dev.preview.server.Deliveries.json;
import static dev.preview.server.Deliveries.opened;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The PR's webhook comes before its image: the preview waits, and the CI's workflow_run webhook deploys it. */
class WebhookServerBuildEventsTest extends ServerOverFakes {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);


  @BeforeEach
  void start() throws Exception {
    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().image("registry.example/shop:pr-42").build()).healthCheck(url -> true)
        .buildSettings(BuildSettings.builder().waitFor(List.of("build-image")).build())
        .build();
    server = WebhookServer.builder().orchestrator(orchestrator)
        .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build()).port(0).bind("127.0.0.1").start();
  }

  HttpResponse<String> github(String event, String delivery, byte[] body) throws Exception {
    return client.send(Deliveries.github(server, event, delivery, body).build(), HttpResponse.BodyHandlers.ofString());
  }

  static byte[] workflowRun(String name, String sha, String status, String conclusion) {
    ObjectNode root = Deliveries.JSON.createObjectNode().put("action", status.equals("completed") ? "completed" : "in_progress");
    ObjectNode run = root.putObject("workflow_run").put("id", 30433642).put("name", name).put("head_sha", sha)
        .put("status", status).put("html_url", "https://github.com/acme/shop/actions/runs/30433642");
    if (conclusion == null) {
      run.putNull("conclusion");
    } else {
      run.put("conclusion", conclusion);
    }
    root.putObject("repository").put("full_name", "acme/shop");
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void the_preview_waits_then_the_workflow_run_deploys_it_and_other_reports_are_ignored() throws Exception {
    assertThat(github("pull_request", "d-pr", opened()).statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(KEY).map(s -> s.state() == PreviewState.WAITING).orElse(false));
    assertThat(scm.latest(KEY).orElseThrow().message()).contains("registry.example/shop:pr-42", "build-image");

    HttpResponse<String> running = github("workflow_run", "d-1", workflowRun("build-image", SHA, "in_progress", null));
    HttpResponse<String> lint = github("workflow_run", "d-2", workflowRun("lint", SHA, "completed", "success"));
    HttpResponse<String> otherSha = github("workflow_run", "d-3",
        workflowRun("build-image", "9049f1265b7d61be4a8904a9a27120d2064dab3b", "completed", "success"));
    assertThat(running.statusCode()).isEqualTo(200);
    assertThat(json(running).path("message").asText()).contains("still in_progress");
    assertThat(lint.statusCode()).isEqualTo(200);
    assertThat(json(lint).path("message").asText()).contains("lint is not one of build.waitFor");
    assertThat(otherSha.statusCode()).isEqualTo(200);
    assertThat(json(otherSha).path("message").asText()).contains("no preview waits for");
    assertThat(env.applied()).isEmpty();

    HttpResponse<String> built = github("workflow_run", "d-4", workflowRun("build-image", SHA, "completed", "success"));

    assertThat(built.statusCode()).isEqualTo(202);
    assertThat(json(built).path("message").asText()).contains("acme/shop#42 deploys");
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(KEY).map(s -> s.state() == PreviewState.READY).orElse(false));
    assertThat(env.current(KEY).orElseThrow().revision()).isEqualTo(SHA);
  }

  @Test
  void a_failed_build_fails_the_preview_with_the_conclusion_and_link() throws Exception {
    github("pull_request", "d-pr", opened());
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(KEY).map(s -> s.state() == PreviewState.WAITING).orElse(false));

    HttpResponse<String> failed = github("workflow_run", "d-5", workflowRun("build-image", SHA, "completed", "failure"));

    assertThat(failed.statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(KEY).map(s -> s.state() == PreviewState.FAILED).orElse(false));
    assertThat(scm.latest(KEY).orElseThrow().message())
        .contains("build-image concluded failure", "https://github.com/acme/shop/actions/runs/30433642");
    assertThat(env.applied()).isEmpty();
  }
}
