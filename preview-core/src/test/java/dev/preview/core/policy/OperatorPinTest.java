package dev.preview.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** An operator's pin and extension (PreviewActions) against the PR's labels and later deploys. */
class OperatorPinTest {
  private static final PreviewKey KEY = PreviewKey.pr("acme/shop", 1);
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private final PreviewPolicy policy = PreviewPolicy.builder().ttl(Duration.ofDays(1)).build();

  private static Environment env(Map<String, String> labels) {
    return new Environment(KEY, "a".repeat(40), null, Environment.Phase.RUNNING, labels);
  }

  @Test
  void anOperatorPinHoldsWhenThePrsLabelsAreKnownAndLackThePinLabel() {
    Environment expired = env(Map.of(Labels.EXPIRES, NOW.minusSeconds(60).toString(), Labels.PINNED, PreviewPolicy.PINNED_BY_OPERATOR));
    assertThat(policy.evaluate(expired, Set.of(), NOW).action()).isEqualTo(Verdict.Action.KEEP);
    assertThat(policy.evaluate(expired, null, NOW).action()).isEqualTo(Verdict.Action.KEEP);
  }

  @Test
  void aPinByTheLabelGoesWithTheLabel() {
    Environment expired = env(Map.of(Labels.EXPIRES, NOW.minusSeconds(60).toString(), Labels.PINNED, "true"));
    assertThat(policy.evaluate(expired, Set.of(), NOW).action()).isEqualTo(Verdict.Action.EXPIRE);
    assertThat(policy.evaluate(expired, null, NOW).action()).as("labels unknown: the label on the environment counts")
        .isEqualTo(Verdict.Action.KEEP);
  }

  @Test
  void aDeployKeepsAnOperatorPinAndALongerExtension() {
    Instant extended = NOW.plus(Duration.ofDays(5));
    Environment before = env(Map.of(Labels.CREATED, NOW.toString(), Labels.EXPIRES, extended.toString(),
        Labels.PINNED, PreviewPolicy.PINNED_BY_OPERATOR));
    PullRequest push = PullRequest.open(KEY, "b".repeat(40), "feature", "main");
    Map<String, String> labels = policy.lifecycleLabels(Optional.of(before), push, NOW.plusSeconds(3600));
    assertThat(labels).containsEntry(Labels.PINNED, PreviewPolicy.PINNED_BY_OPERATOR)
        .containsEntry(Labels.EXPIRES, extended.toString());

    Environment labelPinned = env(Map.of(Labels.PINNED, "true"));
    assertThat(policy.lifecycleLabels(Optional.of(labelPinned), push, NOW)).as("the pin label was removed from the PR")
        .doesNotContainKey(Labels.PINNED).containsEntry(Labels.EXPIRES, NOW.plus(Duration.ofDays(1)).toString());
  }
}
