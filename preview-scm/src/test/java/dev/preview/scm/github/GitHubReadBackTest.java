package dev.preview.scm.github;

import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import dev.preview.scm.StatusComment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/**
 * {@link GitHubNotifier#published}: what the PR shows, read back from the hidden status line of our
 * sticky comment, over responses shaped like GitHub's "List issue comments" (paginated with
 * {@code Link}); only a comment by a bot or by the token's own user is ours.
 */
class GitHubReadBackTest {
  static final Instant NOW = Instant.parse("2026-11-22T15:00:00Z");
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);
  static final String MARKER = "<!-- preview.dev:acme/shop#42 -->";

  @StartStop final MockWebServer server = new MockWebServer();

  GitHubNotifier notifier() {
    return GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n")))
        .deployments(false).sleeper(d -> {}).build();
  }

  static PreviewStatus ready() {
    return new PreviewStatus(KEY, PreviewState.READY, SHA, URI.create("https://pr-42.preview.example.com/"), Map.of(),
        "", null, List.of(), Map.of("environment", Duration.ofSeconds(3)), NOW);
  }

  static PreviewStatus failed(String message) {
    return new PreviewStatus(KEY, PreviewState.FAILED, SHA, null, Map.of(), message, "teardown.dns", List.of("boom"),
        Map.of(), NOW);
  }

  /** A comment as GitHub lists it (the fields the docs show for an issue comment). */
  static ObjectNode comment(long id, String body, String login, String type) {
    ObjectNode c = Fixtures.MAPPER.createObjectNode().put("id", id).put("node_id", "IC_kwDO" + id)
        .put("url", "https://api.github.com/repos/acme/shop/issues/comments/" + id)
        .put("html_url", "https://github.com/acme/shop/pull/42#issuecomment-" + id).put("body", body)
        .put("created_at", "2026-11-22T14:00:00Z").put("updated_at", "2026-11-22T14:00:00Z")
        .put("issue_url", "https://api.github.com/repos/acme/shop/issues/42").put("author_association", "NONE");
    c.putObject("user").put("login", login).put("id", id * 10).put("type", type);
    c.putNull("performed_via_github_app");
    return c;
  }

  static MockResponse page(ObjectNode... comments) {
    ArrayNode a = Fixtures.MAPPER.createArrayNode();
    for (ObjectNode c : comments) {
      a.add(c);
    }
    return json(200, a);
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).as("expected another request").isNotNull();
    return r;
  }

  @Test
  void readsBackTheStateRevisionUrlAndStepFromOurCommentOnTheSecondPage() throws Exception {
    String ours = dev.preview.scm.internal.StickyComments.body(failed("the database drop failed"));
    String next = server.url("/repositories/1296269/issues/42/comments?per_page=100&page=2").toString();
    server.enqueue(new MockResponse.Builder(page(comment(5, "LGTM", "octocat", "User")))
        .setHeader("Link", "<" + next + ">; rel=\"next\", <" + next + ">; rel=\"last\"").build());
    server.enqueue(page(comment(9, ours, "preview-bot[bot]", "Bot")));

    GitHubNotifier n = notifier();
    assertThat(n.published(KEY)).contains(new PublishedStatus(KEY, PreviewState.FAILED, SHA, null, "teardown.dns"));

    RecordedRequest first = take();
    assertThat(first.getMethod()).isEqualTo("GET");
    assertThat(first.getTarget()).isEqualTo("/repos/acme/shop/issues/42/comments?per_page=100");
    assertThat(first.getHeaders().get("Authorization")).isEqualTo("Bearer t0k3n");
    assertThat(take().getTarget()).isEqualTo("/repositories/1296269/issues/42/comments?per_page=100&page=2");
    assertThat(server.getRequestCount()).isEqualTo(2);

    assertThat(n.published(KEY)).as("remembered: no second listing").isPresent();
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void aCopyOfTheMarkerPostedBySomeoneElseIsNotOursAndIsNeverEdited() throws Exception {
    String forged = MARKER + "\n<!-- preview.dev:status v=1 state=READY revision=" + SHA
        + " url=https%3A%2F%2Fevil.example%2F -->\n### ✅ Preview ready";
    server.enqueue(page(comment(5, forged, "mallory", "User")));
    server.enqueue(json(200, "{\"login\": \"preview-token-owner\", \"id\": 583231, \"type\": \"User\"}"));

    GitHubNotifier n = notifier();
    assertThat(n.published(KEY)).as("the PR shows nothing of ours").isEmpty();
    assertThat(take().getTarget()).isEqualTo("/repos/acme/shop/issues/42/comments?per_page=100");
    RecordedRequest self = take();
    assertThat(self.getMethod()).isEqualTo("GET");
    assertThat(self.getTarget()).isEqualTo("/user");

    server.enqueue(page(comment(5, forged, "mallory", "User")));
    server.enqueue(json(201, comment(11, "x", "preview-token-owner", "User")));
    n.publish(ready());
    assertThat(take().getMethod()).isEqualTo("GET");
    RecordedRequest create = take();
    assertThat(create.getMethod()).as("a comment of our own, not an edit of mallory's").isEqualTo("POST");
    assertThat(create.getTarget()).isEqualTo("/repos/acme/shop/issues/42/comments");
    assertThat(server.getRequestCount()).as("GET /user asked once").isEqualTo(4);
  }

  @Test
  void aCommentByTheTokensOwnUserIsOurs() throws Exception {
    server.enqueue(page(comment(5, dev.preview.scm.internal.StickyComments.body(ready()), "preview-token-owner", "User")));
    server.enqueue(json(200, "{\"login\": \"preview-token-owner\", \"id\": 583231, \"type\": \"User\"}"));

    assertThat(notifier().published(KEY)).contains(PublishedStatus.of(ready()));
    take();
    assertThat(take().getTarget()).isEqualTo("/user");
  }

  @Test
  void aCommentWithTheOldMarkerIsReadBackFromItsStateRowAndUpdatedWithTheStatusLine() throws Exception {
    // written by an earlier version: the marker line alone, then the rendered table
    PreviewStatus old = new PreviewStatus(KEY, PreviewState.PROVISIONING, SHA, null, Map.of(), "deploying", null,
        List.of(), Map.of(), NOW);
    String oldBody = StatusComment.render(old);
    assertThat(oldBody).startsWith(MARKER + "\n### ");
    server.enqueue(page(comment(7, oldBody, "preview-bot[bot]", "Bot")));

    GitHubNotifier n = notifier();
    PublishedStatus shown = n.published(KEY).orElseThrow();
    assertThat(shown.state()).isEqualTo(PreviewState.PROVISIONING);
    assertThat(SHA).startsWith(shown.revision());
    take();

    server.enqueue(json(200, comment(7, "x", "preview-bot[bot]", "Bot")));
    n.publish(ready());
    RecordedRequest patch = take();
    assertThat(patch.getMethod()).isEqualTo("PATCH");
    assertThat(patch.getTarget()).isEqualTo("/repos/acme/shop/issues/comments/7");
    String body = Fixtures.MAPPER.readTree(patch.getBody().utf8()).path("body").asText();
    assertThat(body).startsWith(MARKER + "\n<!-- preview.dev:status v=1 state=READY revision=" + SHA
        + " url=https%3A%2F%2Fpr-42.preview.example.com%2F -->\n### ");
    assertThat(n.published(KEY)).contains(PublishedStatus.of(ready()));
  }

  @Test
  void textFromOutsideNeverReachesTheStatusLine() {
    String hostile = "x -->\n<!-- preview.dev:status v=1 state=READY -->";
    PreviewStatus s = new PreviewStatus(KEY, PreviewState.FAILED, "not a sha --> <b>",
        URI.create("https://user:hunter2@pr-42.preview.example.com/"), Map.of(), hostile, "step --> <!--",
        List.of(hostile), Map.of(), NOW);
    String body = dev.preview.scm.internal.StickyComments.body(s);
    String[] lines = body.split("\n");
    assertThat(lines[1]).as("no revision, URL with user info or step that is not ours")
        .isEqualTo("<!-- preview.dev:status v=1 state=FAILED -->");
    assertThat(body.indexOf("<!-- preview.dev:status", lines[0].length() + lines[1].length()))
        .as("no second status line anywhere").isEqualTo(-1);
  }

  @Test
  void aListThatFailsIsUnknownNotNothing() {
    server.enqueue(json(404, "{\"message\": \"Not Found\", \"documentation_url\": \"https://docs.github.com/rest\"}"));
    assertThatThrownBy(() -> notifier().published(KEY)).isInstanceOf(ProviderException.class);
  }

  @Test
  void aBranchPreviewOrCommentsOffReadsNothing() {
    assertThat(notifier().published(PreviewKey.branch("acme/shop", "main"))).isEmpty();
    assertThat(GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n"))).comments(false)
        .build().published(KEY)).isEmpty();
    assertThat(server.getRequestCount()).isZero();
  }
}
