package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.util.SafeEncoder;

/**
 * Issue 12's attacks on a Redis 7 (Debian's, from {@code .ci/servers/redis.sh}), each run as
 * preview A's app would run it, with only A's credentials: every one must be denied, and preview
 * B's keys, the server's function libraries and the other databases must be unchanged afterwards.
 * Writes the count and the run time to {@code target/attack-suite-redis.txt}.
 */
class RedisAttackIT {
  static final String REPO = "acme/attack-" + UUID.randomUUID().toString().substring(0, 8);
  static final PreviewKey A = PreviewKey.pr(REPO, 1);
  static final PreviewKey B = PreviewKey.pr(REPO, 2);
  static final String LIB = "#!lua name=blib_" + REPO.replaceAll("\\W", "_") + "\n"
      + "redis.register_function('b_read_" + REPO.replaceAll("\\W", "_") + "', function(keys, args) return 'b' end)";
  static RedisDatabaseProvider provider;
  static DatabaseConnection a;
  static DatabaseConnection b;
  static long suiteStart;
  static final List<String> denied = new ArrayList<>();

  @BeforeAll
  static void twoPreviews() {
    Redis7.require();
    suiteStart = System.nanoTime();
    provider = Redis7.provider().build();
    a = provider.create(A, DatabaseSpec.empty());
    b = provider.create(B, DatabaseSpec.empty());
    try (Jedis jb = app(b)) { // B's app writes its data with B's own credentials
      jb.set(pb("secret"), "b's secret");
      jb.hset(pb("user:1"), Map.of("email", "b@example.com"));
      jb.rpush(pb("queue"), "b1", "b2");
      jb.sadd(pb("set"), "x");
      jb.xadd(pb("stream"), redis.clients.jedis.StreamEntryID.NEW_ENTRY, Map.of("f", "v"));
    }
    try (Jedis ja = app(a)) {
      ja.set(pa("own"), "a");
      ja.rpush(pa("list"), "1", "2");
    }
    try (Jedis admin = Redis7.admin()) {
      admin.functionLoadReplace(LIB); // a library the admin loaded for B's app
    }
  }

