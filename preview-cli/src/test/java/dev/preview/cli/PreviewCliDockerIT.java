package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.Labels;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code preview up/list/down} with {@code environment.provider: docker} against the real engine,
 * the CLI run in-process as {@link PreviewCliTest} runs it. The app image is built FROM scratch with
 * /bin/busybox (no registry is reachable); the docker CLI checks what is left, as a user would.
 */
class PreviewCliDockerIT {
  private static final String SHA1 = "cafe1111bbbb2222cccc3333dddd4444eeee5555";
  private static final String SHA2 = "beef2222aaaa1111cccc3333dddd4444eeee6666";
  private static final String TOKEN = "cli-docker-secret-7c1e";
  private static final int PR = 7;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dir;
  // unique per run: parallel builds share one engine
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String repo = "acme/shop-" + suffix;
  private final String image = "preview-cli-it/httpd:" + suffix;
  private final String keyLabel = Labels.KEY + "=" + repo + "#" + PR;
  private Path config;


  private record Answer(int status, String body) {}

  @BeforeEach
  void engineAndImage() throws Exception {
    Servers.require("Docker engine (docker info)", docker("info").code() == 0, ".ci/servers/docker.sh");
    Servers.require("/bin/busybox (a static build, for the test image)", Files.isRegularFile(Path.of("/bin/busybox")),
        ".ci/servers/docker.sh (apt-get install busybox-static)");
    Path ctx = Files.createDirectories(dir.resolve("image"));
    Files.copy(Path.of("/bin/busybox"), ctx.resolve("busybox"));
    Path cgi = Files.createDirectories(ctx.resolve("www/cgi-bin"));
    Files.writeString(ctx.resolve("www/health"), "ok\n");
    Files.writeString(ctx.resolve("www/index.html"), "hello from the docker preview\n");
    Path env = cgi.resolve("env");
    Files.writeString(env, "#!/bin/busybox sh\necho \"Content-Type: text/plain\"\necho\n/bin/busybox env\n");
    Files.setPosixFilePermissions(env, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(ctx.resolve("Dockerfile"), String.join("\n",
        "FROM scratch",
        "COPY busybox /bin/busybox",
        "COPY www /www",
        "ENTRYPOINT [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]",
        ""));
    Result build = docker("build", "-q", "-t", image, ctx.toString());
    assertThat(build.code()).as("docker build: " + build.out() + build.err()).isZero();

    config = dir.resolve("preview.yaml");
    Files.writeString(config, String.join("\n",
        "repository: acme/not-this-one",
        "app:",
        "  image: " + image,
        "  port: 8080",
        "  healthPath: /health",
        "  env: {GREETING: hello from docker}",
        "  secrets: {API_TOKEN: " + TOKEN + "}",
        "  readiness: {timeout: 30s, interval: 100ms}",
        "environment:",
        "  provider: docker",
        "  pull: never",
        "  stopTimeout: 0s", // busybox httpd ignores SIGTERM as PID 1
        "  publish: {interface: 127.0.0.1}",
        // a companion with a volume, so that down has a network, two containers and a volume to remove
        "  services:",
        "    cache: {image: " + image + ", volumes: [/www/data]}",
        "scm:",
        "  provider: console",
        "  inPlace: never",
        ""));
  }

  @AfterEach
  void removeLeftovers() throws Exception {
    if (config != null) {
      preview("down", "--config", config.toString(), "--repo", repo, "--pr", String.valueOf(PR));
      docker("rmi", "-f", image);
    }
  }

  @Test
  void upListRedeployAndDownLeaveNothingLabelledOnTheEngine() throws Exception {
    Result up = preview("up", "--config", config.toString(), "--repo", repo, "--pr", String.valueOf(PR), "--sha", SHA1);
    assertThat(up.code()).as(up.out() + up.err()).isZero();
    assertThat(up.out()).contains("preview up " + repo + "#" + PR + " at " + SHA1 + " with environment docker")
        .doesNotContain(TOKEN);
    URI url = readyUrl(up, "cafe111");
    assertThat(url.getHost()).isEqualTo("127.0.0.1");
    assertThat(get(url.resolve("/"))).isEqualTo(new Answer(200, "hello from the docker preview\n"));
    assertThat(get(url.resolve("/cgi-bin/env")).body())
        .contains("PREVIEW_REVISION=" + SHA1, "PREVIEW_KEY=" + repo + "#" + PR, "GREETING=hello from docker",
            "API_TOKEN=" + TOKEN);
    List<String> before = docker("ps", "-q", "--filter", "label=" + keyLabel).out().lines().toList();
    assertThat(before).as("app and cache running").hasSize(2);
    assertThat(docker("network", "ls", "-q", "--filter", "label=" + keyLabel).out().lines()).hasSize(1);
    assertThat(docker("volume", "ls", "-q", "--filter", "label=" + keyLabel).out().lines()).hasSize(1);

    // a new command, a new orchestrator: list reads the engine's labels
    Result list = preview("list", "--config", config.toString());
    assertThat(list.code()).as(list.out() + list.err()).isZero();
    assertThat(list.out()).containsPattern(Pattern.quote(repo + "#" + PR) + " +READY +cafe111 +" + Pattern.quote(url.toString()));

    Result push = preview("up", "--config", config.toString(), "--repo", repo, "--pr", String.valueOf(PR), "--sha", SHA2);
    assertThat(push.code()).as(push.out() + push.err()).isZero();
    URI url2 = readyUrl(push, "beef222");
    assertThat(url2).as("host-port publishing keeps the preview's port").isEqualTo(url);
    assertThat(get(url2.resolve("/cgi-bin/env")).body()).contains("PREVIEW_REVISION=" + SHA2).doesNotContain(SHA1);
    List<String> after = docker("ps", "-a", "-q", "--filter", "label=" + keyLabel).out().lines().toList();
    assertThat(after).as("a new app container, the old one gone").hasSize(2)
        .as("the cache container kept").filteredOn(before::contains).hasSize(1);
    assertThat(preview("list", "--config", config.toString()).out())
        .containsPattern(Pattern.quote(repo + "#" + PR) + " +READY +beef222 ");

    Result down = preview("down", "--config", config.toString(), "--repo", repo, "--pr", String.valueOf(PR));
    assertThat(down.code()).as(down.out() + down.err()).isZero();
    assertThat(down.out()).contains(repo + "#" + PR + " is removed");
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(get(url2).status()).isEqualTo(-1));
    assertThat(preview("list", "--config", config.toString()).out()).doesNotContain(repo + "#" + PR);

    assertThat(docker("ps", "-a", "-q", "--filter", "label=" + keyLabel).out()).isBlank();
    assertThat(docker("network", "ls", "-q", "--filter", "label=" + keyLabel).out()).isBlank();
    assertThat(docker("volume", "ls", "-q", "--filter", "label=" + keyLabel).out()).isBlank();
    assertThat(preview("down", "--config", config.toString(), "--repo", repo, "--pr", String.valueOf(PR)).code())
        .as("down is idempotent").isZero();
  }

  private static URI readyUrl(Result r, String shortSha) {
    Matcher m = Pattern.compile("is READY at (http://127\\.0\\.0\\.1:\\d+/?) \\(revision " + shortSha + ", ").matcher(r.out());
    assertThat(m.find()).as(r.out() + r.err()).isTrue();
    return URI.create(m.group(1));
  }

  private static Result preview(String... args) {
    return CliRun.run(args);
  }

  /** The docker CLI; exit code -1 when it cannot be run at all. */
  private Result docker(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("docker"));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "docker", ".out");
    Path err = Files.createTempFile(dir, "docker", ".err");
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    } catch (IOException e) {
      return new Result(-1, "", e.toString());
    }
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(-1, "", "timed out: " + cmd);
    }
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static Answer get(URI url) throws InterruptedException {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Answer(-1, e.toString());
    }
  }
}
