package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code database.pool} as preview.yaml gives it: parsed without touching a server, every problem at once. */
class PostgresPoolConfigTest {
  static PostgresDatabaseProvider create(Map<String, Object> extra) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("provider", "postgres");
    m.put("url", "jdbc:postgresql://db.internal:5432/postgres");
    m.putAll(extra);
    return (PostgresDatabaseProvider) new PostgresDatabaseProvider.Factory().create(ProviderContext.of(ProviderConfig.of("database", m)));
  }

  @Test
  void offByDefaultAndOnWithASize() {
    assertThat(create(Map.of("baseline", "shop_baseline")).pool()).isNull();
    PostgresDatabaseProvider p = create(Map.of("baseline", "shop_baseline", "pool", Map.of("size", 2)));
    assertThat(p.pool()).isNotNull();
    assertThat(p.pool().size()).isEqualTo(2);
    assertThat(create(Map.of("baseline", "shop_baseline", "pool", Map.of())).pool().size()).as("pool: {} means 3").isEqualTo(3);
    assertThat(create(Map.of("baseline", "shop_baseline", "pool", Map.of("size", 0))).pool()).isNull();
    p.close();
  }

  @Test
  void everyProblemOfThePoolIsReportedAtOnceWithItsPath() {
    assertThatThrownBy(() -> create(Map.of("mode", "schema", "pool", Map.of("size", 2, "sise", 1))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("database.pool: only applies to mode: database")
        .hasMessageContaining("database.pool: needs a baseline to clone")
        .hasMessageContaining("database.pool.sise: unknown key");
    assertThatThrownBy(() -> create(Map.of("baseline", "b", "pool", Map.of("size", 1000))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("database.pool.size");
    assertThatThrownBy(() -> create(Map.of("baseline", "b", "pool", 3)))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("database.pool: must be a map");
  }
}
