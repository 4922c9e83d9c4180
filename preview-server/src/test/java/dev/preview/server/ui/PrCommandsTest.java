package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.github.GitHubAuth;
import dev.preview.scm.github.GitHubPermissions;
import dev.preview.scm.gitlab.GitLabPermissions;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.Secret;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /preview} PR comment commands end to end: a signed delivery shaped like GitHub's documented
 * {@code issue_comment} (or GitLab's {@code Note Hook}) reaches the server, the author's permission is
 * asked of a fake SCM API (MockWebServer, the exact request asserted), and the effect and the sticky
 * status's "last command" line are checked.
 */
class PrCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PreviewKey ONE = PreviewKey.pr("acme/shop", 1);

  @StartStop final MockWebServer scm = new MockWebServer();
  private final HttpClient http = HttpClient.newHttpClient();
  private DashboardFixture f;

  @AfterEach
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  private void github() throws Exception {
    f = new DashboardFixture(DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), null),
        GitHubPermissions.create(scm.url("/api/v3").toString(), GitHubAuth.token(Secret.of("ghp_scmtoken"))));
    f.deploy(DashboardFixture.pr(1));
  }

  private void gitlab() throws Exception {
    f = new DashboardFixture(DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), null),
        GitLabPermissions.create(scm.url("/").toString(), Secret.of("glpat-scmtoken")));
    f.deploy(DashboardFixture.pr(1));
  }

  /** GitHub's documented issue_comment payload, trimmed to the fields GitHub always sends. */
  static ObjectNode issueComment(String action, String body, String login, String type, String state) {
    ObjectNode root = JSON.createObjectNode().put("action", action);
    ObjectNode issue = root.putObject("issue").put("number", 1).put("state", state).put("title", "Add checkout")
        .put("html_url", "https://github.com/acme/shop/pull/1");
    issue.putObject("pull_request").put("url", "https://api.github.com/repos/acme/shop/pulls/1")
        .put("html_url", "https://github.com/acme/shop/pull/1");
    ObjectNode comment = root.putObject("comment").put("id", 1_000_000 + body.hashCode() % 1000 + action.length())
        .put("body", body).put("author_association", "MEMBER").put("created_at", "2026-12-01T10:00:00Z");
    comment.putObject("user").put("login", login).put("id", 4242).put("type", type);
    if (action.equals("edited")) {
      root.putObject("changes").putObject("body").put("from", "looks good");
    }
    root.putObject("repository").put("id", 1296269).put("full_name", "acme/shop").put("name", "shop")
        .putObject("owner").put("login", "acme");
    root.putObject("sender").put("login", login).put("id", 4242).put("type", type);
    return root;
  }

  private HttpResponse<String> deliverGitHub(ObjectNode payload) throws Exception {
    byte[] body = payload.toString().getBytes(StandardCharsets.UTF_8);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(DashboardFixture.WEBHOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return http.send(HttpRequest.newBuilder(f.url("/webhooks/github"))
        .header("X-GitHub-Event", "issue_comment").header("X-GitHub-Delivery", UUID.randomUUID().toString())
        .header("X-Hub-Signature-256", "sha256=" + HexFormat.of().formatHex(mac.doFinal(body)))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String expires() {
    return f.env.find(ONE).orElseThrow().labels().get(Labels.EXPIRES);
  }

  private Optional<String> lastCommand() {
    return f.notifier.latest(ONE).map(PreviewStatus::lastCommand);
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  @Test
  void aWriterExtendsByFortyEightHoursAndTheStatusSaysSo() throws Exception {
    github();
    scm.enqueue(json(200, "{\"permission\":\"write\",\"role_name\":\"write\",\"user\":{\"login\":\"ana\"}}"));
    assertThat(expires()).isEqualTo("2026-12-08T10:00:00Z");

    HttpResponse<String> r = deliverGitHub(issueComment("created", "Thanks!\n/preview extend 48h", "ana", "User", "open"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);

    await().atMost(Duration.ofSeconds(10)).until(() -> "2026-12-10T10:00:00Z".equals(expires()));
    RecordedRequest asked = scm.takeRequest(5, TimeUnit.SECONDS);
    assertThat(asked.getMethod()).isEqualTo("GET");
    assertThat(asked.getTarget()).isEqualTo("/api/v3/repos/acme/shop/collaborators/ana/permission");
    assertThat(asked.getHeaders().get("Authorization")).isEqualTo("Bearer ghp_scmtoken");
    await().atMost(Duration.ofSeconds(10)).until(() -> lastCommand().orElse("")
        .equals("@ana /preview extend 48h: extended by 2d: expires 2026-12-10T10:00:00Z"));
    // one sticky status: the answer updated it, no new comment was asked for
    assertThat(scm.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aReaderIsRefusedPolitelyAndNothingChanges() throws Exception {
    github();
    scm.enqueue(json(200, "{\"permission\":\"read\",\"role_name\":\"triage\",\"user\":{\"login\":\"bob\"}}"));
    assertThat(deliverGitHub(issueComment("created", "/preview extend 48h", "bob", "User", "open")).statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> lastCommand().orElse("").startsWith("@bob /preview extend 48h: sorry"));
    assertThat(lastCommand().orElseThrow()).contains("needs write access", "you have read");
    assertThat(scm.takeRequest(5, TimeUnit.SECONDS).getTarget()).isEqualTo("/api/v3/repos/acme/shop/collaborators/bob/permission");
    assertThat(expires()).isEqualTo("2026-12-08T10:00:00Z");
  }

  @Test
  void anEditedCommentABotAndAClosedPullRequestDoNothing() throws Exception {
    github();
    HttpResponse<String> edited = deliverGitHub(issueComment("edited", "/preview stop", "ana", "User", "open"));
    assertThat(edited.statusCode()).isEqualTo(200);
    assertThat(edited.body()).contains("ignored", "issue_comment edited");

    HttpResponse<String> bot = deliverGitHub(issueComment("created", "/preview stop", "renovate[bot]", "Bot", "open"));
    assertThat(bot.statusCode()).isEqualTo(202);
    assertThat(bot.body()).contains("comments of bots are not commands");

    HttpResponse<String> closed = deliverGitHub(issueComment("created", "/preview extend 48h", "ana", "User", "closed"));
    assertThat(closed.statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> lastCommand().orElse("").contains("refused: this pull request is closed"));

    assertThat(scm.getRequestCount()).as("no permission was asked for any of them").isZero();
    assertThat(f.env.find(ONE)).as("still there").isPresent();
    assertThat(expires()).isEqualTo("2026-12-08T10:00:00Z");
  }

  @Test
  void aRedeliveryOfTheSameCommentRunsOnce() throws Exception {
    github();
    scm.enqueue(json(200, "{\"permission\":\"admin\"}"));
    ObjectNode payload = issueComment("created", "/preview extend 24h", "ana", "User", "open");
    deliverGitHub(payload);
    await().atMost(Duration.ofSeconds(10)).until(() -> "2026-12-09T10:00:00Z".equals(expires()));
    HttpResponse<String> again = deliverGitHub(payload);
    assertThat(again.body()).contains("duplicate");
    assertThat(expires()).isEqualTo("2026-12-09T10:00:00Z");
    assertThat(scm.getRequestCount()).isEqualTo(1);
  }

  /** GitLab's documented Note Hook payload for a comment on a merge request, trimmed. */
  static ObjectNode note(String action, String body, int userId, String username, String mrState) {
    ObjectNode root = JSON.createObjectNode().put("object_kind", "note").put("event_type", "note");
    root.putObject("user").put("id", userId).put("name", username).put("username", username);
    root.putObject("project").put("id", 5).put("path_with_namespace", "acme/shop").put("web_url", "https://gitlab.example.com/acme/shop");
    root.putObject("object_attributes").put("id", 1000 + userId * 10 + action.length()).put("note", body).put("noteable_type", "MergeRequest")
        .put("author_id", userId).put("system", false).put("action", action).put("noteable_id", 7);
    root.putObject("merge_request").put("id", 7).put("iid", 1).put("state", mrState).put("source_branch", "feature-1")
        .put("target_branch", "main").putObject("last_commit").put("id", "1".repeat(40));
    return root;
  }

  private HttpResponse<String> deliverGitLab(ObjectNode payload) throws Exception {
    return http.send(HttpRequest.newBuilder(f.url("/webhooks/gitlab"))
        .header("X-Gitlab-Event", "Note Hook").header("X-Gitlab-Token", DashboardFixture.WEBHOOK_SECRET)
        .header("X-Gitlab-Event-UUID", UUID.randomUUID().toString())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(payload.toString())).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void onGitLabADeveloperPinsAndAReporterIsRefused() throws Exception {
    gitlab();
    scm.enqueue(json(200, "{\"id\":31,\"username\":\"dev\",\"state\":\"active\",\"access_level\":30}"));
    assertThat(deliverGitLab(note("create", "/preview pin", 31, "dev", "opened")).statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> "operator".equals(f.env.find(ONE).orElseThrow().labels().get(Labels.PINNED)));
    RecordedRequest asked = scm.takeRequest(5, TimeUnit.SECONDS);
    assertThat(asked.getTarget()).isEqualTo("/api/v4/projects/acme%2Fshop/members/all/31");
    assertThat(asked.getHeaders().get("PRIVATE-TOKEN")).isEqualTo("glpat-scmtoken");

    scm.enqueue(json(200, "{\"id\":32,\"username\":\"rep\",\"state\":\"active\",\"access_level\":20}"));
    deliverGitLab(note("create", "/preview unpin", 32, "rep", "opened"));
    await().atMost(Duration.ofSeconds(10)).until(() -> lastCommand().orElse("").startsWith("@rep /preview unpin: sorry"));
    assertThat(lastCommand().orElseThrow()).contains("the Developer role", "you have Reporter");
    assertThat(f.env.find(ONE).orElseThrow().labels()).containsEntry(Labels.PINNED, "operator");

    HttpResponse<String> updated = deliverGitLab(note("update", "/preview stop", 31, "dev", "opened"));
    assertThat(updated.body()).contains("ignored", "note update");
    HttpResponse<String> bot = deliverGitLab(note("create", "/preview stop", 99, "project_5_bot_0123abcd", "opened"));
    assertThat(bot.body()).contains("comments of bots are not commands");
    assertThat(f.env.find(ONE)).isPresent();
    assertThat(scm.getRequestCount()).isEqualTo(2);
  }
}
