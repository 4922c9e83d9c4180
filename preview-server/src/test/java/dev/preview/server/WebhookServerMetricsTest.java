package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** /metrics scraped after a deploy and a teardown; the operator log; one run per delivery id. */
class WebhookServerMetricsTest extends ServerWithMetrics {
  final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  final OperatorLog log = OperatorLog.json(new PrintStream(logged, true, StandardCharsets.UTF_8));

  void start() throws Exception {
    prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(scm).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build()).healthCheck(url -> true)
        .listener(metrics).listener(log).asyncStatus(true).build();
    server = WebhookServer.builder().orchestrator(orchestrator).metrics(metrics).log(log)
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build())
        .port(0).bind("127.0.0.1").reconcileInterval(Duration.ofHours(1)).start(); // reconciled on demand below
  }

  HttpResponse<String> github(String event, String delivery, byte[] body, String signature) throws Exception {
    return client.send(Deliveries.github(server, event, delivery, body, signature).build(), HttpResponse.BodyHandlers.ofString());
  }

  static byte[] closed() throws Exception {
    ObjectNode root = (ObjectNode) Deliveries.JSON.readTree(Deliveries.opened());
    root.put("action", "closed");
    ((ObjectNode) root.get("pull_request")).put("state", "closed");
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void metricsAfterADeployAndATeardownMatchWhatHappened() throws Exception {
    start();
    byte[] opened = Deliveries.opened();
    assertThat(github("pull_request", "d-open", opened, Deliveries.sign(opened)).statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(Deliveries.KEY).map(s -> s.state() == PreviewState.READY).orElse(false));
    String ready = scrape();
    assertThat(sample(ready, "preview_previews", Map.of("state", "ready"))).isEqualTo(1);
    assertThat(sample(ready, "preview_time_to_ready_seconds_count", Map.of())).isEqualTo(1);
    assertThat(sample(ready, "preview_step_duration_seconds_count", Map.of("step", "environment", "outcome", "ok"))).isEqualTo(1);

    prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main").withState(PullRequest.State.CLOSED));
    byte[] closed = closed();
    assertThat(github("pull_request", "d-close", closed, Deliveries.sign(closed)).statusCode()).isEqualTo(202);
    assertThat(github("pull_request", "d-bad", closed, "sha256=" + "0".repeat(64)).statusCode()).isEqualTo(401);
    byte[] ping = "{\"zen\":\"x\",\"hook_id\":1}".getBytes(StandardCharsets.UTF_8);
    assertThat(github("ping", "d-ping", ping, Deliveries.sign(ping)).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> scm.latest(Deliveries.KEY).map(s -> s.state() == PreviewState.DELETED).orElse(false));
    server.reconcileSoon();
    await().atMost(Duration.ofSeconds(5)).until(() -> sample(scrape(), "preview_reconcile_runs_total", Map.of("outcome", "ok")) == 1);

    String after = scrape();
    assertThat(sample(after, "preview_webhook_deliveries_total", Map.of("provider", "github", "event", "pull_request", "outcome", "accepted")))
        .isEqualTo(2);
    assertThat(sample(after, "preview_webhook_deliveries_total", Map.of("event", "pull_request", "outcome", "rejected"))).isEqualTo(1);
    assertThat(sample(after, "preview_webhook_deliveries_total", Map.of("event", "ping", "outcome", "ignored"))).isEqualTo(1);
    assertThat(sample(after, "preview_webhook_ack_seconds_count", Map.of("provider", "github"))).isEqualTo(4);
    assertThat(sample(after, "preview_previews", Map.of("state", "ready"))).isZero();
    assertThat(sample(after, "preview_queue_length", Map.of())).isZero();
    assertThat(sample(after, "preview_step_duration_seconds_count", Map.of("step", "teardown.environment", "outcome", "ok"))).isEqualTo(1);
    assertThat(sample(after, "preview_time_to_ready_seconds_count", Map.of())).isEqualTo(1);

    // the operator log: one line per delivery, one per state change, no secret
    String lines = logged.toString(StandardCharsets.UTF_8);
    assertThat(lines).contains("\"msg\":\"delivery\",\"provider\":\"github\",\"event\":\"pull_request\",\"delivery\":\"d-open\","
        + "\"key\":\"acme/shop#42\",\"outcome\":\"accepted\",\"status\":202");
    assertThat(lines).contains("\"msg\":\"state\",\"key\":\"acme/shop#42\",\"state\":\"READY\",\"revision\":\"" + Deliveries.SHA + "\"");
    assertThat(lines).contains("\"state\":\"DELETED\"").contains("\"stepsMs\":{");
    assertThat(lines).doesNotContain(Deliveries.SECRET).doesNotContain("sha256=");
    for (String line : lines.split("\n")) {
      Deliveries.JSON.readTree(line); // every line is one JSON object
    }
  }

  @Test
  void withoutAPrometheusRegistryThereIsNoMetricsEndpoint() throws Exception {
    server = WebhookServer.builder().actions(e -> new CompletableFuture<>(), () -> new ReconcileReport(List.of(), Set.of(), List.of(), false))
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build()).port(0).bind("127.0.0.1").start();
    assertThat(client.send(HttpRequest.newBuilder(server.url().resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode()).isEqualTo(404);
  }

  @Test
  void anEmbeddersOwnRegistryGetsTheMetersAndNoEndpointIsServed() throws Exception {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry own = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    try (PreviewMetrics embedded = PreviewMetrics.create(own)) {
      prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main"));
      orchestrator = PreviewOrchestrator.builder().environment(env).notifier(scm).pullRequests(prs)
          .app(AppTemplate.builder().build()).healthCheck(url -> true).listener(embedded).build();
      server = WebhookServer.builder().orchestrator(orchestrator).metrics(embedded)
          .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build()).port(0).bind("127.0.0.1").start();
      byte[] opened = Deliveries.opened();
      assertThat(github("pull_request", "d-own", opened, Deliveries.sign(opened)).statusCode()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(10)).until(() -> own.get("preview.previews").tag("state", "ready").gauge().value() == 1);
      assertThat(own.get("preview.webhook.deliveries").tags("provider", "github", "event", "pull_request", "outcome", "accepted")
          .counter().count()).isEqualTo(1);
      assertThat(own.get("preview.webhook.ack").tag("provider", "github").timer().count()).isEqualTo(1);
      assertThat(own.get("preview.step.duration").tags("step", "environment", "outcome", "ok").timer().count()).isEqualTo(1);
      assertThat(client.send(HttpRequest.newBuilder(server.url().resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).as("not a Prometheus registry: no /metrics").isEqualTo(404);
    }
  }

  @Test
  void concurrentCopiesOfOneDeliveryRunExactlyOnce() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CompletableFuture<Preview> running = new CompletableFuture<>();
    server = WebhookServer.builder().actions(e -> {
      runs.incrementAndGet();
      return running;
    }, () -> new ReconcileReport(List.of(), Set.of(), List.of(), false))
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build()).port(0).bind("127.0.0.1").start();
    byte[] body = Deliveries.opened();
    String signature = Deliveries.sign(body);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<Integer>> answers = new ArrayList<>();
    try {
      for (int i = 0; i < 32; i++) {
        answers.add(pool.submit(() -> github("pull_request", "same-id", body, signature).statusCode()));
      }
      List<Integer> codes = new ArrayList<>();
      for (Future<Integer> f : answers) {
        codes.add(f.get());
      }
      assertThat(runs).hasValue(1);
      assertThat(codes).containsOnlyOnce(202).filteredOn(c -> c != 202).containsOnly(200);
    } finally {
      pool.shutdownNow();
    }
    // the run failed: a redelivery of the same id runs again
    running.complete(new Preview(Deliveries.KEY, PreviewState.FAILED, Deliveries.SHA, null, null, "boom", "environment",
        Map.of(), null, null));
    assertThat(github("pull_request", "same-id", body, signature).statusCode()).isEqualTo(202);
    assertThat(runs).hasValue(2);
  }

  static Matcher match(String regex, String text) {
    return Pattern.compile(regex).matcher(text);
  }
}
