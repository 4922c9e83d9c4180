package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code preview_status_publish_total{outcome}} scraped from {@code /metrics} after an SCM that
 * failed twice (retryable, like a 502), then answered: the counts are what the notifier saw.
 */
class StatusPublishMetricsTest extends ServerWithMetrics {
  final AtomicInteger attempts = new AtomicInteger();

  static double publishes(String scrape, String outcome) {
    return sample(scrape, "preview_status_publish_total", Map.of("outcome", outcome));
  }

  @Test
  void aFailingThenRecoveringScmIsCountedAsItHappened() throws Exception {
    ScmNotifier flaky = new ScmNotifier() {
      final AtomicInteger calls = new AtomicInteger();

      @Override
      public String name() {
        return "flaky";
      }

      @Override
      public void publish(PreviewStatus status) {
        attempts.incrementAndGet();
        if (calls.incrementAndGet() <= 2) {
          throw new ProviderException("flaky", "answered 502", true); // retryable, as a 5xx is
        }
        scm.publish(status);
      }
    };
    prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(flaky).pullRequests(prs)
        .app(AppTemplate.builder().build()).healthCheck(url -> true).listener(metrics).asyncStatus(true).build();
    server = WebhookServer.builder().orchestrator(orchestrator).metrics(metrics)
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build())
        .port(0).bind("127.0.0.1").start();
    String before = scrape();
    for (String outcome : new String[] {"published", "retried", "dropped"}) {
      assertThat(before).as("registered before any attempt").contains("preview_status_publish_total{outcome=\"" + outcome + "\"}");
      assertThat(publishes(before, outcome)).isZero();
    }

    byte[] opened = Deliveries.opened();
    HttpResponse<String> r = client.send(Deliveries.github(server, "pull_request", "d-1", opened).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(20)).until(() -> scm.latest(Deliveries.KEY)
        .map(s -> s.state() == PreviewState.READY).orElse(false));
    int succeeded = scm.all().size();
    int failed = attempts.get() - succeeded;
    assertThat(failed).as("the two injected failures").isEqualTo(2);
    await().atMost(Duration.ofSeconds(5)).until(() -> publishes(scrape(), "published") == succeeded);

    String after = scrape();
    assertThat(publishes(after, "published")).isEqualTo(succeeded);
    assertThat(publishes(after, "retried")).as("every failed attempt was tried again").isEqualTo(failed);
    assertThat(publishes(after, "dropped")).isZero();
    assertThat(sample(after, "preview_status_retrying", Map.of())).as("nothing left to retry").isZero();
  }
}
