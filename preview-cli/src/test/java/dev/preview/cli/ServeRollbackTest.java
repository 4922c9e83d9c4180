package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 11's rollback sequences end to end, through {@code preview serve}: the real command with a
 * {@code preview.yaml}, the {@code local} provider running the sample app, and the GitHub or GitLab
 * API played by a MockWebServer (the PR source the deploy guard asks, and the notifier's sticky
 * comment). A late delivery for the older commit must leave the app that answers at the preview's URL
 * running the newer commit, and the PR's comment saying so.
 */
class ServeRollbackTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String OLD = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final String NEW = "9049f1265b7d61be4a8904a9a27120d2064dab3b";
  static final String HOOK_SECRET = "webhook-s3cret";
  static final Pattern URL = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/)");

  @TempDir Path dir;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final MockWebServer api = new MockWebServer();
  final FakeScm scm = new FakeScm();
  ServeCommand.Running running;

  @BeforeEach
  void startApi() throws Exception {
    api.setDispatcher(scm);
    api.start();
  }

  @AfterEach
  void stop() throws Exception {
    if (running != null) {
      running.close();
    }
    api.close();
  }

  void serve(String scmSection) throws Exception {
    Path f = dir.resolve("preview.yaml");
    String command = CliRun.sampleAppCommand();
    Files.writeString(f, String.join("\n",
        "repository: acme/shop",
        "app:",
        "  command: " + command,
        "  healthPath: /health",
        CliRun.localEnvironment(dir),
        scmSection,
        ""));
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", f.toString(), "--port", "0",
        "--bind", "127.0.0.1", "--reconcile-interval", "0");
    running = cmd.start();
  }

  /** The revision the app at the URL of the PR's comment says it runs, once the comment says READY at {@code sha}. */
  String awaitReadyAndServing(String sha) {
    AtomicReference<String> served = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      String comment = scm.comment();
      assertThat(comment).contains(sha.substring(0, 7)).containsIgnoringCase("ready");
      assertThat(running.server().inFlight()).isZero();
      Matcher m = URL.matcher(comment);
      assertThat(m.find()).as(comment).isTrue();
      HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(m.group(1))).build(),
          HttpResponse.BodyHandlers.ofString());
      Matcher rev = Pattern.compile("<code id=\"revision\">([0-9a-f]+)</code>").matcher(page.body());
      assertThat(rev.find()).as(page.body()).isTrue();
      served.set(rev.group(1));
    });
    return served.get();
  }

  int post(String path, Map<String, String> headers, byte[] body) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(running.server().url().resolve(path))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(r::header);
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  // --- GitHub

  @Test
  void gitHubLabeledAtTheOldShaAfterThePushLeavesTheNewCommitServing() throws Exception {
    serve(String.join("\n", "scm:", "  provider: github", "  token: ghp_test", "  webhookSecret: " + HOOK_SECRET,
        "  deployments: false", "  baseUrl: " + api.url("/api/v3/")));
    scm.head.set(OLD);
    assertThat(postGitHub("pull_request", github("opened", OLD, List.of(), null))).isEqualTo(202);
    assertThat(awaitReadyAndServing(OLD)).isEqualTo(OLD);

    scm.head.set(NEW);
    assertThat(postGitHub("pull_request", github("synchronize", NEW, List.of(), null))).isEqualTo(202);
    assertThat(awaitReadyAndServing(NEW)).isEqualTo(NEW);

    long asked = scm.prReads.get();
    scm.labels.set(List.of("qa"));
    assertThat(postGitHub("pull_request", github("labeled", OLD, List.of("qa"), "qa"))).isEqualTo(202);
    await().atMost(Duration.ofSeconds(30)).until(() -> scm.prReads.get() > asked);
    assertThat(awaitReadyAndServing(NEW)).as("the app at the preview's URL after the late delivery").isEqualTo(NEW);
    assertThat(scm.comment()).doesNotContain(OLD.substring(0, 7));
    assertThat(scm.requests).contains("GET /api/v3/repos/acme/shop/pulls/42");
  }

  /** Opens the PR at OLD, pushes NEW: both deployed in turn; then the app serves NEW. */
  void gitHubOpenedThenPushed() throws Exception {
    serve(String.join("\n", "scm:", "  provider: github", "  token: ghp_test", "  webhookSecret: " + HOOK_SECRET,
        "  deployments: false", "  baseUrl: " + api.url("/api/v3/")));
    scm.head.set(OLD);
    assertThat(postGitHub("pull_request", github("opened", OLD, List.of(), null))).isEqualTo(202);
    assertThat(awaitReadyAndServing(OLD)).isEqualTo(OLD);
    scm.head.set(NEW);
    assertThat(postGitHub("pull_request", github("synchronize", NEW, List.of(), null))).isEqualTo(202);
    assertThat(awaitReadyAndServing(NEW)).isEqualTo(NEW);
  }

  @Test
  void gitHubReadyForReviewAtTheOldShaAfterThePushLeavesTheNewCommitServing() throws Exception {
    gitHubOpenedThenPushed();

    long asked = scm.prReads.get();
    // marked ready while the old commit was the head; delivered after the push
    assertThat(postGitHub("pull_request", github("ready_for_review", OLD, List.of(), null))).isEqualTo(202);
    await().atMost(Duration.ofSeconds(30)).until(() -> scm.prReads.get() > asked);
    assertThat(awaitReadyAndServing(NEW)).as("the app at the preview's URL after the late delivery").isEqualTo(NEW);
    assertThat(scm.comment()).doesNotContain(OLD.substring(0, 7));
  }

  @Test
  void gitHubRetargetAtTheOldShaAfterThePushLeavesTheNewCommitServing() throws Exception {
    gitHubOpenedThenPushed();

    long asked = scm.prReads.get();
    scm.base.set("develop");
    // base changed main -> develop while the old commit was the head; delivered after the push
    assertThat(postGitHub("pull_request", github("edited", OLD, List.of(), null, "develop", "main"))).isEqualTo(202);
    await().atMost(Duration.ofSeconds(30)).until(() -> scm.prReads.get() > asked);
    assertThat(awaitReadyAndServing(NEW)).as("the app at the preview's URL after the late retarget").isEqualTo(NEW);
    assertThat(scm.comment()).doesNotContain(OLD.substring(0, 7));
  }

  int postGitHub(String event, byte[] body) throws Exception {
    return post("/webhooks/github", Map.of("X-GitHub-Event", event, "X-GitHub-Delivery", UUID.randomUUID().toString(),
        "X-Hub-Signature-256", ServeCommandTest.sign(HOOK_SECRET, body), "Content-Type", "application/json"), body);
  }

  static ObjectNode gitHubPr(String sha, List<String> labels) {
    return gitHubPr(sha, labels, "main");
  }

  static ObjectNode gitHubPr(String sha, List<String> labels, String base) {
    ObjectNode pr = JSON.createObjectNode().put("number", 42).put("state", "open").put("draft", false)
        .put("merged", false).put("html_url", "https://github.com/acme/shop/pull/42");
    pr.putObject("user").put("login", "octocat");
    ArrayNode l = pr.putArray("labels");
    labels.forEach(name -> l.addObject().put("name", name));
    ObjectNode head = pr.putObject("head").put("ref", "feature/basket").put("sha", sha);
    head.putObject("repo").put("full_name", "acme/shop");
    pr.putObject("base").put("ref", base).putObject("repo").put("full_name", "acme/shop");
    return pr;
  }

  static byte[] github(String action, String sha, List<String> labels, String label) {
    return github(action, sha, labels, label, "main", null);
  }

  /** {@code formerBase} non-null: an {@code edited} whose {@code changes.base.ref.from} is it (a retarget to {@code base}). */
  static byte[] github(String action, String sha, List<String> labels, String label, String base, String formerBase) {
    ObjectNode root = JSON.createObjectNode().put("action", action).put("number", 42);
    root.set("pull_request", gitHubPr(sha, labels, base));
    if (formerBase != null) {
      ObjectNode changes = root.putObject("changes").putObject("base");
      changes.putObject("ref").put("from", formerBase);
      changes.putObject("sha").put("from", "1111111111111111111111111111111111111111");
    }
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

  // --- GitLab

  @Test
  void gitLabLabelsUpdateCarryingTheOlderCommitAfterANewCommitLeavesTheNewCommitServing() throws Exception {
    serve(String.join("\n", "scm:", "  provider: gitlab", "  token: glpat-test", "  webhookSecret: " + HOOK_SECRET,
        "  environments: false", "  commitStatus: false", "  baseUrl: " + api.url("/")));
    scm.head.set(OLD);
    assertThat(postGitLab(gitlab("open", OLD, null, List.of(), List.of()))).isEqualTo(202);
    assertThat(awaitReadyAndServing(OLD)).isEqualTo(OLD);

    scm.head.set(NEW);
    assertThat(postGitLab(gitlab("update", NEW, OLD, List.of(), List.of()))).isEqualTo(202);
    assertThat(awaitReadyAndServing(NEW)).isEqualTo(NEW);

    long asked = scm.prReads.get();
    scm.labels.set(List.of("qa"));
    // a labels-only update delivered late, its last_commit still the older one
    assertThat(postGitLab(gitlab("update", OLD, null, List.of(), List.of("qa")))).isEqualTo(202);
    await().atMost(Duration.ofSeconds(30)).until(() -> scm.prReads.get() > asked);
    assertThat(awaitReadyAndServing(NEW)).as("the app at the preview's URL after the late delivery").isEqualTo(NEW);
    assertThat(scm.comment()).doesNotContain(OLD.substring(0, 7));
    assertThat(scm.requests).contains("GET /api/v4/projects/acme%2Fshop/merge_requests/42");
  }

  int postGitLab(byte[] body) throws Exception {
    return post("/webhooks/gitlab", Map.of("X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", HOOK_SECRET,
        "Idempotency-Key", UUID.randomUUID().toString(), "Content-Type", "application/json"), body);
  }

  static ObjectNode gitLabMr(String sha, List<String> labels) {
    ObjectNode mr = JSON.createObjectNode().put("iid", 42).put("state", "opened").put("sha", sha)
        .put("source_branch", "feature/basket").put("target_branch", "main").put("source_project_id", 14)
        .put("target_project_id", 14).put("draft", false).put("web_url", "https://gitlab.com/acme/shop/-/merge_requests/42");
    mr.putObject("author").put("username", "root");
    ArrayNode l = mr.putArray("labels");
    labels.forEach(l::add);
    return mr;
  }

  static byte[] gitlab(String action, String sha, String oldrev, List<String> before, List<String> after) {
    ObjectNode root = JSON.createObjectNode().put("object_kind", "merge_request").put("event_type", "merge_request");
    root.putObject("project").put("id", 14).put("path_with_namespace", "acme/shop");
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

  /**
   * GitHub's and GitLab's REST API as far as {@code preview serve} uses it here: the PR (its head is
   * what the test says), and the PR's comments / MR's notes, kept so the sticky one is updated in place.
   */
  static final class FakeScm extends Dispatcher {
    final AtomicReference<String> head = new AtomicReference<>(OLD);
    final AtomicReference<List<String>> labels = new AtomicReference<>(List.of());
    final AtomicReference<String> base = new AtomicReference<>("main");
    final AtomicLong prReads = new AtomicLong();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final Map<Long, String> comments = new ConcurrentHashMap<>();
    final AtomicLong ids = new AtomicLong(1000);

    /** The one comment on the PR (failing the test if there are more). */
    String comment() {
      assertThat(comments).hasSizeLessThanOrEqualTo(1);
      return comments.values().stream().findFirst().orElse("");
    }

    @Override
    public MockResponse dispatch(RecordedRequest r) {
      String path = r.getUrl().encodedPath();
      String line = r.getMethod() + " " + path;
      requests.add(line);
      try {
        if (line.equals("GET /api/v3/repos/acme/shop/pulls/42")) {
          prReads.incrementAndGet();
          return json(200, gitHubPr(head.get(), labels.get(), base.get()));
        }
        if (line.equals("GET /api/v4/projects/acme%2Fshop/merge_requests/42")) {
          prReads.incrementAndGet();
          return json(200, gitLabMr(head.get(), labels.get()));
        }
        if (line.equals("GET /api/v3/repos/acme/shop/issues/42/comments")
            || line.equals("GET /api/v4/projects/acme%2Fshop/merge_requests/42/notes")) {
          ArrayNode list = JSON.createArrayNode();
          comments.forEach((id, body) -> {
            ObjectNode c = list.addObject().put("id", id).put("body", body);
            c.putObject("user").put("login", "preview-bot");
            c.putObject("author").put("username", "preview-bot");
          });
          return json(200, list);
        }
        if (line.equals("POST /api/v3/repos/acme/shop/issues/42/comments")
            || line.equals("POST /api/v4/projects/acme%2Fshop/merge_requests/42/notes")) {
          long id = ids.incrementAndGet();
          comments.put(id, body(r));
          return json(201, JSON.createObjectNode().put("id", id).put("body", comments.get(id)));
        }
        Matcher edit = Pattern.compile("(PATCH /api/v3/repos/acme/shop/issues/comments/"
            + "|PUT /api/v4/projects/acme%2Fshop/merge_requests/42/notes/)(\\d+)").matcher(line);
        if (edit.matches() && comments.containsKey(Long.parseLong(edit.group(2)))) {
          long id = Long.parseLong(edit.group(2));
          comments.put(id, body(r));
          return json(200, JSON.createObjectNode().put("id", id).put("body", comments.get(id)));
        }
        return json(404, JSON.createObjectNode().put("message", "Not Found"));
      } catch (Exception e) {
        return json(500, JSON.createObjectNode().put("message", e.toString()));
      }
    }

    private static String body(RecordedRequest r) throws Exception {
      JsonNode b = JSON.readTree(r.getBody().utf8());
      return b.path("body").asText();
    }

    private static MockResponse json(int code, JsonNode body) {
      return new MockResponse.Builder().code(code).headers(Headers.of("Content-Type", "application/json"))
          .body(body.toString()).build();
    }
  }
}
