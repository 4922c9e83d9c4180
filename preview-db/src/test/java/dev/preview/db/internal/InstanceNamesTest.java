package dev.preview.db.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InstanceNamesTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  static final Installation STAGING = Installation.builder().instance("staging").build();

  @Test
  void theDefaultInstallationKeepsTheNamesOfEarlierVersions() {
    Installation d = Installation.defaults();
    assertThat(InstanceNames.postgres(d, KEY)).isEqualTo(Names.postgres(KEY));
    assertThat(InstanceNames.mysql(d, KEY)).isEqualTo(Names.mysql(KEY));
    assertThat(InstanceNames.mysqlUser(d, KEY)).isEqualTo(Names.mysqlUser(KEY));
    assertThat(InstanceNames.label(d, KEY)).isEqualTo(Names.dnsLabel(KEY));
  }

  @Test
  void aNamedInstallationGetsOtherReadableDeterministicNames() {
    assertThat(InstanceNames.postgres(STAGING, KEY)).startsWith("pv_staging_shop_pr_7_").matches("[a-z0-9_]+")
        .isNotEqualTo(Names.postgres(KEY)).isEqualTo(InstanceNames.postgres(STAGING, KEY));
    assertThat(InstanceNames.label(STAGING, KEY)).startsWith("staging-shop-pr-7-").matches("[a-z0-9-]+");
    assertThat(InstanceNames.mysqlUser(STAGING, KEY)).hasSizeLessThanOrEqualTo(Names.MYSQL_USER_MAX)
        .isNotEqualTo(Names.mysqlUser(KEY));
  }

  @Test
  void instancesThatCleanAlikeOrShareALongPrefixStillDiffer() {
    Installation dotted = Installation.builder().instance("team.a").build();
    Installation dashed = Installation.builder().instance("team-a").build();
    assertThat(InstanceNames.postgres(dotted, KEY)).isNotEqualTo(InstanceNames.postgres(dashed, KEY));
    String base = "x".repeat(60);
    Installation long1 = Installation.builder().instance(base + "1").build();
    Installation long2 = Installation.builder().instance(base + "2").build();
    for (Installation i : new Installation[] {long1, long2}) {
      assertThat(InstanceNames.postgres(i, KEY).getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(Names.POSTGRES_MAX);
      assertThat(InstanceNames.mysql(i, KEY)).hasSizeLessThanOrEqualTo(Names.MYSQL_MAX);
      assertThat(InstanceNames.mysqlUser(i, KEY)).hasSizeLessThanOrEqualTo(Names.MYSQL_USER_MAX);
      assertThat(InstanceNames.label(i, KEY)).hasSizeLessThanOrEqualTo(Names.DNS_LABEL_MAX);
    }
    assertThat(InstanceNames.postgres(long1, KEY)).isNotEqualTo(InstanceNames.postgres(long2, KEY));
    assertThat(InstanceNames.mysqlUser(long1, KEY)).isNotEqualTo(InstanceNames.mysqlUser(long2, KEY));
    assertThat(InstanceNames.label(long1, KEY)).isNotEqualTo(InstanceNames.label(long2, KEY));
  }

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
