package dev.preview.server;

import static dev.preview.server.Deliveries.KEY;
import static dev.preview.server.Deliveries.SECRET;
import static dev.preview.server.Deliveries.SHA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Only the replica that leads acts: the leadership seam of {@link WebhookServer}, driven by hand. */
class WebhookServerLeadershipTest {
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource prs = new FakePullRequestSource();
  final HttpClient client = HttpClient.newHttpClient();
  final AtomicInteger handled = new AtomicInteger();
  final AtomicInteger reconciled = new AtomicInteger();
  /** Set by the test: the next reconcile tick drops leadership while it runs (a lease lost mid-reconcile). */
  final AtomicBoolean loseLeadershipInNextReconcile = new AtomicBoolean();
  final AtomicBoolean leads = new AtomicBoolean();
  PreviewOrchestrator orchestrator;
  WebhookServer server;

  @BeforeEach
  void orchestrator() {
    prs.put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).pullRequests(prs)
        .app(AppTemplate.builder().build()).policy(PreviewPolicy.defaults()).healthCheck(url -> true).build();
  }

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
    orchestrator.close();
  }

  WebhookServer start(BooleanSupplier isLeader, Duration reconcileInterval) throws Exception {
    return WebhookServer.builder()
        .actions(e -> {
          handled.incrementAndGet();
          return orchestrator.handle(e);
        }, () -> {
          reconciled.incrementAndGet();
          if (loseLeadershipInNextReconcile.getAndSet(false)) {
            leads.set(false);
          }
          return orchestrator.reconcile(false);
        })
        .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
        .leadership(isLeader, Duration.ofMillis(6500))
        .port(0).bind("127.0.0.1").reconcileInterval(reconcileInterval).start();
  }

  HttpResponse<String> opened() throws Exception {
    byte[] body = Deliveries.opened();
    return client.send(Deliveries.github(server, "pull_request", UUID.randomUUID().toString(), body).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(server.url().resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return Deliveries.json(r);
  }

  @Test
  void aStandbyAnswers503AndNeverActsThenActsOnceItLeadsAndStopsAtOnceWhenItLoses() throws Exception {
    server = start(leads::get, Duration.ofMillis(100));

    HttpResponse<String> refused = opened();
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("7"); // 6.5 s rounded up
    assertThat(json(refused).path("leader").asBoolean(true)).isFalse();
    HttpResponse<String> health = get("/healthz");
    assertThat(health.statusCode()).isEqualTo(503);
    assertThat(json(health).path("leader").asBoolean(true)).isFalse();
    assertThat(get("/livez").statusCode()).isEqualTo(200); // a liveness probe must not kill the standby
    // several reconcile intervals pass: a standby never reconciles
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> reconciled.get() == 0);
    assertThat(handled).hasValue(0);
    assertThat(env.applied()).isEmpty();
    assertThat(json(get("/healthz")).path("lastReconcile").asText()).isEqualTo("never");

    leads.set(true);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(json(get("/healthz")).path("leader").asBoolean(false)).isTrue();
    HttpResponse<String> accepted = opened();
    assertThat(accepted.statusCode()).isEqualTo(202);
    assertThat(accepted.headers().firstValue("Retry-After")).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> env.applied(KEY).size() == 1);
    assertThat(handled).hasValue(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> reconciled.get() >= 1);

    // Leadership is lost while a reconcile runs: no further tick acts, and webhooks are refused at once.
    loseLeadershipInNextReconcile.set(true);
    await().atMost(Duration.ofSeconds(5)).until(() -> !leads.get());
    int ticks = reconciled.get();
    assertThat(opened().statusCode()).isEqualTo(503);
    assertThat(get("/healthz").statusCode()).isEqualTo(503);
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> reconciled.get() == ticks);
    assertThat(handled).hasValue(1);
    assertThat(env.applied(KEY)).hasSize(1);
  }

  @Test
  void leadershipLostWhileTheBodyIsVerifiedStopsTheHandOver() throws Exception {
    // leads for the first question (before reading the body), not for the second (before handing over)
    AtomicInteger asked = new AtomicInteger();
    server = start(() -> asked.incrementAndGet() == 1, Duration.ZERO);
    HttpResponse<String> r = opened();
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("7");
    assertThat(asked).hasValue(2);
    assertThat(handled).hasValue(0);
    assertThat(env.applied()).isEmpty();
  }

  @Test
  void aFailingLeadershipCheckCountsAsNotLeading() throws Exception {
    server = start(() -> {
      throw new IllegalStateException("lease unknown");
    }, Duration.ofMillis(100));
    assertThat(opened().statusCode()).isEqualTo(503);
    assertThat(get("/healthz").statusCode()).isEqualTo(503);
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> reconciled.get() == 0);
    assertThat(handled).hasValue(0);
  }

  @Test
  void withoutLeadershipASingleReplicaAlwaysLeads() throws Exception {
    server = WebhookServer.builder().orchestrator(orchestrator).source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
        .port(0).bind("127.0.0.1").start();
    HttpResponse<String> health = get("/healthz");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(json(health).path("leader").asBoolean(false)).isTrue();
    assertThat(opened().statusCode()).isEqualTo(202);
  }
}
