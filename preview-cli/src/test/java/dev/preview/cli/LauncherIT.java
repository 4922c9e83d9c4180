package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher script of the distribution ({@code src/main/dist/preview}) as a user installs it, next
 * to the jar: it makes the class data sharing archive, runs commands with it, and a stale archive (of
 * another jar) never stops a command. {@code StartupHarnessIT} measures what it gains.
 */
class LauncherIT {
  @TempDir Path dir;

  record Result(int code, String out) {}

  private Result run(Path launcher, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("sh", launcher.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("GITHUB_") || k.startsWith("CI_") || k.startsWith("PREVIEW_"));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  private Path install(String name) throws Exception {
    Path bin = Files.createDirectories(dir.resolve(name));
    Files.copy(Path.of("target/preview.jar"), bin.resolve("preview.jar"));
    Files.copy(Path.of("src/main/dist/preview"), bin.resolve("preview"));
    return bin.resolve("preview");
  }

  @Test
  void theLauncherMakesItsArchiveAndRunsCommandsWithItAndWithAStaleOne() throws Exception {
    Path launcher = install("bin");
    Files.writeString(dir.resolve("preview.yaml"), "app: {command: ['true']}\nenvironment: {provider: local, stateDir: '"
        + dir.resolve("state") + "'}\n");

    Result cds = run(launcher, "cds-archive");
    assertThat(cds.code()).as(cds.out()).isZero();
    assertThat(cds.out()).contains("wrote " + dir.resolve("bin/preview.jsa"));
    assertThat(dir.resolve("bin/preview.jsa")).isNotEmptyFile();

    Result valid = run(launcher, "validate");
    assertThat(valid.code()).as(valid.out()).isZero();
    assertThat(valid.out()).contains("preview.yaml: valid").doesNotContain("cds", "CDS", "warning");
    Files.writeString(dir.resolve("preview.yaml"), "app: {command: ['true'], helthPath: /x}\n");
    Result typo = run(launcher, "validate");
    assertThat(typo.code()).as(typo.out()).isEqualTo(2);
    assertThat(typo.out()).contains("app.helthPath: unknown key");

    // An archive that no longer matches its jar (an upgrade that kept the old .jsa; the JVM checks the
    // jar's size and time): ignored, not an error.
    Path other = install("other");
    Files.copy(dir.resolve("bin/preview.jsa"), dir.resolve("other/preview.jsa"));
    Files.setLastModifiedTime(dir.resolve("other/preview.jar"), java.nio.file.attribute.FileTime.fromMillis(0));
    Result stale = run(other, "--help");
    assertThat(stale.code()).as(stale.out()).isZero();
    assertThat(stale.out()).contains("Usage: preview").doesNotContain("Error", "error occurred");
  }
}
