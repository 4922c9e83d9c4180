package dev.preview.core.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relabel} of the local provider: lifecycle labels change in the state file, the process does not. */
class LocalRelabelTest {
  @TempDir Path dir;
  private final PreviewKey key = PreviewKey.pr("acme/relabel", 7);

  private LocalEnvironmentProvider provider() {
    return LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(Duration.ofSeconds(30)).stopTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void cleanUp() {
    provider().delete(key);
  }

  @Test
  void lifecycleLabelsChangeOnTheInfrastructureWhileTheAppKeepsRunning() {
    LocalEnvironmentProvider p = provider();
    Map<String, String> labels = new java.util.LinkedHashMap<>(Labels.ownership(key, "abc1234"));
    labels.put(Labels.LAST_ACTIVITY, "2026-01-01T00:00:00Z");
    labels.put(Labels.PINNED, "true");
    Environment before = p.apply(EnvironmentSpec.builder(key, "abc1234")
        .command(LocalEnvironmentProviderUnitTest.javaApp()).labels(labels).build());
    assertThat(p.supportsRelabel()).isTrue();

    Environment after = p.relabel(key, Map.of(Labels.LAST_ACTIVITY, "2026-01-02T03:04:05Z", Labels.PINNED, "")).orElseThrow();

    assertThat(after.lastActivity()).hasValue(java.time.Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(after.labels()).doesNotContainKey(Labels.PINNED).containsEntry(Labels.KEY, key.id());
    assertThat(after.url()).isEqualTo(before.url());
    assertThat(after.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(LocalEnvironmentProviderUnitTest.get(after.url(), "/health")).isEqualTo("200 ok");
    // state lives on disk: a new provider (a restarted server) reads the new labels
    Environment seen = provider().find(key).orElseThrow();
    assertThat(seen.lastActivity()).hasValue(java.time.Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(provider().list()).singleElement().satisfies(e -> assertThat(e.labels()).doesNotContainKey(Labels.PINNED));
    // a re-apply of the same revision keeps the process (relabel did not change its fingerprint)
    Environment reapplied = p.apply(EnvironmentSpec.builder(key, "abc1234")
        .command(LocalEnvironmentProviderUnitTest.javaApp()).labels(seen.labels()).build());
    assertThat(reapplied.url()).isEqualTo(before.url());
  }

  @Test
  void ownershipLabelsCannotBeChangedAndAnAbsentEnvironmentIsEmpty() {
    LocalEnvironmentProvider p = provider();
    assertThat(p.relabel(PreviewKey.pr("acme/none", 1), Map.of(Labels.LAST_ACTIVITY, "2026-01-01T00:00:00Z"))).isEmpty();
    assertThatThrownBy(() -> p.relabel(key, Map.of(Labels.KEY, "acme/other#1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Labels.KEY);
  }
}
