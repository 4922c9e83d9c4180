package dev.preview.server;

import static dev.preview.server.Deliveries.JSON;
import static dev.preview.server.Deliveries.SECRET;
import static dev.preview.server.Deliveries.pullRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import dev.preview.testkit.Faults;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ack never waits on deploy work: with every deploy worker of the orchestrator ({@code
 * parallelism(2)}) held inside {@code EnvironmentProvider.apply} and the status publisher held inside
 * {@code ScmNotifier.publish} (asynchronous statuses, as {@code preview serve} runs), new signed deliveries (more than the server has request threads, sent
 * at once) are still verified, parsed and answered 202, a push for a PR whose deploy is held is 202,
 * pings are 200, and no further deploy starts until a worker is free. Every provider call ran on the
 * orchestrator's own workers, never on a Jetty request thread.
 */
class WebhookAckWhileDeploysBlockTest {
  static final int WORKERS = 2;
  static final int REQUEST_THREADS = 2;
  static final int NEW_PRS = 12;

  final Faults envFaults = new Faults();
  final Faults scmFaults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(envFaults);
  final FakeScmNotifier scm = new FakeScmNotifier(scmFaults);
  final FakePullRequestSource prs = new FakePullRequestSource();
  /** Client timeout: a deadline that turns a hang into a failure, not a performance claim. */
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final Set<String> applyThreads = ConcurrentHashMap.newKeySet();
  PreviewOrchestrator orchestrator;
  WebhookServer server;

  @BeforeEach
  void start() throws Exception {
    for (int n = 1; n <= WORKERS + NEW_PRS; n++) {
      prs.put(PullRequest.open(PreviewKey.pr("acme/shop", n), sha(n, 0), "feature/" + n, "main"));
    }
    envFaults.onCall((op, key) -> {
      if (op.endsWith("apply")) {
        applyThreads.add(Thread.currentThread().getName());
      }
    });
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build())
        .policy(PreviewPolicy.defaults())
        .healthCheck(url -> true)
        .parallelism(WORKERS)
        .asyncStatus(true) // as preview serve runs it
        .build();
    server = WebhookServer.builder().orchestrator(orchestrator)
        .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
        .port(0).bind("127.0.0.1").threads(REQUEST_THREADS)
        .start();
  }

  @AfterEach
  void stop() {
    envFaults.clear();
    scmFaults.clear();
    server.close();
    orchestrator.close();
  }

  static String sha(int pr, int push) {
    return String.format("%040x", pr * 1000L + push);
  }

  CompletableFuture<HttpResponse<String>> github(String event, byte[] body) throws Exception {
    HttpRequest r = Deliveries.github(server, event, UUID.randomUUID().toString(), body).timeout(Duration.ofSeconds(10)).build();
    return client.sendAsync(r, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void deliveriesAreAnsweredWhileEveryDeployWorkerIsHeldInsideAProviderCall() throws Exception {
    List<Faults.Gate> applies = new ArrayList<>();
    for (int i = 0; i < WORKERS; i++) {
      applies.add(envFaults.block("environment.apply"));
    }
    Faults.Gate publish = scmFaults.block("scm.publish");
    for (int n = 1; n <= WORKERS; n++) {
      assertThat(github("pull_request", pullRequest("opened", n, "feature/" + n, sha(n, 0))).join().statusCode()).isEqualTo(202);
    }
    for (Faults.Gate g : applies) {
      assertThat(g.awaitEntered(Duration.ofSeconds(10))).as("every deploy worker is held inside apply").isTrue();
    }
    assertThat(publish.awaitEntered(Duration.ofSeconds(10))).as("the status publisher is held inside publish").isTrue();

    // all at once: more deliveries than the server has request threads
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int n = WORKERS + 1; n <= WORKERS + NEW_PRS; n++) {
      answers.add(github("pull_request", pullRequest("opened", n, "feature/" + n, sha(n, 0))));
    }
    prs.put(PullRequest.open(PreviewKey.pr("acme/shop", 1), sha(1, 1), "feature/1", "main"));
    CompletableFuture<HttpResponse<String>> push = github("pull_request", pullRequest("synchronize", 1, "feature/1", sha(1, 1)));
    List<CompletableFuture<HttpResponse<String>>> pings = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      pings.add(github("ping", "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":30}".getBytes(StandardCharsets.UTF_8)));
    }

    for (CompletableFuture<HttpResponse<String>> a : answers) {
      HttpResponse<String> r = a.join();
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      assertThat(JSON.readTree(r.body()).path("status").asText()).isEqualTo("accepted");
    }
    assertThat(push.join().statusCode()).as("a push for a PR whose deploy is held").isEqualTo(202);
    for (CompletableFuture<HttpResponse<String>> p : pings) {
      assertThat(p.join().statusCode()).isEqualTo(200);
    }
    // answered while the workers were still held: no further deploy could start, and all of it is queued
    assertThat(applies).allSatisfy(g -> assertThat(g.released()).isFalse());
    assertThat(envFaults.calls("environment.apply")).as("deploys started: the bound").isEqualTo(WORKERS);
    assertThat(server.inFlight()).isEqualTo(WORKERS + NEW_PRS + 1);

    publish.release();
    applies.forEach(Faults.Gate::release);
    await().atMost(Duration.ofSeconds(30)).until(() -> server.inFlight() == 0);
    assertThat(env.keys()).hasSize(WORKERS + NEW_PRS);
    assertThat(env.current(PreviewKey.pr("acme/shop", 1))).get().satisfies(s -> assertThat(s.revision()).isEqualTo(sha(1, 1)));
    assertThat(applyThreads).isNotEmpty().allSatisfy(t -> assertThat(t).startsWith("preview-worker-"));
    assertThat(envFaults.maxConcurrent()).as("never more deploys at once than the pool's bound").isLessThanOrEqualTo(WORKERS);
  }
}
