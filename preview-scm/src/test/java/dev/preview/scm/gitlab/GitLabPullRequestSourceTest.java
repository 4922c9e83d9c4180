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

  // --- listRecentlyClosed

  static final String MRS = "/gitlab/api/v4/projects/acme%2Fplatform%2Fshop/merge_requests";

  /** A closed or merged MR as GitLab's list endpoint documents it (fields we do not read included). */
  static ObjectNode finished(int iid, String state, String updatedAt) {
    ObjectNode mr = mr(iid).put("state", state).put("title", "MR " + iid).put("created_at", "2026-11-20T09:00:00.000Z")
        .put("updated_at", updatedAt).put("sha", String.format("%040x", iid)).put("merge_commit_sha", (String) null)
        .put("web_url", "https://gitlab.example.com/acme/platform/shop/-/merge_requests/" + iid);
    mr.put("merged_at", state.equals("merged") ? updatedAt : null).put("closed_at", state.equals("closed") ? updatedAt : null);
    mr.putObject("references").put("full", "acme/platform/shop!" + iid);
    mr.putArray("labels").add("preview").add("team::web");
    return mr;
  }

  static MockResponse list(ObjectNode... mrs) {
    ArrayNode a = Fixtures.MAPPER.createArrayNode();
    for (ObjectNode mr : mrs) {
      a.add(mr);
    }
    // A next page exists: one page is all reconcile asks for, so it is never followed.
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").setHeader("X-Next-Page", "2")
        .setHeader("Link", "<" + "http://gitlab.invalid/next" + ">; rel=\"next\"").body(a.toString()).build();
  }

  @Test
  void listRecentlyClosedAsksForOnePageOfClosedAndOfMergedAndMergesThemNewestFirst() throws Exception {
    server.enqueue(list(finished(5, "closed", "2026-12-01T10:00:00.000Z"), finished(3, "closed", "2026-12-01T08:00:00.000Z")));
    server.enqueue(list(finished(7, "merged", "2026-12-01T11:00:00.000+01:00").put("source_project_id", 99),
        finished(4, "merged", "2026-12-01T09:00:00.000Z"), finished(2, "merged", "2026-11-30T09:00:00.000Z")));

    List<PullRequest> closed = source().listRecentlyClosed("acme/platform/shop", 4);

    // 7 was merged at 10:00Z (11:00+01:00), a tie with 5 broken by the higher iid; 2 is past the limit.
    assertThat(closed).extracting(PullRequest::key).containsExactly(PreviewKey.pr("acme/platform/shop", 7),
        PreviewKey.pr("acme/platform/shop", 5), PreviewKey.pr("acme/platform/shop", 4), PreviewKey.pr("acme/platform/shop", 3));
    assertThat(closed).extracting(PullRequest::state).containsExactly(PullRequest.State.MERGED, PullRequest.State.CLOSED,
        PullRequest.State.MERGED, PullRequest.State.CLOSED);
    PullRequest seven = closed.get(0);
    assertThat(seven.headSha()).isEqualTo(String.format("%040x", 7));
    assertThat(seven.headRef()).isEqualTo("feature/7");
    assertThat(seven.baseRef()).isEqualTo("main");
    assertThat(seven.labels()).containsExactlyInAnyOrder("preview", "team::web");
    assertThat(seven.author()).isEqualTo("jsmith");
    assertThat(seven.fromFork()).isTrue();
    assertThat(closed.get(1).fromFork()).isFalse();

    for (String state : List.of("closed", "merged")) {
      RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
      assertThat(r.getMethod()).isEqualTo("GET");
      assertThat(r.getTarget()).isEqualTo(MRS + "?state=" + state + "&order_by=updated_at&sort=desc&per_page=4");
      assertThat(r.getHeaders().get("PRIVATE-TOKEN")).isEqualTo("glpat-secret");
      assertThat(r.getHeaders().get("Accept")).isEqualTo("application/json");
    }
    assertThat(server.getRequestCount()).as("one page of each state, never every MR the project ever closed").isEqualTo(2);
  }

  @Test
  void theLimitIsThePageSizeCappedAt100AndNothingIsAskedForZero() throws Exception {
    server.enqueue(list());
    server.enqueue(list());
    assertThat(source().listRecentlyClosed("acme/platform/shop", 500)).isEmpty();
    assertThat(server.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo(MRS + "?state=closed&order_by=updated_at&sort=desc&per_page=100");
    assertThat(server.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo(MRS + "?state=merged&order_by=updated_at&sort=desc&per_page=100");

    assertThat(source().listRecentlyClosed("acme/platform/shop", 0)).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void anMrInBothAnswersIsListedOnceAsTheNewerSaysIt() {
    // Closed when the first request ran, then reopened and merged before the second.
    server.enqueue(list(finished(9, "closed", "2026-12-01T10:00:00Z")));
    server.enqueue(list(finished(9, "merged", "2026-12-01T10:05:00Z")));
    List<PullRequest> closed = source().listRecentlyClosed("acme/platform/shop", 50);
    assertThat(closed).extracting(PullRequest::key).containsExactly(PreviewKey.pr("acme/platform/shop", 9));
    assertThat(closed.get(0).state()).isEqualTo(PullRequest.State.MERGED);
  }

  @Test
  void aServerFailureIsRetryableAndNeverAnEmptyList() {
    for (int i = 0; i < 4; i++) {
      server.enqueue(new MockResponse.Builder().code(502).body("<html>502 Bad Gateway</html>").build());
    }
    assertThatThrownBy(() -> source().listRecentlyClosed("acme/platform/shop", 50))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.httpStatus()).hasValue(502);
        });
    assertThat(server.getRequestCount()).as("a GET is retried").isEqualTo(4);
  }

  @Test
  void aRateLimitLongerThanTheWaitIsRetryable() {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "3600").body("{\"message\":\"429 Too Many Requests\"}").build());
    assertThatThrownBy(() -> source().listRecentlyClosed("acme/platform/shop", 50))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.httpStatus()).hasValue(429);
          assertThat(e.getMessage()).contains("rate limited", "rateLimitMaxWait");
        });
  }

  @Test
  void aFailedMergedRequestThrowsRatherThanAnswerTheClosedHalf() {
    server.enqueue(list(finished(5, "closed", "2026-12-01T10:00:00.000Z")));
    server.enqueue(new MockResponse.Builder().code(403).body("{\"message\":\"403 Forbidden\"}").build());
    assertThatThrownBy(() -> source().listRecentlyClosed("acme/platform/shop", 50))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.httpStatus()).hasValue(403);
          assertThat(e.getMessage()).contains("403", "permission", "403 Forbidden").doesNotContain("glpat-secret");
        });
  }

  @Test
  void unauthorizedAndNotFoundSayWhatToCheck() {
    server.enqueue(new MockResponse.Builder().code(401).body("{\"message\":\"401 Unauthorized\"}").build());
    assertThatThrownBy(() -> source().listRecentlyClosed("acme/platform/shop", 50))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).contains("401", "check the token", "401 Unauthorized").doesNotContain("glpat-secret");
        });
    server.enqueue(new MockResponse.Builder().code(404).body("{\"message\":\"404 Project Not Found\"}").build());
    assertThatThrownBy(() -> source().listRecentlyClosed("acme/platform/shop", 50))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.httpStatus()).hasValue(404);
          assertThat(e.getMessage()).contains("check the repository name and baseUrl", "404 Project Not Found");
        });
  }

  @Test
  void anMrWithoutAReadableUpdateTimeIsAnErrorNamingIt() {
    ObjectNode bad = finished(6, "closed", "yesterday");
    server.enqueue(list(bad));
    server.enqueue(list());
    assertThatThrownBy(() -> source().listRecentlyClosed("acme/platform/shop", 50))
        .isInstanceOf(ProviderException.class).hasMessageContaining("iid 6").hasMessageContaining("updated_at")
        .hasMessageContaining("yesterday");
  }
}
