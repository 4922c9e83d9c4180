package dev.preview.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Names of one key in several installations: the default keeps the names of earlier versions, the others never meet. */
class NamesPerInstallationTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  static final Installation STAGING = Installation.builder().instance("staging").build();

  @Test
  void theDefaultInstallationKeepsTheNamesOfEarlierVersions() {
    Installation d = Installation.defaults();
    assertThat(Names.postgres(d, KEY)).isEqualTo(Names.postgres(KEY));
    assertThat(Names.mysql(d, KEY)).isEqualTo(Names.mysql(KEY));
    assertThat(Names.mysqlUser(d, KEY)).isEqualTo(Names.mysqlUser(KEY));
    assertThat(Names.dnsLabel(d, KEY)).isEqualTo(Names.dnsLabel(KEY));
  }

  @Test
  void aNamedInstallationGetsOtherReadableDeterministicNames() {
    assertThat(Names.postgres(STAGING, KEY)).startsWith("pv_staging_shop_pr_7_").matches("[a-z0-9_]+")
        .isNotEqualTo(Names.postgres(KEY)).isEqualTo(Names.postgres(STAGING, KEY));
    assertThat(Names.dnsLabel(STAGING, KEY)).startsWith("staging-shop-pr-7-").matches("[a-z0-9-]+");
    assertThat(Names.mysqlUser(STAGING, KEY)).hasSizeLessThanOrEqualTo(Names.MYSQL_USER_MAX)
        .isNotEqualTo(Names.mysqlUser(KEY));
  }

  @Test
  void instancesThatCleanAlikeOrShareALongPrefixStillDiffer() {
    Installation dotted = Installation.builder().instance("team.a").build();
    Installation dashed = Installation.builder().instance("team-a").build();
    assertThat(Names.postgres(dotted, KEY)).isNotEqualTo(Names.postgres(dashed, KEY));
    String base = "x".repeat(60);
    Installation long1 = Installation.builder().instance(base + "1").build();
    Installation long2 = Installation.builder().instance(base + "2").build();
    for (Installation i : new Installation[] {long1, long2}) {
      assertThat(Names.postgres(i, KEY).getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(Names.POSTGRES_MAX);
      assertThat(Names.mysql(i, KEY)).hasSizeLessThanOrEqualTo(Names.MYSQL_MAX);
      assertThat(Names.mysqlUser(i, KEY)).hasSizeLessThanOrEqualTo(Names.MYSQL_USER_MAX);
      assertThat(Names.dnsLabel(i, KEY)).hasSizeLessThanOrEqualTo(Names.DNS_LABEL_MAX);
    }
    assertThat(Names.postgres(long1, KEY)).isNotEqualTo(Names.postgres(long2, KEY));
    assertThat(Names.mysqlUser(long1, KEY)).isNotEqualTo(Names.mysqlUser(long2, KEY));
    assertThat(Names.dnsLabel(long1, KEY)).isNotEqualTo(Names.dnsLabel(long2, KEY));
  }

  @Test
  void everyKindOfNameDiffersPerInstallationAndStaysValid() {
    Installation other = Installation.builder().instance("Sec_Test.2").build();
    assertThat(Names.docker(STAGING, KEY)).startsWith("preview-staging-shop-pr-7-").matches("[a-z0-9-]+")
        .hasSizeLessThanOrEqualTo(Names.DOCKER_MAX).isNotEqualTo(Names.docker(KEY));
    assertThat(Names.docker(STAGING, KEY, "redis")).endsWith("-redis").isNotEqualTo(Names.docker(KEY, "redis"));
    assertThat(Names.namespace(other, KEY)).matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63)
        .isNotEqualTo(Names.namespace(KEY)).isNotEqualTo(Names.namespace(STAGING, KEY));
    assertThat(Names.redisPrefix(STAGING, KEY)).startsWith("preview:staging-shop-pr-7-").endsWith(":")
        .isNotEqualTo(Names.redisPrefix(KEY));
    assertThat(Names.docker(Installation.defaults(), KEY)).isEqualTo(Names.docker(KEY));
    assertThat(Names.namespace(Installation.defaults(), KEY)).isEqualTo(Names.namespace(KEY));
  }
}
