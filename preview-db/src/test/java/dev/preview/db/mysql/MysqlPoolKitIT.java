package dev.preview.db.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseProvider;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;

/**
 * The DatabaseProvider contract again, with the warm pool on ({@code pool: {size: 2}}, filled before
 * each provider is handed to the kit): idempotent creates, list, drop, and ownership hold for pooled
 * previews as for copied ones.
 */
class MysqlPoolKitIT extends MysqlDatabaseProviderKitIT {
  static final List<MysqlDatabaseProvider> POOLED = new ArrayList<>();

  @Override
  protected DatabaseProvider createProvider() {
    MysqlDatabaseProvider p = MysqlServer.provider().baseline(BASELINE).pool(2).build();
    synchronized (POOLED) {
      POOLED.add(p);
    }
    p.warmPool();
    return p;
  }

  @AfterAll
  static void drainPools() throws SQLException {
    synchronized (POOLED) {
      for (MysqlDatabaseProvider p : POOLED) {
        p.close();
      }
      long served = POOLED.stream().mapToLong(p -> p.pool().handedOut()).sum();
      for (MysqlDatabaseProvider p : POOLED) {
        p.drainPool();
      }
      // the contract held for previews the pool served, not only for copies made while it was empty
      assertThat(served).as("creates served by the pool").isPositive();
    }
  }
}