  @AfterAll
  static void report() throws IOException {
    long ms = (System.nanoTime() - suiteStart) / 1_000_000;
    try (Jedis admin = Redis7.admin()) {
      admin.functionDelete(LIB.substring("#!lua name=".length(), LIB.indexOf('\n')));
    } catch (JedisDataException gone) {
      // an attack that deleted it already failed its test
    }
    if (provider != null) {
      provider.drop(A);
      provider.drop(B);
    }
    String text = "redis attack suite: " + denied.size() + " attacks tried as preview A, " + denied.size()
        + " denied, B unchanged after each; " + ms + " ms (setup, attacks and checks)\n" + String.join("\n", denied) + "\n";
    Path out = Path.of("target", "attack-suite-redis.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, text);
    System.out.println(text);
  }

  static String pa(String rest) {
    return a.name() + rest;
  }

  static String pb(String rest) {
    return b.name() + rest;
  }

  static Jedis app(DatabaseConnection c) {
    URI u = URI.create(c.url());
    return new Jedis(new HostAndPort(u.getHost(), u.getPort()), DefaultJedisClientConfig.builder().autoNegotiateProtocol(false)
        .user(c.username()).password(c.password().reveal()).clientName("app").build());
  }

  static ProtocolCommand cmd(String name) {
    byte[] raw = SafeEncoder.encode(name);
    return () -> raw;
  }

  /** Everything an attack could change that is not A's: B's keys with values, the libraries, the other databases. */
  static Map<String, Object> world() {
    Map<String, Object> w = new TreeMap<>();
    try (Jedis admin = Redis7.admin()) {
      String cursor = ScanParams.SCAN_POINTER_START;
      do {
        ScanResult<String> page = admin.scan(cursor, new ScanParams().match(RedisDatabaseProvider.glob(b.name()) + "*").count(1000));
        for (String k : page.getResult()) {
          w.put("key " + k, Arrays.toString(admin.dump(k)));
        }
        cursor = page.getCursor();
      } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
      w.put("functions", admin.functionList().stream().map(l -> l.getLibraryName() + "=" + l.getFunctions().size())
          .collect(java.util.stream.Collectors.toCollection(TreeSet::new)).toString());
      w.put("scripts", admin.scriptExists("e0e1f9fabfc9d4800c877a703b823ac0578ff8db").toString()); // sha1 of "return 1"
      for (int db = 1; db < 16; db++) {
        admin.select(db);
        w.put("db " + db + " A keys", admin.keys(RedisDatabaseProvider.glob(a.name()) + "*").size());
      }
      admin.select(0);
      w.put("users", admin.aclUsers().stream().filter(u -> u.startsWith("pv-")).sorted().toList().toString());
      w.put("B's acl", rules(admin, b.username()));
      w.put("A's acl", rules(admin, a.username()));
    }
    return w;
  }

  /** A user's rules in a stable order (the server describes a user's commands in no fixed order). */
  static String rules(Jedis admin, String user) {
    return admin.aclList().stream().filter(l -> l.startsWith("user " + user + " "))
        .map(l -> new TreeSet<>(Arrays.asList(l.split(" "))).toString()).findFirst().orElse("none");
  }

  /** Runs {@code attack} as A on a fresh connection: it must fail with {@code expected}, and change nothing. */
  static void deny(String name, String expected, Consumer<Jedis> attack) {
    Map<String, Object> before = world();
    try (Jedis ja = app(a)) {
      assertThatThrownBy(() -> attack.accept(ja)).as(name).isInstanceOf(JedisDataException.class)
          .hasMessageContaining(expected);
    }
    assertThat(world()).as("after " + name).isEqualTo(before);
    denied.add("denied: " + name);
  }

  static void denyCommand(String... args) {
    deny(String.join(" ", args).replace(b.name(), "<B>").replace(a.name(), "<A>"), "NOPERM",
        j -> j.sendCommand(cmd(args[0]), Arrays.copyOfRange(args, 1, args.length)));
  }

  @Test
  void functionsAndScriptsAreDenied() {
    String replaced = LIB.replace("return 'b'", "return redis.call('GET', '" + pb("secret") + "')");
    denyCommand("FUNCTION", "LOAD", "REPLACE", replaced);
    denyCommand("FUNCTION", "LOAD", "#!lua name=alib\nredis.register_function('a_f', function() return 1 end)");
    denyCommand("FUNCTION", "FLUSH");
    denyCommand("FUNCTION", "DELETE", LIB.substring("#!lua name=".length(), LIB.indexOf('\n')));
    denyCommand("FUNCTION", "LIST");
    denyCommand("FUNCTION", "DUMP");
    denyCommand("FUNCTION", "RESTORE", "x", "REPLACE");
    denyCommand("FUNCTION", "KILL");
    denyCommand("FCALL", "b_read_" + REPO.replaceAll("\\W", "_"), "0");
    denyCommand("FCALL_RO", "b_read_" + REPO.replaceAll("\\W", "_"), "0");
    denyCommand("SCRIPT", "FLUSH");
    denyCommand("SCRIPT", "LOAD", "return 1");
    denyCommand("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    denyCommand("SCRIPT", "KILL");
    denyCommand("EVAL", "return redis.call('GET', KEYS[1])", "1", pb("secret"));
    denyCommand("EVAL", "return redis.call('GET', '" + pb("secret") + "')", "1", pa("own")); // keys outside KEYS
    denyCommand("EVAL", "return redis.call('SELECT', 1)", "0");
    denyCommand("EVAL_RO", "return redis.call('GET', KEYS[1])", "1", pa("own"));
    denyCommand("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0");
  }

  @Test
  void otherDatabasesAreOutOfReach() {
    denyCommand("SELECT", "1");
    denyCommand("SELECT", "00"); // the allowed first argument is the exact string "0"
    denyCommand("MOVE", pa("own"), "1");
    denyCommand("COPY", pa("own"), pa("copy"), "DB", "1");
    denyCommand("SWAPDB", "0", "1");
    denyCommand("FLUSHDB");
    denyCommand("FLUSHALL");
    denyCommand("MIGRATE", "127.0.0.1", "6390", pa("own"), "1", "1000");
  }

  @Test
  void nothingShowsOtherPreviews() {
    denyCommand("PUBSUB", "CHANNELS");
    denyCommand("PUBSUB", "NUMSUB", pb("events"));
    denyCommand("PUBSUB", "NUMPAT");
    denyCommand("PUBSUB", "SHARDCHANNELS");
    denyCommand("INFO");
    denyCommand("INFO", "keyspace");
    denyCommand("INFO", "server", "keyspace"); // why INFO server is not allowed either
    denyCommand("INFO", "clients");
    denyCommand("DBSIZE");
    denyCommand("KEYS", "*");
    denyCommand("KEYS", pb("*"));
    denyCommand("SCAN", "0");
    denyCommand("SCAN", "0", "MATCH", pa("*")); // SCAN's MATCH filters after the fact: no SCAN at all
    denyCommand("RANDOMKEY");
    denyCommand("CLIENT", "LIST");
    denyCommand("CLIENT", "KILL", "USER", b.username());
    denyCommand("CLIENT", "TRACKING", "ON", "BCAST");
    denyCommand("CLIENT", "PAUSE", "1000");
    denyCommand("CLIENT", "NO-EVICT", "ON");
    denyCommand("MONITOR");
    denyCommand("SLOWLOG", "GET");
    denyCommand("LATENCY", "LATEST");
    denyCommand("MEMORY", "USAGE", pb("secret"));
    denyCommand("OBJECT", "ENCODING", pb("secret"));
    deny("DEBUG OBJECT <B>secret", "DEBUG command not allowed", // refused before the ACL is asked (which denies it too)
        j -> j.sendCommand(cmd("DEBUG"), "OBJECT", pb("secret")));
    denyCommand("CONFIG", "GET", "*");
    denyCommand("CONFIG", "SET", "aclfile", "/tmp/x");
    denyCommand("ACL", "LIST");
    denyCommand("ACL", "GETUSER", b.username());
    denyCommand("ACL", "SETUSER", a.username(), "+@all", "~*");
    denyCommand("ACL", "LOG");
    denyCommand("ROLE");
    denyCommand("LASTSAVE");
    denyCommand("SAVE");
    denyCommand("BGSAVE");
    denyCommand("SHUTDOWN", "NOSAVE");
    denyCommand("REPLICAOF", "127.0.0.1", "1");
    denyCommand("MODULE", "LIST");
    // RESET, AUTH and HELLO are always allowed: RESET falls back to the server's default user, which must be off
    deny("RESET, then GET <B>secret as the default user", "NOAUTH", j -> {
      j.sendCommand(cmd("RESET"));
      j.get(pb("secret"));
    });
    denyCommand("WAIT", "0", "0");
    denyCommand("COMMAND", "GETKEYS", "GET", "x");
  }

  @Test
  void channelsOfOthersAreDenied() {
    denyCommand("SUBSCRIBE", pb("events"));
    denyCommand("PSUBSCRIBE", "*");
    denyCommand("PSUBSCRIBE", "preview:*");
    denyCommand("SUBSCRIBE", "__keyspace@0__:" + pb("secret")); // keyspace notifications name others' keys
    denyCommand("PSUBSCRIBE", "__key*__:*");
    denyCommand("PUBLISH", pb("events"), "x");
    denyCommand("SPUBLISH", pb("events"), "x");
    denyCommand("SSUBSCRIBE", pb("events"));
  }

  @Test
  void keysOfOthersAreDeniedEvenThroughMultiKeyCommands() {
    denyCommand("GET", pb("secret"));
    denyCommand("SET", pb("secret"), "a was here");
    denyCommand("DEL", pb("secret"));
    denyCommand("UNLINK", pb("secret"));
    denyCommand("EXISTS", pb("secret"));
    denyCommand("TYPE", pb("secret"));
    denyCommand("EXPIRE", pb("secret"), "1");
    denyCommand("RENAME", pa("own"), pb("secret"));
    denyCommand("RENAME", pb("secret"), pa("stolen"));
    denyCommand("COPY", pb("secret"), pa("stolen"));
    denyCommand("DUMP", pb("secret"));
    denyCommand("RESTORE", pa("r"), "0", "x");
    denyCommand("SORT", pa("list"), "BY", pb("*"));
    denyCommand("SORT", pa("list"), "GET", pb("*"));
    denyCommand("SORT_RO", pa("list"), "GET", pb("*"));
    denyCommand("LMOVE", pa("list"), pb("queue"), "LEFT", "LEFT");
    denyCommand("LMOVE", pb("queue"), pa("list"), "LEFT", "LEFT");
    denyCommand("SUNIONSTORE", pb("set"), pa("s"));
    denyCommand("SUNION", pa("s"), pb("set"));
    denyCommand("SINTERCARD", "2", pa("s"), pb("set"));
    denyCommand("BITOP", "OR", pb("secret"), pa("own"));
    denyCommand("LCS", pa("own"), pb("secret"));
    denyCommand("XREAD", "STREAMS", pb("stream"), "0");
    denyCommand("GEOSEARCHSTORE", pb("geo"), pa("geo"), "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km");
    denyCommand("PFMERGE", pb("hll"), pa("hll"));
    denyCommand("PFDEBUG", "GETREG", pa("hll"));
    denyCommand("HGETALL", pb("user:1"));
    denyCommand("MSET", pa("x"), "1", pb("secret"), "2");
    denyCommand("WATCH", pb("secret"));
    deny("MULTI, GET <B>secret, EXEC", "EXECABORT", j -> { // refused when queued, the whole transaction with it
      Transaction t = j.multi();
      t.get(pb("secret"));
      t.exec();
    });
    denyCommand("PUBLISH", "unprefixed", "x");
    denyCommand("SET", "unprefixed", "x");
    denyCommand("GET", RedisDatabaseProvider.ACL_USERS);
    denyCommand("HSET", RedisDatabaseProvider.ACL_USERS, a.username(), "forged");
  }

  @Test
  void anotherPreviewsIdentityIsOutOfReach() {
    deny("AUTH as B with A's password", "WRONGPASS", j -> j.auth(b.username(), a.password().reveal()));
    deny("HELLO 3 AUTH B with A's password", "WRONGPASS",
        j -> j.sendCommand(cmd("HELLO"), "3", "AUTH", b.username(), a.password().reveal()));
    deny("AUTH as the default user", "WRONGPASS", j -> j.auth("default", "anything"));
    deny("AUTH as the admin with A's password", "WRONGPASS", j -> j.auth(Redis7.USER, a.password().reveal()));
  }

  /** The rights a preview's app does need, on its own keys and channels. */
  @Test
  void theAppCanDoWhatAppsDo() throws Exception {
    try (Jedis j = app(a)) {
      assertThat(j.ping()).isEqualTo("PONG");
      assertThat(j.clientGetname()).isEqualTo("app");
      j.select(0);
      j.set(pa("s"), "1");
      assertThat(j.incr(pa("s"))).isEqualTo(2);
      j.setex(pa("ttl"), 100, "x");
      assertThat(j.ttl(pa("ttl"))).isBetween(1L, 100L);
      j.hset(pa("h"), "f", "v");
      assertThat(j.hgetAll(pa("h"))).containsEntry("f", "v");
      assertThat(j.hscan(pa("h"), ScanParams.SCAN_POINTER_START).getResult()).hasSize(1);
      j.lpush(pa("l"), "a", "b");
      assertThat(j.lrange(pa("l"), 0, -1)).containsExactly("b", "a");
      j.sadd(pa("set"), "m");
      j.zadd(pa("z"), 1, "m");
      assertThat(j.zscore(pa("z"), "m")).isEqualTo(1.0);
      j.xadd(pa("stream"), redis.clients.jedis.StreamEntryID.NEW_ENTRY, Map.of("f", "v"));
      assertThat(j.xlen(pa("stream"))).isEqualTo(1);
      j.pfadd(pa("hll"), "x");
      j.setbit(pa("bits"), 3, true);
      j.geoadd(pa("geo"), 13.4, 52.5, "berlin");
      j.rename(pa("s"), pa("s2"));
      assertThat(j.exists(pa("s2"))).isTrue();
      assertThat(j.expire(pa("s2"), 100)).isEqualTo(1);
      assertThat(j.persist(pa("s2"))).isEqualTo(1);
      assertThat(j.unlink(pa("s2"))).isEqualTo(1);
      j.watch(pa("h"));
      Transaction t = j.multi();
      t.hset(pa("h"), "g", "w");
      t.incr(pa("counter"));
      assertThat(t.exec()).hasSize(2);
      assertThat(j.sendCommand(cmd("HELLO"), "3").toString()).isNotEmpty();
      assertThat(j.sendCommand(cmd("CLIENT"), "ID")).isNotNull();
    }
    // pub/sub on its own channel pattern, between two of its connections
    List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    JedisPubSub sub = new JedisPubSub() {
      @Override
      public void onPMessage(String pattern, String channel, String message) {
        got.add(channel + "=" + message);
        punsubscribe();
      }
    };
    Thread listener = new Thread(() -> {
      try (Jedis s = app(a)) {
        s.psubscribe(sub, a.name() + "*");
      }
    });
    listener.start();
    try (Jedis p = app(a)) {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
        p.publish(pa("events"), "hi");
        return !got.isEmpty();
      });
    }
    listener.join(10_000);
    assertThat(got.get(0)).isEqualTo(pa("events") + "=hi");
  }

