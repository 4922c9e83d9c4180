package dev.preview.docker;

import static org.awaitility.Awaitility.await;

import dev.preview.testkit.Servers;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real Docker registry for the ITs: Debian's {@code docker-registry} on a free loopback port, with
 * htpasswd auth for {@link #USER} / {@link #PASSWORD}, storage in a temp dir. {@link #close()} stops
 * it and removes the dir.
 */
final class TestRegistry implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/docker-registry");
  static final String USER = "preview-bot";
  static final String PASSWORD = "registry-pass-7f3a";
  /** htpasswd -Bbn preview-bot registry-pass-7f3a */
  private static final String HTPASSWD = "preview-bot:$2y$05$8pbqtBrBSyMNIL1Qla9o7umDuYXHg8ttMLgXLnIyDJu50UoWL1rWO\n";

  /** {@code 127.0.0.1:<port>}, as image references and registry settings name it. */
  final String server;
  private final Path dir;
  private final Process process;

  private TestRegistry(String server, Path dir, Process process) {
    this.server = server;
    this.dir = dir;
    this.process = process;
  }

  /** Starts a registry and waits until it answers (401 on {@code /v2/}: auth is on). */
  static TestRegistry start() throws Exception {
    Servers.require("a Docker registry binary at " + BINARY, Files.isExecutable(BINARY),
        "apt-get install docker-registry (.ci/servers/docker.sh does)");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String server = "127.0.0.1:" + port;
    Path dir = Files.createTempDirectory("preview-registry");
    Files.writeString(dir.resolve("htpasswd"), HTPASSWD);
    Files.writeString(dir.resolve("config.yml"), String.join("\n",
        "version: 0.1",
        "log: {level: warn}",
        "storage: {filesystem: {rootdirectory: " + dir.resolve("data") + "}}",
        "http: {addr: \"" + server + "\"}",
        "auth: {htpasswd: {realm: preview-test, path: " + dir.resolve("htpasswd") + "}}",
        ""));
    Process p = new ProcessBuilder(BINARY.toString(), "serve", dir.resolve("config.yml").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
    TestRegistry r = new TestRegistry(server, dir, p);
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> TestDocker.get(URI.create("http://" + server + "/v2/")).status() == 401);
    return r;
  }

  @Override
  public void close() {
    process.destroy();
    TestDocker.deleteTree(dir);
  }
}
