package dev.preview.server;

import static dev.preview.server.Deliveries.GL_TOKEN;
import static dev.preview.server.Deliveries.JSON;
import static dev.preview.server.Deliveries.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.scm.gitlab.GitLabWebhookSource;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A late or out-of-order delivery never rolls a preview back: real signed deliveries shaped like
 * GitHub's {@code pull_request} and GitLab's {@code merge_request} hooks, with the SCM saying the head
 * is the newer commit; the preview ends READY at it, its image and revision label those of the newer commit.
 */
class WebhookServerRollbackTest extends ServerOverFakes {
  static final String OLD = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final String NEW = "9049f1265b7d61be4a8904a9a27120d2064dab3b";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);


  @BeforeEach
  void start() throws Exception {
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().image("ghcr.io/acme/shop:pr-{number}-{shortSha}").build())
        .policy(PreviewPolicy.defaults())
        .healthCheck(url -> true)
        .build();
    server = WebhookServer.builder().orchestrator(orchestrator)
        .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
        .source(GitLabWebhookSource.builder(Secret.of(GL_TOKEN)).build())
        .port(0).bind("127.0.0.1").reconcileInterval(Duration.ZERO)
        .start();
  }

  static byte[] github(String action, String sha, List<String> labels, String label) {
    ObjectNode root = JSON.createObjectNode().put("action", action).put("number", 42);
    ObjectNode pr = root.putObject("pull_request").put("number", 42).put("state", "open").put("draft", false)
        .put("merged", false);
    pr.putObject("user").put("login", "octocat");
    ArrayNode l = pr.putArray("labels");
    labels.forEach(name -> l.addObject().put("name", name));
    ObjectNode head = pr.putObject("head").put("ref", "feature/basket").put("sha", sha);
    head.putObject("repo").put("full_name", "acme/shop");
    pr.putObject("base").put("ref", "main").putObject("repo").put("full_name", "acme/shop");
    if (label != null) {
      root.putObject("label").put("name", label);
    }
    if (action.equals("synchronize")) {
      root.put("before", OLD).put("after", sha);
    }
    root.putObject("repository").put("full_name", "acme/shop").put("default_branch", "main");
    root.putObject("sender").put("login", "octocat");
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] gitlab(String action, String sha, String oldrev, List<String> before, List<String> after) {
    ObjectNode root = JSON.createObjectNode().put("object_kind", "merge_request").put("event_type", "merge_request");
    root.putObject("project").put("path_with_namespace", "acme/shop");
    root.putObject("user").put("username", "root");
    ObjectNode attrs = root.putObject("object_attributes").put("iid", 42).put("action", action).put("state", "opened")
        .put("source_branch", "feature/basket").put("target_branch", "main").put("source_project_id", 14)
        .put("target_project_id", 14);
    attrs.putObject("last_commit").put("id", sha);
    if (oldrev != null) {
      attrs.put("oldrev", oldrev);
    }
    ArrayNode labels = root.putArray("labels");
    after.forEach(t -> labels.addObject().put("title", t));
    if (!before.equals(after)) {
      ObjectNode changes = root.putObject("changes").putObject("labels");
      ArrayNode p = changes.putArray("previous");
      before.forEach(t -> p.addObject().put("title", t));
      ArrayNode c = changes.putArray("current");
      after.forEach(t -> c.addObject().put("title", t));
    }
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }

  int postGitHub(String event, byte[] body) throws Exception {
    return client.send(Deliveries.github(server, event, UUID.randomUUID().toString(), body).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  int postGitLab(byte[] body) throws Exception {
    return client.send(HttpRequest.newBuilder(server.url().resolve("/webhooks/gitlab"))
        .header("X-Gitlab-Event", "Merge Request Hook").header("X-Gitlab-Token", GL_TOKEN)
        .header("Idempotency-Key", UUID.randomUUID().toString())
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  void awaitReadyAt(String sha, int deploys) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(env.applied(KEY)).hasSize(deploys);
      assertThat(scm.latest(KEY)).get().satisfies(s -> {
        assertThat(s.state()).isEqualTo(PreviewState.READY);
        assertThat(s.revision()).isEqualTo(sha);
      });
      assertThat(server.inFlight()).isZero();
    });
    EnvironmentSpec spec = env.current(KEY).orElseThrow();
    assertThat(spec.revision()).isEqualTo(sha);
    assertThat(spec.labels()).containsEntry(Labels.REVISION, sha);
    assertThat(spec.image()).isEqualTo("ghcr.io/acme/shop:pr-42-" + sha.substring(0, 7));
    assertThat(orchestrator.get(KEY)).get().satisfies(p -> assertThat(p.revision()).isEqualTo(sha));
  }

  @Test
  void gitHubLabeledAtTheOldShaAfterASynchronizeEndsReadyAtTheNewSha() throws Exception {
    prs.put(PullRequest.open(KEY, OLD, "feature/basket", "main"));
    assertThat(postGitHub("pull_request", github("opened", OLD, List.of(), null))).isEqualTo(202);
    awaitReadyAt(OLD, 1);

    prs.put(PullRequest.open(KEY, NEW, "feature/basket", "main"));
    assertThat(postGitHub("pull_request", github("synchronize", NEW, List.of(), null))).isEqualTo(202);
    awaitReadyAt(NEW, 2);

    prs.put(PullRequest.open(KEY, NEW, "feature/basket", "main").withLabels(Set.of("flag:dark-mode")));
    assertThat(postGitHub("pull_request", github("labeled", OLD, List.of("flag:dark-mode"), "flag:dark-mode")))
        .isEqualTo(202);
    awaitReadyAt(NEW, 3);
    assertThat(env.applied(KEY)).extracting(EnvironmentSpec::revision).containsExactly(OLD, NEW, NEW);
    assertThat(env.current(KEY).orElseThrow().flags()).containsEntry("dark-mode", true);
  }

  @Test
  void gitLabLabelsUpdateCarryingTheOlderLastCommitAfterANewCommitEndsReadyAtTheNewSha() throws Exception {
    prs.put(PullRequest.open(KEY, OLD, "feature/basket", "main"));
    assertThat(postGitLab(gitlab("open", OLD, null, List.of(), List.of()))).isEqualTo(202);
    awaitReadyAt(OLD, 1);

    prs.put(PullRequest.open(KEY, NEW, "feature/basket", "main"));
    assertThat(postGitLab(gitlab("update", NEW, OLD, List.of(), List.of()))).isEqualTo(202);
    awaitReadyAt(NEW, 2);

    prs.put(PullRequest.open(KEY, NEW, "feature/basket", "main").withLabels(Set.of("flag:dark-mode")));
    assertThat(postGitLab(gitlab("update", OLD, null, List.of(), List.of("flag:dark-mode")))).isEqualTo(202);
    awaitReadyAt(NEW, 3);
    assertThat(env.applied(KEY)).extracting(EnvironmentSpec::revision).containsExactly(OLD, NEW, NEW);
    assertThat(env.current(KEY).orElseThrow().flags()).containsEntry("dark-mode", true);
  }
}
