package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static dev.preview.cli.CliRun.yamlList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.examples.demo.PreviewDemo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreviewCliTest {
  private static final String SHA1 = "aaaa1111bbbb2222cccc3333dddd4444eeee5555";
  private static final String SHA2 = "1234567890abcdef1234567890abcdef12345678";
  private static final String TOKEN = "cli-test-secret-value-9f2";

  @TempDir Path dir;
  private Path config;

  private static Result preview(String... args) {
    return CliRun.run(TestEnv.withoutCi(), args);
  }

  private Path writeConfig(List<String> command) throws IOException {
    return writeConfig(command, "");
  }

  private Path writeConfig(List<String> command, String more) throws IOException {
    Path f = dir.resolve("preview.yaml");
    Files.writeString(f, String.join("\n",
        "repository: acme/shop",
        "app:",
        "  command: " + yamlList(command),
        "  healthPath: /health",
        "  env:",
        "    GREETING: hello from the cli test",
        "  secrets:",
        "    API_TOKEN: " + TOKEN,
        "  links:",
        "    docs: /docs",
        "  readiness:",
        "    timeout: 60s",
        "    interval: 100ms",
        CliRun.localEnvironment(dir),
        "scm:",
        "  provider: console",
        "  inPlace: never",
        more));
    return f;
  }

  @AfterEach
  void removeLeftovers() {
    if (config != null) {
      preview("down", "--config", config.toString(), "--pr", "1");
      preview("down", "--config", config.toString(), "--pr", "2");
    }
  }

  @Test
  void upThenListThenDown() throws Exception {
    config = writeConfig(PreviewDemo.sampleAppCommand());

    Result up = preview("up", "--config", config.toString(), "--pr", "1", "--sha", SHA1, "--label", "flag:dark-mode",
        "--branch", "feature/dark");
    assertThat(up.code()).as(up.out() + up.err()).isZero();
    Matcher m = Pattern.compile("acme/shop#1 is READY at (http://127\\.0\\.0\\.1:\\d+/) \\(revision aaaa111, ").matcher(up.out());
    assertThat(m.find()).as(up.out()).isTrue();
    URI url = URI.create(m.group(1));
    assertThat(up.out())
        .contains("preview up acme/shop#1 at " + SHA1 + " with environment local, scm console")
        .containsPattern("\\[acme/shop#1] environment +\\d")
        .containsPattern("\\[acme/shop#1] readiness +\\d")
        .contains("### [ok] Preview ready: acme/shop#1", "- Links: [docs](" + url + "docs)")
        .doesNotContain(TOKEN);
    String page = get(url);
    assertThat(page).contains("<code id=\"revision\">" + SHA1 + "</code>", "FEATURE_DARK_MODE = true",
        "hello from the cli test").doesNotContain(TOKEN);

    // a second command is a new JVM as far as the provider knows: it reads the state directory
    Result list = preview("list", "--config", config.toString());
    assertThat(list.code()).isZero();
    assertThat(list.out()).containsPattern("acme/shop#1 +READY +aaaa111 +" + Pattern.quote(url.toString()));

    Result logs = preview("logs", "--config", config.toString(), "--pr", "1", "--lines", "1");
    assertThat(logs.code()).isZero();
    assertThat(logs.out()).isEqualTo("sample app of acme/shop#1 at revision " + SHA1 + " listening on port "
        + url.getPort() + System.lineSeparator());

    Result push = preview("up", "--config", config.toString(), "--pr", "1", "--sha", SHA2);
    assertThat(push.code()).as(push.out() + push.err()).isZero();
    Matcher m2 = Pattern.compile("acme/shop#1 is READY at (http://127\\.0\\.0\\.1:\\d+/) \\(revision 1234567, ").matcher(push.out());
    assertThat(m2.find()).as(push.out()).isTrue();
    assertThat(get(URI.create(m2.group(1)))).contains("<code id=\"revision\">" + SHA2 + "</code>");

    Result down = preview("down", "--config", config.toString(), "--pr", "1");
    assertThat(down.code()).as(down.out() + down.err()).isZero();
    assertThat(down.out()).contains("acme/shop#1 is removed", "### [xx] Preview deleted: acme/shop#1");
    assertThat(get(URI.create(m2.group(1)))).startsWith("no answer");
    assertThat(preview("list", "--config", config.toString()).out()).contains("no previews");
    assertThat(preview("down", "--config", config.toString(), "--pr", "1").code()).as("down is idempotent").isZero();
    try (var files = Files.list(dir.resolve("state"))) {
      assertThat(files.toList()).isEmpty();
    }
  }

  @Test
  void reconcileSuspendsAnIdlePreviewThatTheNextUpWakesThenExpiresIt() throws Exception {
    config = writeConfig(PreviewDemo.sampleAppCommand(), "policy:\n  sleepAfter: 1s\n  idleTimeout: 1h\n");
    Result up = preview("up", "--config", config.toString(), "--pr", "1", "--sha", SHA1);
    assertThat(up.code()).as(up.out() + up.err()).isZero();

    // the sleep rule reads the last-activity label back from the local provider's state file
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() ->
        preview("reconcile", "--config", config.toString()).out().contains("did sleep acme/shop#1"));
    assertThat(preview("list", "--config", config.toString()).out()).containsPattern("acme/shop#1 +SLEEPING +aaaa111");

    Result wake = preview("up", "--config", config.toString(), "--pr", "1", "--sha", SHA1);
    assertThat(wake.code()).as(wake.out() + wake.err()).isZero();
    Matcher m = Pattern.compile("is READY at (http://\\S+) ").matcher(wake.out());
    assertThat(m.find()).as(wake.out()).isTrue();
    assertThat(get(URI.create(m.group(1)))).contains(SHA1);

    Path expiring = writeConfig(PreviewDemo.sampleAppCommand(), "policy:\n  ttl: 1s\n");
    assertThat(preview("up", "--config", expiring.toString(), "--pr", "1", "--sha", SHA2).code()).isZero();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() ->
        preview("reconcile", "--config", expiring.toString()).out().contains("did expire acme/shop#1"));
    assertThat(preview("list", "--config", expiring.toString()).out()).contains("no previews");
  }

  @Test
  void aDeployThatFailsExitsOneWithTheReason() throws Exception {
    config = writeConfig(List.of("sh", "-c", "echo 'cannot open config.yml' >&2; exit 4"));
    Result up = preview("up", "--config", config.toString(), "--pr", "2", "--sha", SHA1);
    assertThat(up.code()).as(up.out() + up.err()).isEqualTo(1);
    assertThat(up.out()).contains("acme/shop#2 FAILED at step environment", "exited at once with code 4",
        "cannot open config.yml", "### [!!] Preview failed: acme/shop#2");
    assertThat(preview("reconcile", "--config", config.toString(), "--dry-run").code()).isZero();
  }

  @Test
  void everyConfigurationProblemIsReportedWithExitCodeTwo() throws IOException {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, String.join("\n",
        "app:",
        "  command: [java, -version]",
        "  port: 70000",
        "environment:",
        "  provider: local",
        "  stopTimeout: soon",
        "  colour: blue",
        "scm:",
        "  provider: console",
        "  inPlace: sometimes",
        ""));
    Result r = preview("list", "--config", bad.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("preview: the configuration is invalid")
        .contains("app.port: must be 1-65535, got 70000")
        .contains("environment.stopTimeout:")
        .contains("environment.colour: unknown key")
        .contains("scm.inPlace: must be one of auto, always, never");

    Result missing = preview("list", "--config", dir.resolve("nope.yaml").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.yaml");
  }

  @Test
  void usageErrorsExitTwo() throws IOException {
    config = writeConfig(List.of("true"));
    Result noSha = preview("up", "--config", config.toString(), "--pr", "1");
    assertThat(noSha.code()).isEqualTo(2);
    assertThat(noSha.err()).contains("--sha");
    Result badSha = preview("up", "--config", config.toString(), "--pr", "1", "--sha", "not-a-sha");
    assertThat(badSha.code()).isEqualTo(2);
    assertThat(badSha.err()).contains("--sha: must be a commit id of 4 to 64 hex digits (0-9, a-f)", "got \"not-a-sha\" (9 characters)");
    Result shortSha = preview("up", "--config", config.toString(), "--pr", "1", "--sha", "aaa");
    assertThat(shortSha.code()).isEqualTo(2);
    assertThat(shortSha.err()).contains("--sha: must be a commit id of 4 to 64 hex digits", "got \"aaa\" (3 characters)");
    Result badRepo = preview("down", "--config", config.toString(), "--repo", "no slash", "--pr", "1");
    assertThat(badRepo.code()).isEqualTo(2);
    assertThat(badRepo.err()).contains("owner/name");
  }

  @Test
  void upWithImageRunsThatTemplateForTheRevisionAndABadOneExitsTwoWithTheReason() throws Exception {
    com.sun.net.httpserver.HttpServer host = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    host.createContext("/", exchange -> {
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    host.start();
    try {
      Path hosts = Files.createDirectories(dir.resolve("hosts"));
      Path f = dir.resolve("hosts.yaml");
      Files.writeString(f, String.join("\n",
          "repository: acme/shop",
          "app:",
          "  image: ghcr.io/acme/shop:latest",
          "  readiness: {timeout: 10s, interval: 50ms}",
          "environment:",
          "  provider: static-hosts",
          "  dir: '" + hosts + "'",
          "  hosts: ['http://127.0.0.1:" + host.getAddress().getPort() + "/']",
          "scm:",
          "  provider: console",
          ""));

      Result up = preview("up", "--config", f.toString(), "--pr", "3", "--sha", SHA1,
          "--image", "ghcr.io/acme/shop:pr-{number}-{shortSha}");
      assertThat(up.code()).as(up.out() + up.err()).isZero();
      assertThat(lease(hosts)).contains("\"image\":\"ghcr.io/acme/shop:pr-3-aaaa111\"").contains(SHA1);

      Result plain = preview("up", "--config", f.toString(), "--pr", "3", "--sha", SHA2);
      assertThat(plain.code()).as(plain.out() + plain.err()).isZero();
      assertThat(lease(hosts)).contains("\"image\":\"ghcr.io/acme/shop:latest\"");

      Result bad = preview("up", "--config", f.toString(), "--pr", "3", "--sha", SHA1, "--image", "ghcr.io/Acme/shop:{commit}");
      assertThat(bad.code()).isEqualTo(2);
      assertThat(bad.err()).contains("preview: the configuration is invalid",
          "--image: unknown placeholder {commit} (known: sha, shortSha, number, branch, repo, owner)");
      Result invalid = preview("up", "--config", f.toString(), "--pr", "3", "--sha", SHA1, "--image", "ghcr.io/Acme/shop:{sha}");
      assertThat(invalid.code()).isEqualTo(2);
      assertThat(invalid.err()).contains("--image: gives \"ghcr.io/Acme/shop:", "not a valid image reference");
      assertThat(lease(hosts)).contains("\"image\":\"ghcr.io/acme/shop:latest\""); // nothing deployed
    } finally {
      host.stop(0);
    }
  }

  private static String lease(Path hosts) throws IOException {
    try (var files = Files.walk(hosts)) {
      Path lease = files.filter(p -> p.getFileName().toString().equals("lease.json")).findFirst().orElseThrow();
      return Files.readString(lease);
    }
  }

  private static String get(URI url) throws InterruptedException {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return "no answer: " + e;
    }
  }
}
