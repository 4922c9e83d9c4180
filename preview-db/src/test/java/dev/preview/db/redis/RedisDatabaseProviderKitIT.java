package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.testkit.DatabaseProviderKit;
import java.net.URI;
import org.junit.jupiter.api.BeforeAll;
import redis.clients.jedis.Jedis;

/** The DatabaseProvider contract for redis, mode acl. */
class RedisDatabaseProviderKitIT extends DatabaseProviderKit {
  static String url;

  @BeforeAll
  static void server() {
    url = RedisServerForTests.url();
  }

  @Override
  protected DatabaseProvider createProvider() {
    return RedisDatabaseProvider.builder().url(url).build();
  }

  @Override
  protected void assertUsable(DatabaseConnection c) {
    URI u = URI.create(c.url());
    try (Jedis j = new Jedis(u.getHost(), u.getPort())) {
      j.auth(c.username(), c.password().reveal());
      j.set(c.env().get("REDIS_PREFIX") + "kit", "written by the kit");
      assertThat(j.get(c.env().get("REDIS_PREFIX") + "kit")).isEqualTo("written by the kit");
    }
  }
}
