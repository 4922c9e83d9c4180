package dev.preview.scm.gitlab;

import static dev.preview.scm.gitlab.GitLabWebhookSourceTest.delivery;
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

/** A Pipeline Hook becomes one BuildEvent for the pipeline and one per job, after the token is checked. */
class GitLabBuildEventsTest {
  static final String SHA = "bcbb5ec396a2c0f828686f14fac9b80b780504f2";
  final GitLabWebhookSource source = GitLabWebhookSource.builder(Secret.of(GitLabWebhookSourceTest.TOKEN)).build();

  List<BuildEvent> events(WebhookResult r) {
    assertThat(r).isInstanceOf(WebhookResult.Build.class);
    assertThat(r.httpStatus()).isEqualTo(202);
    return ((WebhookResult.Build) r).events();
  }

  @Test
  void a_pipeline_gives_the_pipeline_and_each_job_with_links() {
    List<BuildEvent> events = events(source.handle(delivery("Pipeline Hook", Fixtures.bytes(Fixtures.load("gitlab/pipeline.json")))));

    assertThat(events).extracting(BuildEvent::name, BuildEvent::conclusion, BuildEvent::detail).containsExactly(
        org.assertj.core.groups.Tuple.tuple("Pipeline for branch: feature/basket", Conclusion.SUCCESS, "success"),
        org.assertj.core.groups.Tuple.tuple("build-image", Conclusion.SUCCESS, "success"),
        org.assertj.core.groups.Tuple.tuple("unit-tests", Conclusion.FAILURE, "failed"));
    assertThat(events).allSatisfy(e -> {
      assertThat(e.repository()).isEqualTo("acme/platform/shop");
      assertThat(e.sha()).isEqualTo(SHA);
    });
    assertThat(events.get(0).url()).isEqualTo(URI.create("https://gitlab.example.com/acme/platform/shop/-/pipelines/31"));
    assertThat(events.get(1).url()).isEqualTo(URI.create("https://gitlab.example.com/acme/platform/shop/-/jobs/380"));
  }

  @Test
  void a_pipeline_without_name_or_url_is_called_pipeline_and_links_from_the_project() {
    ObjectNode root = Fixtures.load("gitlab/pipeline.json");
    Fixtures.obj(root, "/object_attributes").remove(List.of("name", "url"));
    root.remove("builds");

    List<BuildEvent> events = events(source.handle(delivery("Pipeline Hook", Fixtures.bytes(root))));

    assertThat(events).singleElement().satisfies(e -> {
      assertThat(e.name()).isEqualTo("pipeline");
      assertThat(e.url()).isEqualTo(URI.create("https://gitlab.example.com/acme/platform/shop/-/pipelines/31"));
    });
  }

  @ParameterizedTest
  @CsvSource({"success, SUCCESS", "failed, FAILURE", "canceled, FAILURE", "skipped, FAILURE", "running, PENDING",
      "pending, PENDING", "created, PENDING", "manual, PENDING", "waiting_for_resource, PENDING"})
  void pipeline_statuses_map_onto_conclusions(String status, Conclusion expected) {
    ObjectNode root = Fixtures.load("gitlab/pipeline.json");
    Fixtures.obj(root, "/object_attributes").put("status", status);
    assertThat(events(source.handle(delivery("Pipeline Hook", Fixtures.bytes(root)))).get(0).conclusion()).isEqualTo(expected);
  }

  @Test
  void a_pipeline_with_a_wrong_token_is_rejected_and_one_without_a_sha_is_malformed() {
    byte[] body = Fixtures.bytes(Fixtures.load("gitlab/pipeline.json"));
    WebhookResult wrong = source.handle(WebhookRequest.of(Map.of("X-Gitlab-Event", "Pipeline Hook", "X-Gitlab-Token", "nope"), body));
    ObjectNode noSha = Fixtures.load("gitlab/pipeline.json");
    Fixtures.obj(noSha, "/object_attributes").remove("sha");
    WebhookResult malformed = source.handle(delivery("Pipeline Hook", Fixtures.bytes(noSha)));
    WebhookResult empty = source.handle(delivery("Pipeline Hook", "{\"object_kind\":\"pipeline\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

    assertThat(((Rejected) wrong).reason()).isEqualTo(Reason.UNAUTHORIZED);
    assertThat(((Rejected) malformed).reason()).isEqualTo(Reason.MALFORMED);
    assertThat(((Rejected) malformed).message()).isEqualTo("Pipeline Hook: payload has no sha");
    assertThat(((Rejected) empty).reason()).isEqualTo(Reason.MALFORMED);
  }
}
