package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.db.HostileKeys;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.ScanParams;

/** Against a real Redis 6.2 (embedded-redis) or the one given by PREVIEW_REDIS_URL. */
class RedisDatabaseProviderIT {
  static String url;
  final String repo = "acme/rd-" + UUID.randomUUID().toString().substring(0, 8);
  final List<PreviewKey> made = new ArrayList<>();

  @BeforeAll
  static void baseline() {
    url = RedisServerForTests.url();
    try (Jedis j = admin()) {
      j.set("it-baseline:greeting", "hello from the baseline");
      j.hset("it-baseline:user:1", Map.of("email", "a@example.com", "name", "A"));
      j.rpush("it-baseline:queue", "x", "y", "z");
      j.setex("it-baseline:session", 3600, "s");
    }
  }

  static Jedis admin() {
    URI u = URI.create(url);
    return new Jedis(u.getHost(), u.getPort());
  }

  RedisDatabaseProvider provider() {
    return RedisDatabaseProvider.builder().url(url).baseline("it-baseline:").build();
  }

  PreviewKey key(int n) {
    PreviewKey k = PreviewKey.pr(repo, n);
    made.add(k);
    return k;
  }

  @AfterEach
  void cleanUp() {
    made.forEach(provider()::drop);
  }

  static Jedis open(DatabaseConnection c) {
    URI u = URI.create(c.url());
    Jedis j = new Jedis(u.getHost(), u.getPort());
    j.auth(c.username(), c.password().reveal());
    return j;
  }

  @Test
  void baselineKeysAreCopiedUnderThePrefixWithTheirTypesAndTtls() {
    DatabaseConnection c = provider().create(key(1), DatabaseSpec.empty());
    String p = provider().prefixOf(PreviewKey.pr(repo, 1));
    assertThat(c.name()).isEqualTo(p);
    assertThat(c.env()).containsEntry("REDIS_PREFIX", p).containsEntry("REDIS_USERNAME", c.username())
        .doesNotContainKeys("REDIS_URL", "REDIS_PASSWORD");
    URI withCreds = URI.create(c.secretEnv().get("REDIS_URL").reveal());
    assertThat(withCreds.getUserInfo()).isEqualTo(c.username() + ":" + c.password().reveal());
    try (Jedis j = open(c)) {
      assertThat(j.get(p + "greeting")).isEqualTo("hello from the baseline");
      assertThat(j.hgetAll(p + "user:1")).containsEntry("email", "a@example.com");
      assertThat(j.lrange(p + "queue", 0, -1)).containsExactly("x", "y", "z");
      assertThat(j.ttl(p + "session")).isBetween(3000L, 3600L);
      assertThat(j.ttl(p + "greeting")).isEqualTo(-1L);
      j.set(p + "mine", "1");
    }
    try (Jedis a = admin()) {
      assertThat(a.get("it-baseline:greeting")).isEqualTo("hello from the baseline");
      assertThat(a.exists("it-baseline:mine")).isFalse();
    }
  }

