package dev.preview.db.redis;

import dev.preview.spi.Secret;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Debian's Redis 7 for the attack suite: the instance {@code .ci/servers/redis.sh} starts
 * ({@code PREVIEW_REDIS7_URL}, {@code _USER}, {@code _PASSWORD}; default user off), or a
 * redis-server a test starts and restarts itself ({@link Own}, for the aclfile tests).
 */
final class Redis7 {
  static final String URL = env("PREVIEW_REDIS7_URL", "redis://127.0.0.1:6390");
  static final String USER = env("PREVIEW_REDIS7_USER", "preview-admin");
  static final Secret PASSWORD = Secret.of(env("PREVIEW_REDIS7_PASSWORD", "preview-admin-pw"));
  static final String SERVER = env("PREVIEW_REDIS_SERVER", "/usr/bin/redis-server");

  private Redis7() {}

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : v;
  }

  static void require() {
    String why = "";
    boolean up = false;
    try (Jedis j = admin()) {
      String version = j.info("server").lines().filter(l -> l.startsWith("redis_version:")).findFirst().orElse("?");
      up = version.matches("redis_version:([7-9]|\\d\\d)\\..*");
      why = up ? "" : ": " + version + " (need 7 or later)";
    } catch (JedisException e) {
      why = ": " + e.getMessage();
    }
    Servers.require("Redis 7 at " + URL + " as " + USER + why, up, "bash .ci/servers/redis.sh");
  }

  static Jedis admin() {
    URI u = URI.create(URL);
    return new Jedis(new HostAndPort(u.getHost(), u.getPort()),
        DefaultJedisClientConfig.builder().autoNegotiateProtocol(false).user(USER).password(PASSWORD.reveal()).build());
  }

  static RedisDatabaseProvider.Builder provider() {
    return RedisDatabaseProvider.builder().url(URL).username(USER).password(PASSWORD);
  }

  /** A redis-server of this test's own, with an aclfile in a temporary directory; restartable. */
  static final class Own implements AutoCloseable {
    final Path dir;
    final int port;
    private Process process;

    Own(Path dir) throws IOException {
      Servers.require("redis-server at " + SERVER, Files.isExecutable(Path.of(SERVER)), "bash .ci/servers/redis.sh");
      this.dir = dir;
      try (ServerSocket s = new ServerSocket(0)) {
        this.port = s.getLocalPort();
      }
      Files.writeString(dir.resolve("users.acl"), "user " + USER + " on >" + PASSWORD.reveal() + " ~* &* +@all\nuser default off\n");
      start();
    }

    void start() throws IOException {
      List<String> cmd = new ArrayList<>(List.of(SERVER, "--port", Integer.toString(port), "--bind", "127.0.0.1",
          "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--aclfile", dir.resolve("users.acl").toString()));
      process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
      Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
          .until(() -> {
            try (Jedis j = admin()) {
              return "PONG".equals(j.ping());
            }
          });
    }

    void restart() throws IOException, InterruptedException {
      stop();
      start();
    }

    void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }

    String url() {
      return "redis://127.0.0.1:" + port;
    }

    Jedis admin() {
      return new Jedis(new HostAndPort("127.0.0.1", port),
          DefaultJedisClientConfig.builder().autoNegotiateProtocol(false).user(USER).password(PASSWORD.reveal()).build());
    }

    RedisDatabaseProvider.Builder provider() {
      return RedisDatabaseProvider.builder().url(url()).username(USER).password(PASSWORD);
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }
}
