package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The summary's 7-day figures after a restart (or on another replica): time to URL from the labels of
 * live previews, and with {@code dashboard.figuresFile} also the runs of previews gone since and what
 * reconcile reclaimed.
 */
class DashboardFiguresTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();
  private DashboardFixture first;
  private DashboardFixture again;

  @AfterEach
  void stop() {
    for (DashboardFixture f : new DashboardFixture[] {first, again}) {
      if (f != null) {
        f.close();
      }
    }
  }

  private static DashboardSettings settings() {
    return DashboardSettings.tokens(Secret.of(DashboardFixture.ADMIN), Secret.of(DashboardFixture.READ));
  }

  private JsonNode summary(DashboardFixture f) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(f.url("/api/summary"))
        .header("Authorization", "Bearer " + DashboardFixture.READ).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return PreviewJson.JSON.readTree(r.body());
  }

  /** Three runs that take 10, 20 and 30 s (each apply moves the clock), one torn down, one orphan reclaimed. */
  private void history(Path figures) throws Exception {
    first = new DashboardFixture(figures == null ? settings() : settings().withFiguresFile(figures));
    java.util.concurrent.atomic.AtomicInteger seconds = new java.util.concurrent.atomic.AtomicInteger();
    first.env.faults().onCall((op, key) -> {
      if (op.equals("environment.apply")) {
        first.clock.advance(Duration.ofSeconds(seconds.get()));
      }
    });
    for (int i = 1; i <= 3; i++) {
      seconds.set(10 * i);
      first.deploy(DashboardFixture.pr(i));
    }
    seconds.set(0);
    Awaitility.await().until(() -> first.env.list().stream().allMatch(e -> e.labels().containsKey(Labels.TIME_TO_URL)));
    first.orchestrator.teardown(PreviewKey.pr("acme/shop", 3), "closed").get(30, TimeUnit.SECONDS);
    PreviewKey orphan = PreviewKey.pr("acme/shop", 77); // its PR is unknown to the SCM: reconcile removes it
    first.env.plant(new Environment(orphan, "d".repeat(40), URI.create("http://pr-77.fake.test/"), Environment.Phase.RUNNING,
        Map.of(Labels.MANAGED, "true", Labels.KEY, orphan.id(), Labels.CREATED, DashboardFixture.NOW.toString())));
    first.orchestrator.reconcile(false);
    assertThat(first.env.find(orphan)).isEmpty();

    JsonNode s = summary(first);
    assertThat(s.get("runs").asInt()).isEqualTo(3);
    assertThat(s.get("timeToUrlMedianMs").asLong()).isEqualTo(20_000);
    assertThat(s.get("timeToUrlP90Ms").asLong()).isEqualTo(30_000);
    assertThat(s.get("reclaimed").asInt()).isGreaterThanOrEqualTo(1);
    assertThat(s.get("reclaimedPreviews").asInt()).isEqualTo(1);
  }

  @Test
  void withoutAFileTheLiveOnesTimesToUrlSurviveARestartFromTheirLabels() throws Exception {
    history(null);
    again = new DashboardFixture(settings(), null, first.env.reopen());
    JsonNode s = summary(again);
    assertThat(s.get("runs").asInt()).as("#1 and #2 are live: their labels; #3 is gone with its label").isEqualTo(2);
    assertThat(s.get("timeToUrlMedianMs").asLong()).isEqualTo(10_000);
    assertThat(s.get("timeToUrlP90Ms").asLong()).isEqualTo(20_000);
    assertThat(s.get("reclaimed").asInt()).as("lost without a figures file").isZero();
  }

  @Test
  void withAFigureFileEverythingSurvivesARestartAndAnotherReplicaAgrees() throws Exception {
    Path file = tmp.resolve("state/figures.jsonl");
    history(file);
    JsonNode before = summary(first);
    again = new DashboardFixture(settings().withFiguresFile(file), null, first.env.reopen());
    JsonNode after = summary(again);
    for (String field : new String[] {"runs", "timeToUrlMedianMs", "timeToUrlP90Ms", "reclaimed", "reclaimedPreviews"}) {
      assertThat(after.get(field)).as(field).isEqualTo(before.get(field));
    }
    assertThat(after.get("runs").asInt()).isEqualTo(3);

    // 8 days later, the old events fall out of the window
    again.clock.advance(Duration.ofDays(8));
    JsonNode later = summary(again);
    assertThat(later.get("runs").asInt()).isZero();
    assertThat(later.get("reclaimed").asInt()).isZero();
  }
}
