package dev.preview.db.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code database.pool} of the mysql provider as preview.yaml gives it: parsed without a server, every problem at once. */
class MysqlPoolConfigTest {
  static MysqlDatabaseProvider create(Map<String, Object> extra) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("provider", "mysql");
    m.put("url", "jdbc:mariadb://db.internal:3306/");
    m.putAll(extra);
    return (MysqlDatabaseProvider) new MysqlDatabaseProvider.Factory().create(ProviderContext.of(ProviderConfig.of("database", m)));
  }

  @Test
  void offByDefaultAndOnWithASize() {
    assertThat(create(Map.of("baseline", "shop_baseline")).pool()).isNull();
    MysqlDatabaseProvider p = create(Map.of("baseline", "shop_baseline", "pool", Map.of("size", 2)));
    assertThat(p.pool()).isNotNull();
    assertThat(p.pool().size()).isEqualTo(2);
    assertThat(p.pool().baseline()).isEqualTo("shop_baseline");
    assertThat(create(Map.of("baseline", "shop_baseline", "pool", Map.of())).pool().size()).as("pool: {} means 3").isEqualTo(3);
    assertThat(create(Map.of("baseline", "shop_baseline", "pool", Map.of("size", 0))).pool()).isNull();
    p.close();
  }

  @Test
  void everyProblemOfThePoolIsReportedAtOnceWithItsPath() {
    assertThatThrownBy(() -> create(Map.of("maxConnections", 0, "pool", Map.of("size", 2, "sise", 1))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("database.pool: needs a baseline to copy")
        .hasMessageContaining("database.pool.sise: unknown key")
        .hasMessageContaining("database.maxConnections");
    assertThatThrownBy(() -> create(Map.of("baseline", "b", "pool", Map.of("size", 1000))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("database.pool.size");
    assertThatThrownBy(() -> create(Map.of("baseline", "b", "pool", 3)))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("database.pool: must be a map");
  }
}
