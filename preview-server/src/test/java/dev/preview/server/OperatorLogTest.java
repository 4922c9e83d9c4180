package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The state lines of a run that fails: revision carried from PROVISIONING, the reason, the run's step timings once. */
class OperatorLogTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final OperatorLog log = OperatorLog.json(new PrintStream(out, true, StandardCharsets.UTF_8));

  List<JsonNode> lines() throws Exception {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      nodes.add(Deliveries.JSON.readTree(line));
    }
    return nodes;
  }

  @Test
  void aFailedRunLogsItsRevisionReasonAndStepTimingsThenTheNextRunStartsWithoutThem() throws Exception {
    log.onTransition(KEY, PreviewState.PROVISIONING, Deliveries.SHA);
    log.onStepFinished(KEY, "environment", Duration.ofMillis(812), null);
    log.onStepFinished(KEY, "readiness", Duration.ofMillis(1500), new IllegalStateException("no answer"));
    log.onTransition(KEY, PreviewState.FAILED, "readiness: /health did not answer 200 within 1.5s");
    log.onTransition(KEY, PreviewState.PROVISIONING, Deliveries.BASE_SHA);
    log.onTransition(KEY, PreviewState.READY, "https://pr-42.preview.example.com");

    List<JsonNode> l = lines();
    assertThat(l).hasSize(4).allSatisfy(n -> {
      assertThat(n.path("msg").asText()).isEqualTo("state");
      assertThat(n.path("level").asText()).isEqualTo("INFO");
      assertThat(n.path("key").asText()).isEqualTo("acme/shop#42");
    });
    JsonNode failed = l.get(1);
    assertThat(failed.path("state").asText()).isEqualTo("FAILED");
    assertThat(failed.path("revision").asText()).isEqualTo(Deliveries.SHA);
    assertThat(failed.path("reason").asText()).isEqualTo("readiness: /health did not answer 200 within 1.5s");
    assertThat(failed.path("stepsMs").path("environment").asLong()).isEqualTo(812);
    assertThat(failed.path("stepsMs").path("readiness").asLong()).isEqualTo(1500);

    JsonNode ready = l.get(3);
    assertThat(ready.path("revision").asText()).as("the new run's revision").isEqualTo(Deliveries.BASE_SHA);
    assertThat(ready.path("url").asText()).isEqualTo("https://pr-42.preview.example.com");
    assertThat(ready.has("stepsMs")).as("the failed run's steps were reported with it, not again").isFalse();
  }
}
