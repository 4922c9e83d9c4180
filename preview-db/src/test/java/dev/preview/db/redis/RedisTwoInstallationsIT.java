package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.TwoInstallationsContract;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.Installation;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/** Two installations on one (embedded) Redis, mode acl. */
class RedisTwoInstallationsIT extends TwoInstallationsContract {
  static String url;

  @BeforeAll
  static void server() {
    url = RedisServerForTests.url();
  }

  @Override
  protected DatabaseProvider provider(Installation installation) {
    return RedisDatabaseProvider.builder().url(url).installation(installation).build();
  }

  private static Jedis as(DatabaseConnection c) {
    URI u = URI.create(c.url());
    Jedis j = new Jedis(u.getHost(), u.getPort());
    j.auth(c.username(), c.password().reveal());
    return j;
  }

  private static String notes(DatabaseConnection c) {
    return c.env().get("REDIS_PREFIX") + "notes";
  }

  @Override
  protected void write(DatabaseConnection c, String text) {
    try (Jedis j = as(c)) {
      j.rpush(notes(c), text);
    }
  }

  @Override
  protected List<String> read(DatabaseConnection c) {
    try (Jedis j = as(c)) {
      return j.lrange(notes(c), 0, -1);
    }
  }

  @Override
  protected void assertCannotRead(DatabaseConnection mine, DatabaseConnection other) {
    assertThat(mine.env().get("REDIS_PREFIX")).isNotEqualTo(other.env().get("REDIS_PREFIX"));
    assertThat(other.env().get("REDIS_PREFIX")).doesNotStartWith(mine.env().get("REDIS_PREFIX"));
    try (Jedis j = as(mine)) {
      assertThatThrownBy(() -> j.lrange(notes(other), 0, -1))
          .isInstanceOf(JedisDataException.class).hasMessageContaining("NOPERM");
    }
  }

  @Override
  protected void assertDropped(DatabaseConnection c) {
    assertThatThrownBy(() -> as(c).close()).isInstanceOf(JedisDataException.class);
    try (Jedis admin = new Jedis(URI.create(url))) {
      assertThat(admin.exists(notes(c))).isFalse();
    }
  }
}
