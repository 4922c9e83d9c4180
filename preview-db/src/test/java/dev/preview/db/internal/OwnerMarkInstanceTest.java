package dev.preview.db.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OwnerMarkInstanceTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  static final Installation STAGING = Installation.builder().instance("staging").build();

  @Test
  void aMarkRecordsItsInstanceAndALegacyMarkIsTheDefaultInstallationsOnly() {
    String mark = OwnerMark.encode(STAGING, KEY, Map.of(Labels.INSTANCE, "spoofed by the spec"));
    assertThat(OwnerMark.labels(mark).orElseThrow()).containsEntry(Labels.INSTANCE, "staging");
    assertThat(OwnerMark.owner(STAGING, mark)).contains(KEY);
    assertThat(OwnerMark.owner(Installation.defaults(), mark)).isEmpty();

    String legacy = OwnerMark.encode(KEY, Map.of());
    assertThat(OwnerMark.owner(Installation.defaults(), legacy)).contains(KEY);
    assertThat(OwnerMark.owner(STAGING, legacy)).isEmpty();
    assertThat(OwnerMark.instance(legacy)).contains(Installation.DEFAULT_INSTANCE);
  }
}
