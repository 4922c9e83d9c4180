package dev.preview.db.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.HostileKeys;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import org.junit.jupiter.api.Test;

class MysqlNamesTest {
  @Test
  void grantPatternsEscapeWildcardsWhereTheServerLimitAllows() {
    assertThat(MysqlDatabaseProvider.grantPattern("pv_shop_pr_1_abc")).isEqualTo("pv\\_shop\\_pr\\_1\\_abc");
    for (PreviewKey k : HostileKeys.all()) {
      String p = MysqlDatabaseProvider.grantPattern(Names.mysql(k));
      assertThat(p.length()).isLessThanOrEqualTo(64);
      assertThat(p.replace("\\_", "_")).isEqualTo(Names.mysql(k));
    }
  }

  @Test
  void quotingDoublesBackticks() {
    assertThat(MysqlDatabaseProvider.q("a`b")).isEqualTo("`a``b`");
  }

  @Test
  void builderReportsEveryProblem() {
    assertThatThrownBy(() -> MysqlDatabaseProvider.builder().url("jdbc:sqlserver://x").baseline("a b")
        .userHost("x'y").maxConnections(0).build())
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).problems()).hasSize(4));
  }
}