  @Test
  void aPreviewReachesOnlyItsOwnKeys() {
    DatabaseConnection a = provider().create(key(2), DatabaseSpec.empty());
    DatabaseConnection b = provider().create(key(3), DatabaseSpec.empty());
    String pb = b.name();
    try (Jedis j = open(a)) {
      assertThatThrownBy(() -> j.get(pb + "greeting")).isInstanceOf(JedisException.class).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.set(pb + "evil", "1")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.get("it-baseline:greeting")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.hgetAll(RedisDatabaseProvider.ACL_USERS)).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.set("unprefixed", "1")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.keys("*")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.scan(ScanParams.SCAN_POINTER_START)).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.randomKey()).hasMessageContaining("NOPERM");
      assertThatThrownBy(j::flushAll).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.aclList()).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> j.publish(pb + "events", "x")).hasMessageContaining("NOPERM");
      assertThat(j.publish(a.name() + "events", "x")).isZero();
    }
    try (Jedis j = new Jedis(URI.create(b.url()).getHost(), URI.create(b.url()).getPort())) {
      assertThatThrownBy(() -> j.auth(b.username(), a.password().reveal())).hasMessageContaining("WRONGPASS");
    }
  }

  @Test
  void createAgainKeepsKeysAndRotatesThePassword() {
    PreviewKey k = key(4);
    DatabaseConnection first = provider().create(k, DatabaseSpec.empty());
    try (Jedis j = open(first)) {
      j.del(first.name() + "greeting");
      j.set(first.name() + "written", "yes");
    }
    DatabaseConnection second = provider().create(k, DatabaseSpec.empty());
    assertThat(second.password().reveal()).isNotEqualTo(first.password().reveal());
    try (Jedis j = open(second)) {
      assertThat(j.get(second.name() + "written")).isEqualTo("yes");
      assertThat(j.exists(second.name() + "greeting")).isFalse();
    }
    assertThatThrownBy(() -> open(first).close()).hasMessageContaining("WRONGPASS");
  }

  @Test
  void dropDeletesEveryKeyInPagesAndTheUserAndDisconnectsTheApp() {
    PreviewKey k = key(5);
    PreviewKey other = key(6);
    DatabaseConnection c = provider().create(k, DatabaseSpec.empty());
    DatabaseConnection o = provider().create(other, DatabaseSpec.empty());
    try (Jedis app = open(c)) {
      for (int i = 0; i < 5000; i += 500) { // many SCAN pages
        String[] kv = new String[1000];
        for (int n = 0; n < 500; n++) {
          kv[2 * n] = c.name() + "item:" + (i + n);
          kv[2 * n + 1] = "v";
        }
        app.mset(kv);
      }
      provider().drop(k);
      assertThatThrownBy(app::ping).isInstanceOf(JedisException.class);
    }
    try (Jedis a = admin()) {
      assertThat(a.keys(c.name() + "*")).isEmpty();
      assertThat(a.exists(o.name() + "greeting")).isTrue(); // the other preview keeps its keys
      assertThat(a.aclUsers()).doesNotContain(c.username()).contains(o.username());
    }
    provider().drop(k); // idempotent
    assertThat(provider().list()).contains(other).doesNotContain(k);
  }

  @Test
  void listReadsTheServerAndFindsAHalfDoneTeardown() {
    PreviewKey k = key(7);
    DatabaseConnection c = provider().create(k, DatabaseSpec.empty());
    assertThat(provider().list()).contains(k);
    try (Jedis a = admin()) {
      a.aclDelUser(c.username()); // as if teardown died right after deleting the user
    }
    assertThat(provider().list()).contains(k);
    provider().drop(k);
    assertThat(provider().list()).doesNotContain(k);
    try (Jedis a = admin()) {
      assertThat(a.keys(c.name() + "*")).isEmpty();
    }
  }

  @Test
  void hostileKeysGetDistinctUsersAndPrefixes() {
    RedisDatabaseProvider p = RedisDatabaseProvider.builder().url(url).build();
    made.addAll(HostileKeys.all());
    List<String> prefixes = new ArrayList<>();
    for (PreviewKey k : HostileKeys.all()) {
      DatabaseConnection c = p.create(k, DatabaseSpec.empty());
      prefixes.add(c.name());
      try (Jedis j = open(c)) {
        j.set(c.name() + "x", "1");
      }
    }
    assertThat(prefixes).doesNotHaveDuplicates().allMatch(s -> s.matches("preview:[a-z0-9-]+:"));
    assertThat(p.list()).containsAll(HostileKeys.all());
  }

  @Test
  void databaseLeaseModeHandsOutFreeIndexesAndFlushesOnRelease() {
    RedisDatabaseProvider p = RedisDatabaseProvider.builder().url(url).mode(RedisDatabaseProvider.Mode.DATABASE)
        .databases(14, 15).baseline("it-baseline:").build();
    PreviewKey a = key(8);
    PreviewKey b = key(9);
    PreviewKey c = key(10);
    try {
      DatabaseConnection ca = p.create(a, DatabaseSpec.empty());
      DatabaseConnection cb = p.create(b, DatabaseSpec.empty());
      assertThat(List.of(ca.env().get("REDIS_DB"), cb.env().get("REDIS_DB"))).containsExactlyInAnyOrder("14", "15");
      assertThat(p.create(a, DatabaseSpec.empty()).env().get("REDIS_DB")).isEqualTo(ca.env().get("REDIS_DB"));
      assertThatThrownBy(() -> p.create(c, DatabaseSpec.empty())).isInstanceOf(ProviderException.class)
          .hasMessageContaining("no free database index in 14-15");
      int dbA = Integer.parseInt(ca.env().get("REDIS_DB"));
      try (Jedis j = admin()) {
        j.select(dbA);
        assertThat(j.get("greeting")).isEqualTo("hello from the baseline"); // prefix removed in its own database
        j.set("written", "1");
      }
      assertThat(p.list()).contains(a, b);
      p.drop(a);
      try (Jedis j = admin()) {
        j.select(dbA);
        assertThat(j.dbSize()).isZero();
      }
      assertThat(p.create(c, DatabaseSpec.empty()).env().get("REDIS_DB")).isEqualTo(Integer.toString(dbA));
    } finally {
      List.of(a, b, c).forEach(p::drop);
    }
    assertThat(p.list()).doesNotContain(a, b, c);
  }

  @Test
  void factoryReportsEveryProblem() {
    DatabaseProvider.Factory f = ServiceLoader.load(DatabaseProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.name().equals("redis")).findFirst().orElseThrow();
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("database",
        Map.of("mode", "cluster", "databases", "lots", "colour", "red")))))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).problems()).hasSize(3))
        .hasMessageContaining("database.mode").hasMessageContaining("database.databases")
        .hasMessageContaining("database.colour: unknown key");
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("database", Map.of("url", "redis://h:6379/3", "mode", "database", "databases", "1-5")))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("registry");
  }

  /** A preview made by an earlier version (user {@code pv-<Names.dnsLabel>}, registry mark, no ACL mark) keeps its user. */
  @Test
  void aPreviewOfAnEarlierVersionKeepsItsUserAndIsDropped() {
    PreviewKey k = key(40);
    String oldUser = earlierHash("pv-" + Names.dnsLabel(k));
    String oldPrefix = earlierHash(Names.redisPrefix(k));
    try (Jedis j = admin()) {
      j.aclSetUser(oldUser, "reset", "on", ">old", "~" + oldPrefix + "*", "+@all", "-@admin", "-@dangerous");
      j.hset(RedisDatabaseProvider.ACL_USERS, oldUser, dev.preview.db.internal.OwnerMark.encode(
          dev.preview.spi.Installation.defaults(), k, Map.of()).replace(",\"preview.dev/instance\":\"default\"", ""));
      j.hset(RedisDatabaseProvider.ACL_READY, oldUser, "1");
      j.set(oldPrefix + "kept", "yes");
    }
    assertThat(provider().list()).contains(k);
    assertThat(provider().userOf(k)).isNotEqualTo(oldUser);
    DatabaseConnection c = provider().create(k, DatabaseSpec.empty());
    assertThat(c.username()).isEqualTo(oldUser);
    assertThat(c.name()).isEqualTo(oldPrefix);
    try (Jedis j = open(c)) {
      assertThat(j.get(oldPrefix + "kept")).isEqualTo("yes");
      assertThatThrownBy(() -> j.sendCommand(redis.clients.jedis.Protocol.Command.EVAL, "return 1", "0"))
          .hasMessageContaining("NOPERM"); // the rules are this version's
    }
    provider().drop(k);
    try (Jedis j = admin()) {
      assertThat(j.aclUsers()).doesNotContain(oldUser);
      assertThat(j.exists(oldPrefix + "kept")).isFalse();
    }
    assertThat(provider().list()).doesNotContain(k);
  }

  /** The name an earlier version gave: its hash suffix was the first 10 of today's 16 hex digits. */
  static String earlierHash(String name) {
    return name.replaceFirst("([0-9a-f]{10})[0-9a-f]{6}(:?)$", "$1$2");
  }
}
