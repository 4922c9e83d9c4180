package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.testkit.DatabaseProviderKit;
import java.net.URI;
import org.junit.jupiter.api.BeforeAll;
import redis.clients.jedis.Jedis;

/** The DatabaseProvider contract for redis, mode database (index leases). */
class RedisDatabaseLeaseKitIT extends DatabaseProviderKit {
  static String url;

  @BeforeAll
  static void server() {
    url = RedisServerForTests.url();
  }

  @Override
  protected DatabaseProvider createProvider() {
    return RedisDatabaseProvider.builder().url(url).mode(RedisDatabaseProvider.Mode.DATABASE).databases(1, 8).build();
  }

  @Override
  protected void assertUsable(DatabaseConnection c) {
    URI u = URI.create(c.url());
    try (Jedis j = new Jedis(u.getHost(), u.getPort())) {
      j.select(Integer.parseInt(c.env().get("REDIS_DB")));
      j.set("kit", "written by the kit");
      assertThat(j.get("kit")).isEqualTo("written by the kit");
    }
  }
}
