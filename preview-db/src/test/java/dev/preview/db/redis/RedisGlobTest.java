package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedisGlobTest {
  @Test
  void globMetacharactersAreEscaped() {
    assertThat(RedisDatabaseProvider.glob("preview:shop-pr-1-abc:")).isEqualTo("preview:shop\\-pr\\-1\\-abc:");
    assertThat(RedisDatabaseProvider.glob("a*b?c[d]e\\f")).isEqualTo("a\\*b\\?c\\[d\\]e\\\\f");
  }
}
