package dev.preview.scm.gitlab;

import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import dev.preview.scm.internal.StickyComments;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.Secret;
import java.net.URI;
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
 * {@link GitLabNotifier#published}: what the MR shows, read back from our sticky note, over
 * responses shaped like GitLab's "List all merge request notes" (paginated with {@code x-next-page});
 * only a note whose author is the token's own user ({@code GET /user}) is ours.
 */
class GitLabReadBackTest {
  static final Instant NOW = Instant.parse("2026-11-22T15:00:00Z");
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final PreviewKey KEY = PreviewKey.pr("acme/platform/shop", 7);
  static final String NOTES = "/api/v4/projects/acme%2Fplatform%2Fshop/merge_requests/7/notes?sort=asc&order_by=created_at&per_page=100";
  static final long SELF = 7001;

  @StartStop final MockWebServer server = new MockWebServer();

  GitLabNotifier notifier() {
    return GitLabNotifier.builder(server.url("/").toString(), Secret.of("glpat-secret")).environments(false)
        .commitStatus(false).sleeper(d -> {}).build();
  }

  static PreviewStatus sleeping() {
    return new PreviewStatus(KEY, PreviewState.SLEEPING, SHA, null, Map.of(), "asleep", null, List.of(), Map.of(), NOW);
  }

  /** A note as GitLab lists it. */
  static ObjectNode note(long id, String body, long authorId, boolean system) {
    ObjectNode n = Fixtures.MAPPER.createObjectNode().put("id", id).putNull("type").put("body", body)
        .put("created_at", "2026-11-22T14:00:00.000Z").put("updated_at", "2026-11-22T14:00:00.000Z")
        .put("system", system).put("noteable_id", 3301).put("noteable_type", "MergeRequest").put("noteable_iid", 7)
        .put("resolvable", false).put("confidential", false).put("internal", false);
    n.putObject("author").put("id", authorId).put("username", authorId == SELF ? "project_42_bot_1f2e3d" : "mallory")
        .put("name", "x").put("state", "active").put("web_url", "https://gitlab.example.com/u" + authorId);
    return n;
  }

  static MockResponse page(String nextPage, ObjectNode... notes) {
    ArrayNode a = Fixtures.MAPPER.createArrayNode();
    for (ObjectNode n : notes) {
      a.add(n);
    }
    return new MockResponse.Builder(json(200, a)).setHeader("x-next-page", nextPage).setHeader("x-per-page", "100").build();
  }

  static MockResponse self() {
    return json(200, "{\"id\": " + SELF + ", \"username\": \"project_42_bot_1f2e3d\", \"bot\": true, \"state\": \"active\"}");
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).as("expected another request").isNotNull();
    return r;
  }

  @Test
  void readsBackOurNoteOnTheSecondPageAfterCheckingItsAuthor() throws Exception {
    server.enqueue(page("2", note(1, "approved this merge request", 12, true), note(2, "LGTM", 12, false)));
    server.enqueue(page("", note(3, StickyComments.body(sleeping()), SELF, false)));
    server.enqueue(self());

    assertThat(notifier().published(KEY)).contains(new PublishedStatus(KEY, PreviewState.SLEEPING, SHA, null, null));

    RecordedRequest first = take();
    assertThat(first.getMethod()).isEqualTo("GET");
    assertThat(first.getTarget()).isEqualTo(NOTES);
    assertThat(first.getHeaders().get("PRIVATE-TOKEN")).isEqualTo("glpat-secret");
    assertThat(take().getTarget()).isEqualTo(NOTES + "&page=2");
    RecordedRequest user = take();
    assertThat(user.getMethod()).isEqualTo("GET");
    assertThat(user.getTarget()).isEqualTo("/api/v4/user");
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void aForgedNoteByAnotherUserIsIgnoredAndOurOwnIsCreated() throws Exception {
    String forged = "<!-- preview.dev:acme/platform/shop#7 -->\n<!-- preview.dev:status v=1 state=READY revision=" + SHA
        + " url=https%3A%2F%2Fevil.example%2F -->\n### ✅ Preview ready";
    server.enqueue(page("", note(4, forged, 12, false)));
    server.enqueue(self());
    GitLabNotifier n = notifier();

    assertThat(n.published(KEY)).isEmpty();
    take();
    assertThat(take().getTarget()).isEqualTo("/api/v4/user");

    server.enqueue(page("", note(4, forged, 12, false)));
    server.enqueue(json(201, note(5, "x", SELF, false)));
    n.publish(sleeping());
    assertThat(take().getTarget()).isEqualTo(NOTES);
    RecordedRequest create = take();
    assertThat(create.getMethod()).as("our own note, never an edit of the forged one").isEqualTo("POST");
    assertThat(create.getTarget()).isEqualTo("/api/v4/projects/acme%2Fplatform%2Fshop/merge_requests/7/notes");
    assertThat(n.published(KEY)).as("what we just wrote").contains(PublishedStatus.of(sleeping()));
    assertThat(server.getRequestCount()).as("GET /user once").isEqualTo(4);
  }

  @Test
  void nothingOfOursIsEmptyAndAFailedListIsUnknown() throws Exception {
    server.enqueue(page("", note(1, "LGTM", 12, false)));
    GitLabNotifier n = notifier();
    assertThat(n.published(KEY)).isEmpty();
    assertThat(n.published(KEY)).as("remembered as absent until we write").isEmpty();
    assertThat(server.getRequestCount()).as("no marker: neither GET /user nor a second list").isEqualTo(1);

    server.enqueue(json(404, "{\"message\": \"404 Project Not Found\"}"));
    assertThatThrownBy(() -> notifier().published(KEY)).isInstanceOf(ProviderException.class);
  }

  @Test
  void theUrlAndStepRoundTrip() throws Exception {
    PreviewStatus ready = new PreviewStatus(KEY, PreviewState.READY, SHA, URI.create("https://mr-7.preview.example.com/app?x=1&y=2"),
        Map.of(), "", null, List.of(), Map.of(), NOW);
    server.enqueue(page("", note(3, StickyComments.body(ready), SELF, false)));
    server.enqueue(self());
    assertThat(notifier().published(KEY)).contains(PublishedStatus.of(ready));
  }
}
