package dev.preview.scm.gitlab;

import static dev.preview.scm.gitlab.GitLabPullRequestSourceTest.finished;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A restarted orchestrator on GitLab corrects the merged and closed MRs the old process left showing
 * DELETING or "teardown incomplete": its reconcile finds them through
 * {@link GitLabPullRequestSource#listRecentlyClosed}, not through anything it remembers.
 */
class GitLabRestartConvergenceTest {
  static final String REPO = "acme/platform/shop";
  static final String PROJECT = "acme%2Fplatform%2Fshop";
  static final String MRS = "/api/v4/projects/" + PROJECT + "/merge_requests";

  @StartStop final MockWebServer server = new MockWebServer();
  final FakeGitLab gl = new FakeGitLab(100);
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  GitLabNotifier notifier() {
    return GitLabNotifier.builder(server.url("/").toString(), Secret.of("glpat-secret")).environments(false).commitStatus(false)
        .sleeper(d -> {}).build();
  }

  static PreviewStatus status(int iid, PreviewState state, String message, String failedStep) {
    return new PreviewStatus(PreviewKey.pr(REPO, iid), state, String.format("%040x", iid), null, Map.of(), message, failedStep,
        List.of(), Map.of(), Instant.parse("2026-12-01T08:00:00Z"));
  }

  @Test
  void aRestartedReconcileCorrectsAMergedMrShowingDeletingAndAClosedOneShowingATeardownFailure() {
    server.setDispatcher(gl);
    Map<Integer, ObjectNode> mrs = new TreeMap<>();
    mrs.put(7, finished(7, "merged", "2026-12-01T10:00:00.000Z"));
    mrs.put(8, finished(8, "closed", "2026-12-01T09:00:00.000Z"));
    mrs.put(6, finished(6, "closed", "2026-11-30T09:00:00.000Z"));
    gl.mergeRequests.put(PROJECT, mrs);

    // The old process: its last words on each MR, before it died.
    GitLabNotifier old = notifier();
    old.publish(status(7, PreviewState.DELETING, "tearing down", null));
    old.publish(status(8, PreviewState.FAILED, "teardown incomplete (dns: 502 Bad Gateway); the next reconcile finishes it", "teardown"));
    old.publish(status(6, PreviewState.DELETED, "deleted", null));
    List<String> sixBefore = gl.noteBodies(PROJECT, 6);
    assertThat(gl.noteBodies(PROJECT, 7)).singleElement().asString().doesNotContain("Preview deleted");
    assertThat(gl.noteBodies(PROJECT, 8)).singleElement().asString().doesNotContain("Preview deleted");

    // The new process: nothing deployed, nothing remembered.
    orchestrator = PreviewOrchestrator.builder().environment(new FakeEnvironmentProvider()).notifier(notifier())
        .pullRequests(GitLabPullRequestSource.create(server.url("/").toString(), Secret.of("glpat-secret"), Clock.systemUTC(), d -> {}))
        .repositories(List.of(REPO)).app(AppTemplate.builder().hostnameTemplate("mr-{number}.preview.example.com").build())
        .healthCheck(url -> true).build();
    orchestrator.reconcile(false);

    assertThat(gl.noteBodies(PROJECT, 7)).singleElement().asString().contains("Preview deleted");
    assertThat(gl.noteBodies(PROJECT, 8)).singleElement().asString().contains("Preview deleted");
    assertThat(gl.noteBodies(PROJECT, 6)).as("already showing DELETED: left alone").isEqualTo(sixBefore);
    assertThat(gl.mergeRequestListings).containsExactly(
        MRS + "?state=opened&per_page=100",
        MRS + "?state=closed&order_by=updated_at&sort=desc&per_page=50",
        MRS + "?state=merged&order_by=updated_at&sort=desc&per_page=50");
  }
}
