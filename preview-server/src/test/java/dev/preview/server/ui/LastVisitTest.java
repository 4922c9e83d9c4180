package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewActions;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.server.OperatorLog;
import dev.preview.server.WebhookServer;
import dev.preview.server.gateway.GatewaySettings;
import dev.preview.server.gateway.PreviewGateway;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.MutableClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Last push and last visit apart: visits through the gateway are written to the {@code last-visit}
 * label (many visits between two flushes: one write), a deploy writes {@code last-push} and carries the
 * visit over, and the list, the detail page and {@code /api/previews} show both, also from a fresh
 * server that saw none of it (a restart, another replica).
 */
class LastVisitTest {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void lastPushAndLastVisitAreRecordedApartAndSurviveARestart() throws Exception {
    MutableClock clock = new MutableClock(T0);
    FakeEnvironmentProvider raw = new FakeEnvironmentProvider();
    FakePullRequestSource prs = new FakePullRequestSource();
    PreviewGateway gateway = PreviewGateway.builder().environment(raw).clock(clock)
        .settings(GatewaySettings.builder().port(0).pathPrefix("/pr/{number}/").visitFlush(Duration.ofHours(1)).build())
        .build();
    PreviewPolicy policy = PreviewPolicy.builder().ttl(Duration.ofDays(7)).build();
    PreviewBoard board = new PreviewBoard(clock);
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(gateway.visitAware(raw)).pullRequests(prs)
        .app(AppTemplate.builder().build()).policy(policy).clock(clock).healthCheck(url -> true).listener(board)
        .listener(gateway.listener()).closeProviders(false).build();
    board.orchestrator(o);
    gateway.start();
    WebhookServer server = server(board, o, policy, clock);
    try {
      PullRequest first = PullRequest.open(KEY, "a".repeat(40), "feature", "main");
      prs.put(first);
      assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, first)).get(30, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.READY);
      assertThat(raw.find(KEY).orElseThrow().labels()).containsEntry(Labels.LAST_PUSH, T0.toString())
          .doesNotContainKey(Labels.LAST_VISIT);
      // the board writes the run's time to URL with a relabel of its own: done before relabels are counted
      org.awaitility.Awaitility.await().until(() -> raw.find(KEY).orElseThrow().labels().containsKey(Labels.TIME_TO_URL));
      JsonNode before = preview(server);
      assertThat(before.get("lastVisit").isNull()).isTrue();
      assertThat(before.get("lastPush").asText()).isEqualTo(T0.toString());

      // five visits an hour later; the upstream (a fake address) does not answer, which does not matter
      clock.advance(Duration.ofHours(1));
      Instant visit = clock.instant();
      gateway.refreshNow();
      for (int i = 0; i < 5; i++) {
        http.send(HttpRequest.newBuilder(gateway.url().resolve("/pr/42/page")).build(), HttpResponse.BodyHandlers.discarding());
      }
      assertThat(gateway.lastVisit(KEY)).hasValue(visit);
      JsonNode unflushed = preview(server);
      assertThat(unflushed.get("lastVisit").asText()).as("the gateway's memory shows before the flush").isEqualTo(visit.toString());
      int relabels = raw.faults().calls("environment.relabel");
      assertThat(gateway.flushVisits()).isEqualTo(1);
      assertThat(gateway.flushVisits()).as("nothing new: no write").isZero();
      assertThat(raw.faults().calls("environment.relabel") - relabels).as("five visits, one write").isEqualTo(1);
      assertThat(raw.find(KEY).orElseThrow().labels()).containsEntry(Labels.LAST_VISIT, visit.toString())
          .containsEntry(Labels.LAST_ACTIVITY, visit.toString()).containsEntry(Labels.LAST_PUSH, T0.toString());

      // a push later: last push moves, the visit is carried over by the deploy
      clock.advance(Duration.ofHours(1));
      Instant pushed = clock.instant();
      PullRequest push = PullRequest.open(KEY, "b".repeat(40), "feature", "main");
      prs.put(push);
      assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, push)).get(30, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.READY);
      assertThat(raw.find(KEY).orElseThrow().labels()).containsEntry(Labels.LAST_VISIT, visit.toString())
          .containsEntry(Labels.LAST_PUSH, pushed.toString()).containsEntry(Labels.LAST_ACTIVITY, pushed.toString());
    } finally {
      server.close();
      o.close();
      gateway.close();
    }

    // a fresh server on the same infrastructure, without the gateway's memory or the board's
    PreviewBoard fresh = new PreviewBoard(clock);
    PreviewOrchestrator again = PreviewOrchestrator.builder().environment(raw).pullRequests(prs).policy(policy).clock(clock)
        .healthCheck(url -> true).listener(fresh).closeProviders(false).build();
    fresh.orchestrator(again);
    WebhookServer restarted = server(fresh, again, policy, clock);
    try {
      JsonNode after = preview(restarted);
      assertThat(after.get("lastVisit").asText()).isEqualTo(T0.plus(Duration.ofHours(1)).toString());
      assertThat(after.get("lastPush").asText()).isEqualTo(T0.plus(Duration.ofHours(2)).toString());
      String list = get(restarted, "/ui/").body();
      assertThat(list).contains("<th scope=\"col\">Last push</th>", "<th scope=\"col\">Last visit</th>")
          .contains("class=\"last-push\"><time datetime=\"2026-12-01T12:00:00Z\">")
          .contains("class=\"last-visit\"><time datetime=\"2026-12-01T11:00:00Z\">");
      String detail = get(restarted, "/ui/previews/acme/shop/42").body();
      assertThat(detail).contains("<dt>Last push</dt><dd>2026-12-01 12:00Z</dd>", "<dt>Last visit</dt><dd>2026-12-01 11:00Z</dd>");
      assertThat(PreviewJson.object(PreviewRow.observed(raw.find(KEY).orElseThrow(), null)).get("lastVisit").asText())
          .as("preview list -o json shows it too").isEqualTo(T0.plus(Duration.ofHours(1)).toString());
    } finally {
      restarted.close();
      again.close();
    }
  }

  private static WebhookServer server(PreviewBoard board, PreviewOrchestrator o, PreviewPolicy policy, MutableClock clock)
      throws java.io.IOException {
    DashboardSettings settings = DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), Secret.of(DashboardFixture.READ));
    return WebhookServer.builder().orchestrator(o)
        .source(GitHubWebhookSource.builder(Secret.of(DashboardFixture.WEBHOOK_SECRET)).build()).port(0).bind("127.0.0.1")
        .mount(Dashboard.create(board, PreviewActions.of(o, policy, clock), settings, OperatorLog.text(), clock),
            Dashboard.prefixes())
        .start();
  }

  private HttpResponse<String> get(WebhookServer server, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(server.url().resolve(path)).header("Authorization", "Bearer " + DashboardFixture.READ)
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode preview(WebhookServer server) throws Exception {
    HttpResponse<String> r = get(server, "/api/previews");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode all = PreviewJson.JSON.readTree(r.body());
    assertThat(all.size()).isEqualTo(1);
    return all.get(0);
  }
}
