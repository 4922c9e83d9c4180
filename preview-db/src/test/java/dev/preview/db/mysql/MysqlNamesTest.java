package dev.preview.db.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.HostileKeys;
import dev.preview.spi.ConfigurationException;
import dev.preview.db.internal.WideHash;
import dev.preview.spi.Installation;
import dev.preview.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import dev.preview.spi.PreviewKey;
import org.junit.jupiter.api.Test;

class MysqlNamesTest {
  @Test
  void grantPatternsEscapeEveryWildcardAtEveryLength() {
    assertThat(MysqlDatabaseProvider.grantPattern("pv_shop_pr_1_abc")).isEqualTo("pv\\_shop\\_pr\\_1\\_abc");
    List<PreviewKey> keys = new ArrayList<>(HostileKeys.all());
    for (int n = 1; n < 70; n++) { // every length of readable part, with and without many separators
      keys.add(PreviewKey.branch("acme/shop", "x".repeat(n)));
      keys.add(PreviewKey.branch("acme/shop", "a-".repeat(n)));
    }
    for (Installation inst : List.of(Installation.defaults(), Installation.builder().instance("staging").build())) {
      for (PreviewKey k : keys) {
        String db = MysqlDatabaseProvider.dbName(inst, k);
        String p = MysqlDatabaseProvider.grantPattern(db);
        assertThat(p.length()).as(db).isLessThanOrEqualTo(64);
        assertThat(p).doesNotContainPattern("(?<!\\\\)_"); // no bare wildcard left
        assertThat(p.replace("\\_", "_")).isEqualTo(db);
        assertThat(db).matches("pv_[a-z0-9_]*[a-z0-9]_[0-9a-f]{16}");
        assertThat(MysqlDatabaseProvider.userName(inst, k)).hasSizeLessThanOrEqualTo(32).matches("pv_([a-z0-9_]*[a-z0-9]_)?[0-9a-f]{16}");
      }
    }
  }

  @Test
  void aNameWhoseEscapedPatternWouldNotFitIsRefusedNeverGrantedUnescaped() {
    String legacy = "pv_" + "a_".repeat(25) + "0123456789"; // an earlier version's 63-character name, 26 underscores
    assertThatThrownBy(() -> MysqlDatabaseProvider.grantPattern(legacy)).isInstanceOf(ProviderException.class)
        .hasMessageContaining("cannot be granted exactly").hasMessageContaining("drop that preview");
  }

  @Test
  void namesCarryA64BitHashOfTheInstallationAndTheFullKey() {
    PreviewKey a = PreviewKey.branch("acme/shop", "x".repeat(250) + "/a");
    PreviewKey b = PreviewKey.branch("acme/shop", "x".repeat(250) + "/b");
    Installation staging = Installation.builder().instance("staging").build();
    assertThat(MysqlDatabaseProvider.dbName(Installation.defaults(), a)).isNotEqualTo(MysqlDatabaseProvider.dbName(Installation.defaults(), b))
        .isNotEqualTo(MysqlDatabaseProvider.dbName(staging, a));
    assertThat(MysqlDatabaseProvider.dbName(Installation.defaults(), a)).endsWith("_" + WideHash.of(Installation.defaults(), a));
    assertThat(MysqlDatabaseProvider.userName(staging, a)).endsWith("_" + WideHash.of(staging, a));
  }

  @Test
  void definersAreRewrittenInTheServersOwnHeaders() {
    String acct = "'pv_x_0123456789abcdef'@'%'";
    assertThat(MysqlDatabaseProvider.asDefiner("CREATE ALGORITHM=UNDEFINED DEFINER=`preview_admin`@`127.0.0.1` SQL SECURITY DEFINER"
        + " VIEW `v` AS select 'DEFINER=`x`@`y` SQL SECURITY DEFINER' AS `a`", acct, true))
        .isEqualTo("CREATE ALGORITHM=UNDEFINED DEFINER=" + acct + " SQL SECURITY INVOKER VIEW `v` AS select 'DEFINER=`x`@`y` SQL SECURITY DEFINER' AS `a`");
    assertThat(MysqlDatabaseProvider.asDefiner("CREATE DEFINER=`we``ird`@`%` PROCEDURE `p`()\n    SQL SECURITY DEFINER\nBEGIN SELECT 1; END",
        acct, false)).isEqualTo("CREATE DEFINER=" + acct + " PROCEDURE `p`()\n    SQL SECURITY DEFINER\nBEGIN SELECT 1; END");
    assertThat(MysqlDatabaseProvider.asDefiner("CREATE DEFINER='root'@'localhost' TRIGGER t BEFORE INSERT ON u FOR EACH ROW SET @a = 1",
        acct, false)).isEqualTo("CREATE DEFINER=" + acct + " TRIGGER t BEFORE INSERT ON u FOR EACH ROW SET @a = 1");
    assertThat(MysqlDatabaseProvider.asDefiner("CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO SELECT 1", acct, false))
        .isEqualTo("CREATE DEFINER=" + acct + " EVENT e ON SCHEDULE EVERY 1 HOUR DO SELECT 1");
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
