package dev.preview.db.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.LeakyLoggers;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The driver's loggers that would print a password (or its verifier) must be off when the provider is built. */
class PostgresLeakyLoggersTest {
  @Test
  void theLoggersNamedAreTheDriversOwnClasses() {
    // a driver upgrade that renames one would silently stop the check: fail here instead
    for (String name : PostgresDatabaseProvider.LEAKY_LOGGERS) {
      assertThatCode(() -> Class.forName(name)).as(name).doesNotThrowAnyException();
    }
  }

  @Test
  void aDriverPackageAtFineThroughJavaUtilLoggingStopsTheBuildNamingEveryLogger() {
    Logger parent = Logger.getLogger("org.postgresql");
    Level before = parent.getLevel();
    parent.setLevel(Level.FINEST);
    try {
      assertThatThrownBy(() -> PostgresPoolConfigTest.create(Map.of()))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("database: the logger(s) org.postgresql.core.v3.QueryExecutorImpl, org.postgresql.core.v3.ConnectionFactoryImpl, org.postgresql.Driver log at DEBUG or finer")
          .hasMessageContaining("org.postgresql.level=INFO");
      assertThatThrownBy(() -> PostgresBaseline.builder().url("jdbc:postgresql://db.internal:5432/postgres")
          .database("shop_baseline").build())
          .as("the baseline builder logs in as the admin too").isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("org.postgresql.core.v3.ConnectionFactoryImpl");
    } finally {
      parent.setLevel(before);
    }
    assertThatCode(() -> PostgresPoolConfigTest.create(Map.of()).close()).as("back at INFO").doesNotThrowAnyException();
    assertThatCode(() -> PostgresBaseline.builder().url("jdbc:postgresql://db.internal:5432/postgres")
        .database("shop_baseline").build()).doesNotThrowAnyException();
  }

  @Test
  void oneLoggerAtDebugThroughSlf4jIsNamedAlone() {
    String one = PostgresDatabaseProvider.LEAKY_LOGGERS.get(0);
    assertThatThrownBy(() -> LeakyLoggers.refuse("database", PostgresDatabaseProvider.LEAKY_LOGGERS,
        PostgresDatabaseProvider.LEAKY_LOGGERS_FIX, Set.of(one, "org.example.Unrelated")::contains))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage("Invalid configuration: database: the logger(s) " + one + " log at DEBUG or finer"
            + " (java.util.logging: FINE or finer), which would write secret values to the log; "
            + PostgresDatabaseProvider.LEAKY_LOGGERS_FIX);
    assertThat(LeakyLoggers.atDebug(one)).as("slf4j-simple and java.util.logging default to INFO").isFalse();
  }
}
