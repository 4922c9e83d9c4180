package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged {@code preview-cli/target/preview.jar}, run as users run it ({@code java -jar preview.jar ...}).
 * An IT because it needs the jar, which exists only after the package phase; it needs no server.
 */
class PreviewJarIT {
  private static final Path JAR = Path.of("target", "preview.jar");

  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private Run run(String... args) throws IOException, InterruptedException {
    assertThat(JAR).as("run mvn package first").exists();
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-jar",
        JAR.toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process p = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("preview %s finished in time", List.of(args)).isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void theJarRunsTheDemoToExitZero() throws Exception {
    Run r = run("demo");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("checks: " + DemoCommandTest.CHECKS + " passed, 0 failed").endsWith("demo OK" + System.lineSeparator());
    // the shaded jar carries the SQLite driver to the apps and signs/verifies the webhooks
    assertThat(r.out()).containsPattern("check: acme/shop#2 page shows the 3 baseline rows of its own database \\S+ \\.\\.\\. ok")
        .contains("check: PR 2's page does not show it (its database is its own), only the baseline rows ... ok",
            "check: PR 1's greeting survived the redeploy (same database) ... ok",
            "check: the webhook server answers 401 to a bad X-Hub-Signature-256 ... ok",
            "check: the database files are gone ... ok");
    // a pipe is not a terminal: no cursor movement, no spinner
    assertThat(r.out()).doesNotContain("\u001b[");
  }

  @Test
  void upListAndDownThroughTheJarFindTheProvidersByServiceLoader() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path yaml = dir.resolve("preview.yaml");
    Files.writeString(yaml, String.join("\n",
        "repository: acme/shop",
        "app:",
        "  command: ['" + java + "', -cp, '" + JAR.toAbsolutePath() + "', dev.preview.examples.sample.SampleApp]",
        "  readiness: {timeout: 60s, interval: 100ms}",
        "environment:",
        "  provider: local",
        "  stateDir: '" + dir.resolve("state") + "'",
        "scm:",
        "  provider: console",
        ""));
    String sha = "0123456789abcdef0123456789abcdef01234567";
    Run up = run("up", "--config", yaml.toString(), "--pr", "5", "--sha", sha);
    try {
      assertThat(up.code()).as(up.out() + up.err()).isZero();
      assertThat(up.out()).containsPattern("acme/shop#5 is READY at http://127\\.0\\.0\\.1:\\d+/ \\(revision 0123456");
      Run list = run("list", "--config", yaml.toString());
      assertThat(list.out()).containsPattern("acme/shop#5 +READY +0123456");
    } finally {
      Run down = run("down", "--config", yaml.toString(), "--pr", "5");
      assertThat(down.code()).as(down.out() + down.err()).isZero();
    }
    assertThat(run("list", "--config", yaml.toString()).out()).contains("no previews");
  }

  @Test
  void theJarKnowsItsVersionAndItsCommands() throws Exception {
    Run version = run("--version");
    assertThat(version.code()).isZero();
    assertThat(version.out()).startsWith("preview 0.1.0");
    Run help = run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("up", "down", "list", "reconcile", "demo", "serve");
    Run none = run();
    assertThat(none.code()).isEqualTo(2);
    Run unknown = run("frobnicate");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("frobnicate");
  }
}
