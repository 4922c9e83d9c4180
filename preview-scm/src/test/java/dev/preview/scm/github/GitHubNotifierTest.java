package dev.preview.scm.github;

import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.Fixtures;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class GitHubNotifierTest {
  static final Instant NOW = Instant.parse("2026-11-22T15:00:00Z");
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  @StartStop final MockWebServer server = new MockWebServer();
  final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

  GitHubNotifier.Builder notifier() {
    return GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n")))
        .clock(Clock.fixed(NOW, ZoneOffset.UTC)).sleeper(sleeps::add);
  }

  static PreviewStatus ready(Instant at) {
    Map<String, URI> links = new LinkedHashMap<>();
    links.put("docs", URI.create("https://pr-42.preview.example.com/docs"));
    links.put("logs", URI.create("https://ci.example.com/preview/acme-shop-42/logs"));
    Map<String, Duration> steps = new LinkedHashMap<>();
    steps.put("database", Duration.ofMillis(1200));
    steps.put("environment", Duration.ofMillis(3400));
    return new PreviewStatus(KEY, PreviewState.READY, SHA, URI.create("https://pr-42.preview.example.com"), links,
        "", null, List.of(), steps, at);
  }

  static PreviewStatus failed(Instant at) {
    return new PreviewStatus(KEY, PreviewState.FAILED, SHA, null, Map.of(), "health check /healthz answered 500 for 120 s",
        "readiness", List.of("Starting app", "ERROR relation \"users\" does not exist", "```injected fence"), Map.of(), at);
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).as("expected another request").isNotNull();
    return r;
  }

  static void assertGitHubHeaders(RecordedRequest r) {
    assertThat(r.getHeaders().get("Authorization")).isEqualTo("Bearer t0k3n");
    assertThat(r.getHeaders().get("Accept")).isEqualTo("application/vnd.github+json");
    assertThat(r.getHeaders().get("X-GitHub-Api-Version")).isEqualTo("2022-11-28");
    assertThat(r.getHeaders().get("User-Agent")).isEqualTo("preview.dev");
  }

  static JsonNode body(RecordedRequest r) throws Exception {
    return Fixtures.MAPPER.readTree(r.getBody().utf8());
  }

  @Test
  void firstPublishLooksForTheMarkerThenCreatesCommentDeploymentAndStatus() throws Exception {
    GitHubNotifier n = notifier().build();
    server.enqueue(json(200, "[{\"id\": 5, \"body\": \"LGTM\", \"user\": {\"login\": \"octocat\"}}]"));
    server.enqueue(json(201, "{\"id\": 1001, \"body\": \"x\"}"));
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 77, \"sha\": \"" + SHA + "\", \"environment\": \"preview-pr-42\"}"));
    server.enqueue(json(201, "{\"id\": 1, \"state\": \"success\"}"));
    PreviewStatus s = ready(NOW);
    n.publish(s);

    RecordedRequest list = take();
    assertThat(list.getMethod()).isEqualTo("GET");
    assertThat(list.getTarget()).isEqualTo("/repos/acme/shop/issues/42/comments?per_page=100");
    assertGitHubHeaders(list);

    RecordedRequest create = take();
    assertThat(create.getMethod()).isEqualTo("POST");
    assertThat(create.getTarget()).isEqualTo("/repos/acme/shop/issues/42/comments");
    assertGitHubHeaders(create);
    assertThat(create.getHeaders().get("Content-Type")).startsWith("application/json");
    String comment = body(create).get("body").asText();
    assertThat(body(create).size()).isEqualTo(1);
    assertThat(comment).startsWith("<!-- preview.dev:acme/shop#42 -->\n")
        .contains("Preview ready", "`READY`", "[https://pr-42.preview.example.com](https://pr-42.preview.example.com)",
            "`6dcb09b5b578`", "[docs](https://pr-42.preview.example.com/docs)", "database 1.2 s", "environment 3.4 s",
            "total 4.6 s", "2026-11-22T15:00:00Z");

    RecordedRequest findDeployment = take();
    assertThat(findDeployment.getMethod()).isEqualTo("GET");
    assertThat(findDeployment.getTarget()).isEqualTo("/repos/acme/shop/deployments?environment=preview-pr-42&sha=" + SHA + "&per_page=1");

    RecordedRequest deployment = take();
    assertThat(deployment.getMethod()).isEqualTo("POST");
    assertThat(deployment.getTarget()).isEqualTo("/repos/acme/shop/deployments");
    assertGitHubHeaders(deployment);
    assertThat(body(deployment)).isEqualTo(Fixtures.MAPPER.readTree("{\"ref\":\"" + SHA + "\",\"environment\":\"preview-pr-42\","
        + "\"description\":\"Preview of acme/shop#42\",\"auto_merge\":false,\"transient_environment\":true,"
        + "\"production_environment\":false,\"required_contexts\":[]}"));

    RecordedRequest status = take();
    assertThat(status.getMethod()).isEqualTo("POST");
    assertThat(status.getTarget()).isEqualTo("/repos/acme/shop/deployments/77/statuses");
    assertThat(body(status)).isEqualTo(Fixtures.MAPPER.readTree("{\"state\":\"success\","
        + "\"environment_url\":\"https://pr-42.preview.example.com\","
        + "\"log_url\":\"https://ci.example.com/preview/acme-shop-42/logs\",\"description\":\"Preview ready\",\"auto_inactive\":true}"));
    assertThat(server.getRequestCount()).isEqualTo(5);
  }

  @Test
  void laterPublishesEditTheSameCommentAndSkipWhatDidNotChange() throws Exception {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    GitHubNotifier n = notifier().build();
    n.publish(ready(NOW));
    int afterFirst = server.getRequestCount();
    n.publish(ready(NOW));
    assertThat(server.getRequestCount()).as("identical status: nothing to send").isEqualTo(afterFirst);

    n.publish(failed(NOW.plusSeconds(60)));
    assertThat(gh.commentBodies("acme/shop", 42)).hasSize(1);
    String body = gh.commentBodies("acme/shop", 42).get(0);
    assertThat(body).contains("Preview failed", "| **Failed step** | `readiness` |",
        "| **Reason** | health check /healthz answered 500 for 120 s |", "ERROR relation \"users\" does not exist",
        "````text\n");
    assertThat(gh.deploymentStatuses).extracting(s -> s.path("state").asText()).containsExactly("success", "failure");
    assertThat(gh.deploymentStatuses.get(1).path("description").asText())
        .isEqualTo("Preview failed at readiness: health check /healthz answered 500 for 120 s");
    assertThat(gh.deployments).hasSize(1);
  }

  @Test
  void findsItsCommentOnALaterPageAndIgnoresQuotes() throws Exception {
    FakeGitHub gh = new FakeGitHub(2);
    server.setDispatcher(gh);
    gh.addComment("acme/shop", 42, "first!");
    gh.addComment("acme/shop", 42, "> <!-- preview.dev:acme/shop#42 -->\n> quoted by a human");
    gh.addComment("acme/shop", 42, "<!-- preview.dev:acme/shop#42 -->\nold status");
    gh.addComment("acme/shop", 42, "<!-- preview.dev:acme/shop#4 -->\nanother PR's marker");
    GitHubNotifier n = notifier().deployments(false).build();
    n.publish(ready(NOW));
    List<String> bodies = gh.commentBodies("acme/shop", 42);
    assertThat(bodies).hasSize(4);
    assertThat(bodies.get(2)).startsWith("<!-- preview.dev:acme/shop#42 -->\n<!-- preview.dev:status v=1 state=READY ")
        .contains(" -->\n### ✅ Preview ready");
    assertThat(bodies.get(1)).contains("quoted by a human");
    assertThat(bodies.get(3)).contains("another PR's marker");
  }

  @Test
  void twentyParallelUpdatesOfOnePrLeaveExactlyOneCommentWithTheNewestStatus() throws Exception {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    GitHubNotifier n = notifier().deployments(false).build();
    ExecutorService pool = Executors.newFixedThreadPool(20);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      PreviewStatus s = i % 2 == 0 ? ready(NOW.plusSeconds(i)) : failed(NOW.plusSeconds(i));
      futures.add(pool.submit(() -> {
        start.await();
        n.publish(s);
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    List<String> bodies = gh.commentBodies("acme/shop", 42);
    assertThat(bodies).hasSize(1);
    List<String> published = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      published.add(dev.preview.scm.internal.StickyComments.body(i % 2 == 0 ? ready(NOW.plusSeconds(i)) : failed(NOW.plusSeconds(i))));
    }
    assertThat(published).as("the comment holds one of the published statuses, whole").contains(bodies.get(0));
  }

  @Test
  void twoNotifiersRacingLeaveOneCommentAfterTheNextUpdate() throws Exception {
    // Two processes (no shared lock) may both create; the next lookup keeps the oldest and deletes the rest.
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    gh.addComment("acme/shop", 42, "<!-- preview.dev:acme/shop#42 -->\nfrom process A");
    gh.addComment("acme/shop", 42, "<!-- preview.dev:acme/shop#42 -->\nfrom process B");
    notifier().deployments(false).build().publish(ready(NOW));
    assertThat(gh.commentBodies("acme/shop", 42)).hasSize(1).allMatch(b -> b.contains("Preview ready"));
  }

  @Test
  void aCreateThatFailedMidwayIsNotRepeatedWhenGitHubStoredIt() throws Exception {
    GitHubNotifier n = notifier().deployments(false).build();
    String body = dev.preview.scm.internal.StickyComments.body(ready(NOW));
    server.enqueue(json(200, "[]"));
    server.enqueue(json(502, "{\"message\": \"Server Error\"}"));
    server.enqueue(json(200, Fixtures.MAPPER.createArrayNode().add(withBot(Fixtures.MAPPER.createObjectNode().put("id", 9).put("body", body))).toString()));
    n.publish(ready(NOW));
    assertThat(take().getMethod()).isEqualTo("GET");
    assertThat(take().getMethod()).isEqualTo("POST");
    RecordedRequest look = take();
    assertThat(look.getMethod()).isEqualTo("GET");
    assertThat(look.getTarget()).isEqualTo("/repos/acme/shop/issues/42/comments?per_page=100");
    assertThat(server.getRequestCount()).as("no second POST, no PATCH of an identical body").isEqualTo(3);
  }

  @Test
  void aCommentDeletedByAHumanIsRecreated() throws Exception {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    GitHubNotifier n = notifier().deployments(false).build();
    n.publish(ready(NOW));
    gh.comments.clear();
    n.publish(failed(NOW.plusSeconds(5)));
    assertThat(gh.commentBodies("acme/shop", 42)).hasSize(1).allMatch(b -> b.contains("Preview failed"));
  }

  @Test
  void commitStatusWhenEnabledAndInactiveDeploymentOnDelete() throws Exception {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    GitHubNotifier n = notifier().commitStatus(true).statusContext("preview/acme").build();
    n.publish(ready(NOW));
    assertThat(gh.commitStatuses).hasSize(1);
    assertThat(gh.commitStatuses.get(0)).isEqualTo(Fixtures.MAPPER.readTree("{\"state\":\"success\","
        + "\"target_url\":\"https://pr-42.preview.example.com\",\"description\":\"Preview ready\","
        + "\"context\":\"preview/acme\",\"sha\":\"" + SHA + "\"}"));
    n.publish(new PreviewStatus(KEY, PreviewState.DELETED, null, null, Map.of(), "PR merged", null, List.of(), Map.of(), NOW.plusSeconds(30)));
    assertThat(gh.deploymentStatuses).extracting(s -> s.path("state").asText()).containsExactly("success", "inactive");
    assertThat(gh.deploymentStatuses.get(1).has("environment_url")).isFalse();
    assertThat(gh.commentBodies("acme/shop", 42).get(0)).contains("Preview deleted", "PR merged");
    assertThat(gh.commitStatuses).hasSize(1);
  }

  @Test
  void rateLimit403WaitsUntilTheReset() throws Exception {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(new MockResponse.Builder().code(403).setHeader("X-RateLimit-Limit", "5000").setHeader("X-RateLimit-Remaining", "0")
        .setHeader("X-RateLimit-Reset", Long.toString(NOW.getEpochSecond() + 30)).setHeader("X-RateLimit-Resource", "core")
        .body("{\"message\": \"API rate limit exceeded for installation ID 1.\"}").build());
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 1}"));
    n.publish(ready(NOW));
    assertThat(sleeps).containsExactly(Duration.ofSeconds(31));
    assertThat(take().getTarget()).isEqualTo(take().getTarget());
    assertThat(take().getMethod()).isEqualTo("POST");
  }

  @Test
  void rateLimit429HonoursRetryAfterEvenForACreate() throws Exception {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(json(200, "[]"));
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "7").body("{\"message\":\"slow down\"}").build());
    server.enqueue(json(201, "{\"id\": 1}"));
    n.publish(ready(NOW));
    assertThat(sleeps).containsExactly(Duration.ofSeconds(7));
    take();
    assertThat(take().getMethod()).isEqualTo("POST");
    assertThat(take().getMethod()).isEqualTo("POST");
  }

  @Test
  void secondaryRateLimitWithoutHeadersBacksOffAMinute() throws Exception {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(json(403, "{\"message\": \"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.\"}"));
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 1}"));
    n.publish(ready(NOW));
    assertThat(sleeps).containsExactly(Duration.ofSeconds(60));
  }

  @Test
  void rateLimitLongerThanTheMaximumWaitFailsFastAndRetryable() {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(new MockResponse.Builder().code(403).setHeader("X-RateLimit-Remaining", "0")
        .setHeader("X-RateLimit-Reset", Long.toString(NOW.getEpochSecond() + 3600)).body("{\"message\":\"API rate limit exceeded\"}").build());
    assertThatThrownBy(() -> n.publish(ready(NOW)))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.httpStatus()).hasValue(403);
          assertThat(e.getMessage()).contains("rate limited", "2026-11-22T16:00:00Z", "rateLimitMaxWait");
        });
    assertThat(sleeps).isEmpty();
  }

  @Test
  void serverErrorsAreRetriedForReadsWithBackoff() throws Exception {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(json(503, "{}"));
    server.enqueue(json(500, "{}"));
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 1}"));
    n.publish(ready(NOW));
    assertThat(sleeps).containsExactly(Duration.ofMillis(500), Duration.ofMillis(1000));
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void notFoundAndValidationErrorsAreClear() {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(json(404, "{\"message\":\"Not Found\",\"documentation_url\":\"https://docs.github.com/rest\"}"));
    assertThatThrownBy(() -> n.publish(ready(NOW)))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.httpStatus()).hasValue(404);
          assertThat(e.provider()).isEqualTo("github");
          assertThat(e.getMessage()).contains("GET /repos/acme/shop/issues/42/comments returned 404", "check the repository name", "Not Found")
              .doesNotContain("t0k3n");
        });
    server.enqueue(json(200, "[]"));
    server.enqueue(json(422, "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"IssueComment\",\"code\":\"custom\",\"field\":\"body\",\"message\":\"body is too long (maximum is 65536 characters)\"}]}"));
    assertThatThrownBy(() -> n.publish(ready(NOW.plusSeconds(1))))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.httpStatus()).hasValue(422);
          assertThat(e.getMessage()).contains("POST /repos/acme/shop/issues/42/comments returned 422", "Validation Failed", "body is too long");
        });
  }

  @Test
  void branchPreviewsGetADeploymentButNoComment() throws Exception {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    PreviewKey branch = PreviewKey.branch("acme/shop", "release/2.0");
    notifier().build().publish(new PreviewStatus(branch, PreviewState.READY, SHA, URI.create("https://release-2-0.example.com"),
        Map.of(), "", null, List.of(), Map.of(), NOW));
    assertThat(gh.comments).isEmpty();
    assertThat(gh.deployments).singleElement().satisfies(d -> assertThat(d.path("environment").asText()).isEqualTo("preview-release-2.0"));
  }

  /** {@code comment} as written by a GitHub App's bot account. */
  static com.fasterxml.jackson.databind.node.ObjectNode withBot(com.fasterxml.jackson.databind.node.ObjectNode comment) {
    comment.putObject("user").put("login", "preview-bot[bot]").put("type", "Bot");
    return comment;
  }
}
