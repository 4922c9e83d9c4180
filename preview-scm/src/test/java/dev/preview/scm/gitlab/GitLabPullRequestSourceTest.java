package dev.preview.scm.gitlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class GitLabPullRequestSourceTest {
  @StartStop final MockWebServer server = new MockWebServer();

  GitLabPullRequestSource source() {
    return GitLabPullRequestSource.create(server.url("/gitlab").toString(), Secret.of("glpat-secret"), Clock.systemUTC(), d -> {});
  }

  static ObjectNode mr(int iid) {
    ObjectNode mr = Fixtures.MAPPER.createObjectNode().put("id", 1000 + iid).put("iid", iid).put("project_id", 14)
        .put("state", "opened").put("sha", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7").put("source_branch", "feature/" + iid)
        .put("target_branch", "main").put("source_project_id", 14).put("target_project_id", 14).put("draft", false)
        .put("work_in_progress", false);
    mr.putArray("labels").add("preview");
    mr.putObject("author").put("username", "jsmith");
    return mr;
  }

  static MockResponse page(int from, int to, String next) {
    ArrayNode a = Fixtures.MAPPER.createArrayNode();
    for (int i = from; i <= to; i++) {
      a.add(mr(i));
    }
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").setHeader("X-Next-Page", next).body(a.toString()).build();
  }

  @Test
  void listOpenFollowsXNextPageOnASelfManagedBaseUrl() throws Exception {
    server.enqueue(page(1, 100, "2"));
    server.enqueue(page(101, 150, ""));
    List<PullRequest> open = source().listOpen("acme/platform/shop");
    assertThat(open).hasSize(150);
    assertThat(open.get(0).labels()).containsExactly("preview");
    assertThat(open.get(0).author()).isEqualTo("jsmith");
    RecordedRequest first = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(first.getTarget()).isEqualTo("/gitlab/api/v4/projects/acme%2Fplatform%2Fshop/merge_requests?state=opened&per_page=100");
    assertThat(first.getHeaders().get("PRIVATE-TOKEN")).isEqualTo("glpat-secret");
    assertThat(server.takeRequest().getTarget()).isEqualTo("/gitlab/api/v4/projects/acme%2Fplatform%2Fshop/merge_requests?state=opened&per_page=100&page=2");
  }

  @Test
  void failureIsUnknownNeverEmpty() {
    server.enqueue(new MockResponse.Builder().code(401).body("{\"message\":\"401 Unauthorized\"}").build());
    assertThatThrownBy(() -> source().listOpen("acme/platform/shop")).isInstanceOf(ProviderException.class).hasMessageContaining("401 Unauthorized");
  }

  @Test
  void findMapsForkMergedAnd404() {
    ObjectNode merged = mr(7).put("state", "merged").put("source_project_id", 99);
    server.enqueue(new MockResponse.Builder().code(200).body(merged.toString()).build());
    server.enqueue(new MockResponse.Builder().code(404).body("{\"message\":\"404 Not found\"}").build());
    GitLabPullRequestSource src = source();
    PullRequest pr = src.find(PreviewKey.pr("acme/platform/shop", 7)).orElseThrow();
    assertThat(pr.state()).isEqualTo(PullRequest.State.MERGED);
    assertThat(pr.fromFork()).isTrue();
    assertThat(src.find(PreviewKey.pr("acme/platform/shop", 8))).isEmpty();
  }
}
