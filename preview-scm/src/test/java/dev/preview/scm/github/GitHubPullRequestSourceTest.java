package dev.preview.scm.github;

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

class GitHubPullRequestSourceTest {
  @StartStop final MockWebServer server = new MockWebServer();

  GitHubPullRequestSource source() {
    return GitHubPullRequestSource.create(server.url("/api/v3").toString(), GitHubAuth.token(Secret.of("t0k3n")), Clock.systemUTC(), d -> {});
  }

  static String page(int from, int to) {
    ArrayNode a = Fixtures.MAPPER.createArrayNode();
    for (int n = from; n <= to; n++) {
      ObjectNode pr = (ObjectNode) Fixtures.load("github/pull_request.opened.json").get("pull_request");
      pr.put("number", n);
      a.add(pr);
    }
    return a.toString();
  }

  MockResponse json(String body, String link) {
    MockResponse.Builder b = new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(body);
    if (link != null) {
      b.setHeader("Link", link);
    }
    return b.build();
  }

  @Test
  void listOpenFollowsLinkPaginationOnAnEnterpriseBaseUrl() throws Exception {
    String p2 = server.url("/api/v3/repositories/1296269/pulls?state=open&per_page=100&page=2").toString();
    String p3 = server.url("/api/v3/repositories/1296269/pulls?state=open&per_page=100&page=3").toString();
    server.enqueue(json(page(1, 100), "<" + p2 + ">; rel=\"next\", <" + p3 + ">; rel=\"last\""));
    server.enqueue(json(page(101, 200), "<" + server.url("/x") + ">; rel=\"prev\", <" + p3 + ">; rel=\"next\", <" + p3 + ">; rel=\"last\""));
    server.enqueue(json(page(201, 205), "<" + p2 + ">; rel=\"prev\", <" + server.url("/api/v3/repositories/1296269/pulls?page=1") + ">; rel=\"first\""));
    List<PullRequest> open = source().listOpen("acme/shop");
    assertThat(open).hasSize(205);
    assertThat(open.get(204).key()).isEqualTo(PreviewKey.pr("acme/shop", 205));
    RecordedRequest first = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(first.getTarget()).isEqualTo("/api/v3/repos/acme/shop/pulls?state=open&per_page=100");
    assertThat(first.getHeaders().get("Authorization")).isEqualTo("Bearer t0k3n");
    assertThat(server.takeRequest().getTarget()).isEqualTo("/api/v3/repositories/1296269/pulls?state=open&per_page=100&page=2");
    assertThat(server.takeRequest().getTarget()).isEqualTo("/api/v3/repositories/1296269/pulls?state=open&per_page=100&page=3");
  }

  @Test
  void listRecentlyClosedAsksForOnePageOfClosedPrsNewestFirst() throws Exception {
    ArrayNode a = Fixtures.MAPPER.createArrayNode();
    for (int n : new int[] {7, 3}) {
      ObjectNode pr = (ObjectNode) Fixtures.load("github/pull_request.opened.json").get("pull_request");
      pr.put("number", n);
      pr.put("state", "closed");
      if (n == 7) {
        pr.put("merged_at", "2026-12-01T10:00:00Z");
      } else {
        pr.putNull("merged_at");
        pr.put("merged", false);
      }
      a.add(pr);
    }
    server.enqueue(json(a.toString(), "<" + server.url("/api/v3/repos/acme/shop/pulls?page=2") + ">; rel=\"next\""));

    List<PullRequest> closed = source().listRecentlyClosed("acme/shop", 50);

    assertThat(closed).extracting(PullRequest::key).containsExactly(PreviewKey.pr("acme/shop", 7), PreviewKey.pr("acme/shop", 3));
    assertThat(closed).extracting(PullRequest::state).containsExactly(PullRequest.State.MERGED, PullRequest.State.CLOSED);
    assertThat(server.takeRequest(5, TimeUnit.SECONDS).getTarget())
        .isEqualTo("/api/v3/repos/acme/shop/pulls?state=closed&sort=updated&direction=desc&per_page=50");
    assertThat(server.getRequestCount()).as("one page, not every closed PR the repository ever had").isEqualTo(1);
  }

  @Test
  void listRecentlyClosedOfAtMostZeroAsksNothing() {
    server.enqueue(json(page(1, 2), null));
    assertThat(source().listRecentlyClosed("acme/shop", 0)).isEmpty();
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void anApiFailureIsAnExceptionNeverAnEmptyList() {
    for (int i = 0; i < 4; i++) {
      server.enqueue(new MockResponse.Builder().code(502).body("<html>Bad gateway</html>").build());
    }
    assertThatThrownBy(() -> source().listOpen("acme/shop"))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.httpStatus()).hasValue(502);
        });
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void aFailureOnALaterPageIsAnExceptionToo() {
    server.enqueue(json(page(1, 2), "<" + server.url("/api/v3/repos/acme/shop/pulls?page=2") + ">; rel=\"next\""));
    server.enqueue(new MockResponse.Builder().code(401).body("{\"message\":\"Bad credentials\"}").build());
    assertThatThrownBy(() -> source().listOpen("acme/shop"))
        .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.getMessage()).contains("401", "Bad credentials", "check the token"));
  }

  @Test
  void findReadsThePrAndMapsClosedMergedAnd404() {
    ObjectNode merged = (ObjectNode) Fixtures.load("github/pull_request.opened.json").get("pull_request");
    merged.put("state", "closed").put("merged", true).put("merged_at", "2026-11-22T11:00:00Z");
    server.enqueue(json(merged.toString(), null));
    server.enqueue(new MockResponse.Builder().code(404).body("{\"message\":\"Not Found\"}").build());
    server.enqueue(json("{\"name\":\"release/2.0\",\"commit\":{\"sha\":\"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c\"}}", null));
    GitHubPullRequestSource src = source();
    assertThat(src.find(PreviewKey.pr("acme/shop", 42))).get().extracting(PullRequest::state).isEqualTo(PullRequest.State.MERGED);
    assertThat(src.find(PreviewKey.pr("acme/shop", 43))).isEmpty();
    PullRequest branch = src.find(PreviewKey.branch("acme/shop", "release/2.0")).orElseThrow();
    assertThat(branch.headSha()).isEqualTo("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
  }
}
