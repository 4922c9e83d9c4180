package dev.preview.db.mysql;

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
class MysqlLeakyLoggersTest {
  @Test
  void theLoggersNamedAreTheDriversOwnClasses() {
    // a driver upgrade that renames one would silently stop the check: fail here instead
    for (String name : MysqlDatabaseProvider.LEAKY_LOGGERS) {
      assertThatCode(() -> Class.forName(name)).as(name).doesNotThrowAnyException();
    }
  }

  @Test
  void aDriverPackageAtFineThroughJavaUtilLoggingStopsTheBuildNamingEveryLogger() {
    Logger parent = Logger.getLogger("org.mariadb.jdbc");
    Level before = parent.getLevel();
    parent.setLevel(Level.FINEST);
    try {
      assertThatThrownBy(() -> MysqlPoolConfigTest.create(Map.of()))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("database: the logger(s) org.mariadb.jdbc.client.impl.StandardClient, org.mariadb.jdbc.client.socket.Writer, org.mariadb.jdbc.client.socket.Reader, org.mariadb.jdbc.message.server.ErrorPacket log at DEBUG or finer")
          .hasMessageContaining("-Dorg.slf4j.simpleLogger.log.org.mariadb.jdbc=info");
    } finally {
      parent.setLevel(before);
    }
    assertThatCode(() -> MysqlPoolConfigTest.create(Map.of()).close()).as("back at INFO").doesNotThrowAnyException();
  }

  @Test
  void oneLoggerAtDebugThroughSlf4jIsNamedAlone() {
    String one = MysqlDatabaseProvider.LEAKY_LOGGERS.get(0);
    assertThatThrownBy(() -> LeakyLoggers.refuse("database", MysqlDatabaseProvider.LEAKY_LOGGERS,
        MysqlDatabaseProvider.LEAKY_LOGGERS_FIX, Set.of(one, "org.example.Unrelated")::contains))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage("Invalid configuration: database: the logger(s) " + one + " log at DEBUG or finer"
            + " (java.util.logging: FINE or finer), which would write secret values to the log; "
            + MysqlDatabaseProvider.LEAKY_LOGGERS_FIX);
    assertThat(LeakyLoggers.atDebug(one)).as("slf4j-simple and java.util.logging default to INFO").isFalse();
  }
}