  /**
   * The exact command set of a preview's user, asked of the server itself (ACL DRYRUN of every
   * command and subcommand it has, with A's own keys as arguments): what the README documents, and
   * nothing else. A new server version that adds a command to a granted category fails this test.
   */
  @Test
  void theUserMayRunExactlyTheDocumentedCommands() {
    TreeSet<String> allowed = new TreeSet<>();
    try (Jedis admin = Redis7.admin()) {
      for (Object info : (List<?>) admin.sendCommand(cmd("COMMAND"), "INFO")) {
        List<?> c = (List<?>) info;
        List<?> subs = c.size() > 9 ? (List<?>) c.get(9) : List.of();
        if (subs.isEmpty()) {
          check(admin, c, allowed);
        }
        for (Object sub : subs) {
          check(admin, (List<?>) sub, allowed);
        }
      }
    }
    assertThat(allowed).containsExactlyElementsOf(new TreeSet<>(DOCUMENTED));
  }

  private static void check(Jedis admin, List<?> info, TreeSet<String> allowed) {
    String name = SafeEncoder.encode((byte[]) info.get(0));
    long arity = (Long) info.get(1);
    List<String> args = new ArrayList<>(Arrays.asList(name.split("\\|")));
    while (args.size() < Math.abs(arity)) {
      args.add(name.equals("select") ? "0" : name.equals("psubscribe") ? pa("*") : pa("k"));
    }
    String[] dry = new String[args.size() + 2];
    dry[0] = "DRYRUN";
    dry[1] = a.username();
    for (int i = 0; i < args.size(); i++) {
      dry[i + 2] = args.get(i);
    }
    try {
      Object r = admin.sendCommand(cmd("ACL"), dry);
      if (r instanceof byte[] bytes && new String(bytes, StandardCharsets.UTF_8).equals("OK")) {
        allowed.add(name);
      }
    } catch (JedisDataException e) {
      // wrong arguments for a command that takes more than its arity: not a permission
      if (!e.getMessage().contains("wrong number") && !e.getMessage().contains("syntax")) {
        fail("ACL DRYRUN " + name + ": " + e.getMessage());
      }
    }
  }

