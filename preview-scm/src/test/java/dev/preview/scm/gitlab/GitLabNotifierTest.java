package dev.preview.scm.gitlab;

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

class GitLabNotifierTest {
  static final Instant NOW = Instant.parse("2026-11-22T15:00:00Z");
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final PreviewKey KEY = PreviewKey.pr("acme/platform/shop", 7);
  static final String PROJECT = "acme%2Fplatform%2Fshop";

  @StartStop final MockWebServer server = new MockWebServer();
  final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

  GitLabNotifier.Builder notifier() {
    return GitLabNotifier.builder(server.url("/").toString(), Secret.of("glpat-secret"))
        .clock(Clock.fixed(NOW, ZoneOffset.UTC)).sleeper(sleeps::add);
  }

  static PreviewStatus status(PreviewState state, Instant at) {
    URI url = state == PreviewState.READY ? URI.create("https://mr-7.preview.example.com") : null;
    return new PreviewStatus(KEY, state, state == PreviewState.DELETED ? null : SHA, url,
        Map.of("docs", URI.create("https://mr-7.preview.example.com/docs")),
        state == PreviewState.FAILED ? "migration failed" : "", state == PreviewState.FAILED ? "database" : null,
        state == PreviewState.FAILED ? List.of("flyway: V2__users.sql failed") : List.of(), Map.of(), at);
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).isNotNull();
    assertThat(r.getHeaders().get("PRIVATE-TOKEN")).isEqualTo("glpat-secret");
    return r;
  }

  static JsonNode body(RecordedRequest r) throws Exception {
    return Fixtures.MAPPER.readTree(r.getBody().utf8());
  }

  @Test
  void readyCreatesNoteEnvironmentAndCommitStatusWithExactRequests() throws Exception {
    server.enqueue(json(200, "[{\"id\": 1, \"body\": \"added 1 commit\", \"system\": true}]"));
    server.enqueue(json(201, "{\"id\": 301, \"body\": \"x\"}"));
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 12, \"name\": \"preview/mr-7\", \"state\": \"available\", \"external_url\": \"https://mr-7.preview.example.com\"}"));
    server.enqueue(json(201, "{\"id\": 93, \"status\": \"success\"}"));
    notifier().build().publish(status(PreviewState.READY, NOW));

    RecordedRequest list = take();
    assertThat(list.getMethod()).isEqualTo("GET");
    assertThat(list.getTarget()).isEqualTo("/api/v4/projects/" + PROJECT + "/merge_requests/7/notes?sort=asc&order_by=created_at&per_page=100");
    RecordedRequest note = take();
    assertThat(note.getMethod()).isEqualTo("POST");
    assertThat(note.getTarget()).isEqualTo("/api/v4/projects/" + PROJECT + "/merge_requests/7/notes");
    assertThat(body(note).get("body").asText()).startsWith("<!-- preview.dev:acme/platform/shop#7 -->\n").contains("Preview ready",
        "[https://mr-7.preview.example.com](https://mr-7.preview.example.com)");
    RecordedRequest findEnv = take();
    assertThat(findEnv.getTarget()).isEqualTo("/api/v4/projects/" + PROJECT + "/environments?name=preview%2Fmr-7");
    RecordedRequest env = take();
    assertThat(env.getMethod()).isEqualTo("POST");
    assertThat(env.getTarget()).isEqualTo("/api/v4/projects/" + PROJECT + "/environments");
    assertThat(body(env)).isEqualTo(Fixtures.MAPPER.readTree(
        "{\"name\":\"preview/mr-7\",\"external_url\":\"https://mr-7.preview.example.com\",\"tier\":\"development\"}"));
    RecordedRequest st = take();
    assertThat(st.getMethod()).isEqualTo("POST");
    assertThat(st.getTarget()).isEqualTo("/api/v4/projects/" + PROJECT + "/statuses/" + SHA);
    assertThat(body(st)).isEqualTo(Fixtures.MAPPER.readTree("{\"state\":\"success\",\"name\":\"preview\","
        + "\"target_url\":\"https://mr-7.preview.example.com\",\"description\":\"Preview ready\"}"));
  }

  @Test
  void lifecycleKeepsOneNoteAndStopsTheEnvironmentOnTeardown() {
    FakeGitLab gl = new FakeGitLab(2);
    server.setDispatcher(gl);
    gl.addNote(PROJECT, 7, "first", false);
    gl.addNote(PROJECT, 7, "approved this merge request", true);
    gl.addNote(PROJECT, 7, "third", false);
    GitLabNotifier n = notifier().build();
    n.publish(status(PreviewState.PROVISIONING, NOW));
    n.publish(status(PreviewState.READY, NOW.plusSeconds(30)));
    n.publish(status(PreviewState.FAILED, NOW.plusSeconds(60)));
    n.publish(status(PreviewState.DELETED, NOW.plusSeconds(90)));
    List<String> ours = gl.noteBodies(PROJECT, 7).stream().filter(b -> b.startsWith("<!-- preview.dev:")).toList();
    assertThat(ours).singleElement().satisfies(b -> assertThat(b).contains("Preview deleted"));
    assertThat(gl.environments.values()).singleElement().satisfies(e -> {
      assertThat(e.path("name").asText()).isEqualTo("preview/mr-7");
      assertThat(e.path("state").asText()).isEqualTo("stopped");
      assertThat(e.path("external_url").asText()).isEqualTo("https://mr-7.preview.example.com");
    });
    assertThat(gl.statuses).extracting(s -> s.path("state").asText()).containsExactly("running", "success", "failed");
    assertThat(gl.statuses.get(2).path("description").asText()).isEqualTo("Preview failed at database: migration failed");
  }

  @Test
  void twentyParallelUpdatesLeaveOneNote() throws Exception {
    FakeGitLab gl = new FakeGitLab(100);
    server.setDispatcher(gl);
    GitLabNotifier n = notifier().environments(false).commitStatus(false).build();
    ExecutorService pool = Executors.newFixedThreadPool(20);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> fs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      PreviewStatus s = status(i % 2 == 0 ? PreviewState.PROVISIONING : PreviewState.READY, NOW.plusSeconds(i));
      fs.add(pool.submit(() -> {
        start.await();
        n.publish(s);
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : fs) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(gl.noteBodies(PROJECT, 7)).singleElement().satisfies(b -> assertThat(b).startsWith("<!-- preview.dev:acme/platform/shop#7 -->"));
  }

  @Test
  void anEnvironmentCreatedElsewhereMeanwhileIsAdopted() {
    FakeGitLab gl = new FakeGitLab(100);
    server.setDispatcher(gl);
    GitLabNotifier a = notifier().comments(false).commitStatus(false).build();
    GitLabNotifier b = notifier().comments(false).commitStatus(false).build();
    a.publish(status(PreviewState.READY, NOW));
    b.publish(status(PreviewState.READY, NOW));
    assertThat(gl.environments).hasSize(1);
  }

  @Test
  void rateLimit429WithRateLimitResetAndServerErrorRetry() throws Exception {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("RateLimit-Limit", "600").setHeader("RateLimit-Remaining", "0")
        .setHeader("RateLimit-Reset", Long.toString(NOW.getEpochSecond() + 12)).body("{\"message\":\"Retry later\"}").build());
    server.enqueue(json(502, "{\"message\":\"502 Bad Gateway\"}"));
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 301}"));
    notifier().environments(false).commitStatus(false).build().publish(status(PreviewState.READY, NOW));
    assertThat(sleeps).containsExactly(Duration.ofSeconds(13), Duration.ofMillis(500));
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void errorsAreMappedWithGitLabsMessage() {
    server.enqueue(json(403, "{\"message\":\"403 Forbidden\"}"));
    assertThatThrownBy(() -> notifier().environments(false).commitStatus(false).build().publish(status(PreviewState.READY, NOW)))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.provider()).isEqualTo("gitlab");
          assertThat(e.httpStatus()).hasValue(403);
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).contains("403 Forbidden", "lack a permission").doesNotContain("glpat-secret");
        });
  }

  @Test
  void aRepeatedCommitStatusTransitionIsNotAnError() {
    server.enqueue(json(400, "{\"message\":\"Cannot transition status via :run from :running (Reason(s): Status cannot transition via \\\"run\\\")\"}"));
    notifier().comments(false).environments(false).build().publish(status(PreviewState.PROVISIONING, NOW));
    assertThat(server.getRequestCount()).isEqualTo(1);
  }
}
