package dev.preview.scm.github;

import static dev.preview.scm.github.GitHubWebhookSourceTest.signed;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.WebhookResult.Reason;
import dev.preview.scm.WebhookResult.Rejected;
import dev.preview.spi.BuildEvent;
import dev.preview.spi.BuildEvent.Conclusion;
import dev.preview.spi.Secret;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** check_suite, check_run, workflow_run and status deliveries become BuildEvents, after the signature is verified. */
class GitHubBuildEventsTest {
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  final GitHubWebhookSource source = GitHubWebhookSource.builder(Secret.of(GitHubWebhookSourceTest.SECRET)).build();

  BuildEvent only(WebhookResult r) {
    assertThat(r).isInstanceOf(WebhookResult.Build.class);
    assertThat(r.httpStatus()).isEqualTo(202);
    assertThat(r.deliveryId()).isEqualTo("72d3162e-cc78-11e3-81ab-4c9367dc0958");
    List<BuildEvent> events = ((WebhookResult.Build) r).events();
    assertThat(events).hasSize(1);
    return events.get(0);
  }

  @Test
  void a_completed_workflow_run_is_a_success_named_by_the_workflow_with_a_link_to_the_run() {
    BuildEvent e = only(source.handle(signed("workflow_run", Fixtures.bytes(Fixtures.load("github/workflow_run.completed.json")))));

    assertThat(e).isEqualTo(new BuildEvent("acme/shop", SHA, "build-image", Conclusion.SUCCESS, "success",
        URI.create("https://github.com/acme/shop/actions/runs/30433642"), "72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  }

  @Test
  void a_completed_check_suite_is_named_by_its_app_slug() {
    BuildEvent e = only(source.handle(signed("check_suite", Fixtures.bytes(Fixtures.load("github/check_suite.completed.json")))));

    assertThat(e.repository()).isEqualTo("acme/shop");
    assertThat(e.sha()).isEqualTo(SHA);
    assertThat(e.name()).isEqualTo("github-actions");
    assertThat(e.conclusion()).isEqualTo(Conclusion.SUCCESS);
    assertThat(e.url()).as("a check suite has only an API url, no page to link").isNull();
  }

  @Test
  void a_failed_check_run_carries_its_conclusion_and_page() {
    BuildEvent e = only(source.handle(signed("check_run", Fixtures.bytes(Fixtures.load("github/check_run.completed.json")))));

    assertThat(e.name()).isEqualTo("build-image");
    assertThat(e.conclusion()).isEqualTo(Conclusion.FAILURE);
    assertThat(e.detail()).isEqualTo("failure");
    assertThat(e.url()).isEqualTo(URI.create("https://github.com/acme/shop/runs/128620228"));
  }

  @Test
  void a_commit_status_is_named_by_its_context() {
    BuildEvent e = only(source.handle(signed("status", Fixtures.bytes(Fixtures.load("github/status.json")))));

    assertThat(e).isEqualTo(new BuildEvent("acme/shop", SHA, "ci/build-image", Conclusion.SUCCESS, "success",
        URI.create("https://ci.example.com/acme/shop/builds/562"), "72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  }

  @ParameterizedTest
  @CsvSource({
      "completed, success, SUCCESS", "completed, neutral, SUCCESS", "completed, failure, FAILURE",
      "completed, timed_out, FAILURE", "completed, cancelled, FAILURE", "completed, skipped, FAILURE",
      "completed, action_required, FAILURE", "completed, startup_failure, FAILURE",
      "in_progress, , PENDING", "queued, , PENDING", "requested, , PENDING"})
  void workflow_run_states_map_onto_conclusions(String status, String conclusion, Conclusion expected) {
    ObjectNode root = Fixtures.load("github/workflow_run.completed.json");
    ObjectNode run = Fixtures.obj(root, "/workflow_run");
    run.put("status", status);
    if (conclusion == null) {
      run.putNull("conclusion"); // GitHub sends null until the run completes
      root.put("action", status.equals("requested") ? "requested" : "in_progress");
    } else {
      run.put("conclusion", conclusion);
    }

    BuildEvent e = only(source.handle(signed("workflow_run", Fixtures.bytes(root))));

    assertThat(e.conclusion()).isEqualTo(expected);
    assertThat(e.detail()).isEqualTo(conclusion == null ? status : conclusion);
  }

  @ParameterizedTest
  @CsvSource({"success, SUCCESS", "failure, FAILURE", "error, FAILURE", "pending, PENDING"})
  void status_states_map_onto_conclusions(String state, Conclusion expected) {
    ObjectNode root = Fixtures.load("github/status.json");
    root.put("state", state);
    assertThat(only(source.handle(signed("status", Fixtures.bytes(root)))).conclusion()).isEqualTo(expected);
  }

  @Test
  void an_unsigned_or_wrongly_signed_check_suite_is_rejected_before_it_is_read() {
    byte[] body = Fixtures.bytes(Fixtures.load("github/check_suite.completed.json"));
    WebhookResult unsigned = source.handle(WebhookRequest.of(Map.of("X-GitHub-Event", "check_suite"), body));
    WebhookResult forged = source.handle(WebhookRequest.of(Map.of("X-GitHub-Event", "check_suite",
        "X-Hub-Signature-256", "sha256=" + "0".repeat(64)), body));

    assertThat(unsigned).isInstanceOf(Rejected.class);
    assertThat(((Rejected) unsigned).reason()).isEqualTo(Reason.UNAUTHORIZED);
    assertThat(forged).isInstanceOf(Rejected.class);
    assertThat(((Rejected) forged).reason()).isEqualTo(Reason.UNAUTHORIZED);
  }

  @Test
  void a_payload_missing_its_head_sha_or_name_is_malformed_and_says_which_field() {
    ObjectNode noSha = Fixtures.load("github/workflow_run.completed.json");
    Fixtures.obj(noSha, "/workflow_run").remove("head_sha");
    ObjectNode noName = Fixtures.load("github/check_run.completed.json");
    Fixtures.obj(noName, "/check_run").remove("name");
    ObjectNode badSha = Fixtures.load("github/status.json");
    badSha.put("sha", "main; rm -rf /");

    WebhookResult a = source.handle(signed("workflow_run", Fixtures.bytes(noSha)));
    WebhookResult b = source.handle(signed("check_run", Fixtures.bytes(noName)));
    WebhookResult c = source.handle(signed("status", Fixtures.bytes(badSha)));

    assertThat(a).isInstanceOf(Rejected.class);
    assertThat(((Rejected) a).reason()).isEqualTo(Reason.MALFORMED);
    assertThat(((Rejected) a).message()).isEqualTo("workflow_run: payload has no head_sha");
    assertThat(((Rejected) b).message()).isEqualTo("check_run: payload has no name");
    assertThat(((Rejected) c).message()).startsWith("status: /sha is not a commit SHA");
  }
}
