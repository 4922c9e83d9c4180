package dev.preview.db.redis;

import dev.preview.testkit.Servers;
import java.io.IOException;
import java.net.ServerSocket;
import redis.embedded.RedisServer;

/**
 * The Redis of the integration tests: {@code PREVIEW_REDIS_URL} (an admin with ACL rights, no
 * password) if set, else an embedded Redis 6.2 started once per JVM on a free port.
 */
final class RedisServerForTests {
  private static RedisServer embedded;
  private static String url;
  private static String failure;

  private RedisServerForTests() {}

  static synchronized String url() {
    String env = System.getenv("PREVIEW_REDIS_URL");
    if (env != null && !env.isBlank()) {
      return env;
    }
    if (url == null && failure == null) {
      try {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
          port = s.getLocalPort();
        }
        embedded = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
            .setting("save \"\"").setting("appendonly no").build();
        embedded.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            embedded.stop();
          } catch (IOException ignored) {
            // the JVM is going away
          }
        }));
        url = "redis://127.0.0.1:" + port;
      } catch (IOException | RuntimeException e) {
        failure = e.toString();
      }
    }
    Servers.require("Redis (embedded-redis)" + (failure == null ? "" : ": " + failure), url != null,
        "set PREVIEW_REDIS_URL=redis://host:port, or run redis-server --port 6379 --save '' --appendonly no --daemonize yes");
    return url;
  }
}