  /** The module README's list, as the server names them. */
  static final List<String> DOCUMENTED = Arrays.asList((""
      + "append auth bitcount bitfield bitfield_ro bitop bitpos blmove blmpop blpop brpop brpoplpush "
      + "bzmpop bzpopmax bzpopmin client|getname client|id client|info client|setname decr decrby del "
      + "discard echo exec exists expire expireat expiretime geoadd geodist geohash geopos georadius "
      + "georadius_ro georadiusbymember georadiusbymember_ro geosearch geosearchstore get getbit getdel "
      + "getex getrange getset hdel hello hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget "
      + "hmset hrandfield hscan hset hsetnx hstrlen hvals incr incrby incrbyfloat lcs lindex linsert llen "
      + "lmove lmpop lpop lpos lpush lpushx lrange lrem lset ltrim mget mset msetnx multi persist pexpire "
      + "pexpireat pexpiretime pfadd pfcount pfmerge ping psetex psubscribe pttl publish punsubscribe "
      + "quit rename renamenx reset rpop rpoplpush rpush rpushx sadd scard sdiff sdiffstore select set "
      + "setbit setex setnx setrange sinter sintercard sinterstore sismember smembers smismember smove "
      + "spop spublish srandmember srem sscan ssubscribe strlen subscribe substr sunion sunionstore "
      + "sunsubscribe touch ttl type unlink unsubscribe unwatch watch xack xadd xautoclaim xclaim xdel "
      + "xgroup|create xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|help xgroup|setid "
      + "xinfo|consumers xinfo|groups xinfo|help xinfo|stream xlen xpending xrange xread xreadgroup "
      + "xrevrange xsetid xtrim zadd zcard zcount zdiff zdiffstore zincrby zinter zintercard zinterstore "
      + "zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore zrangestore "
      + "zrank zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex "
      + "zrevrangebyscore zrevrank zscan zscore zunion zunionstore ").trim().split(" "));
}
