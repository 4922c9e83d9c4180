package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.examples.demo.PreviewDemo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: {@code preview up} said FAILED (the health path answers 404) and {@code preview list}, a
 * new process as far as the local provider knows, showed the preview READY. Now the failed revision
 * is stopped and marked, and {@code list} says FAILED.
 */
class UpFailedThenListTest {
  private static final String SHA = "aaaa1111bbbb2222cccc3333dddd4444eeee5555";

  @TempDir Path dir;
  private Path config;

  private record Result(int code, String out, String err) {}

  private Result preview(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = PreviewCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), TestEnv.withoutCi());
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @AfterEach
  void down() {
    if (config != null) {
      preview("down", "--config", config.toString(), "--pr", "1");
    }
  }

  @Test
  void aPreviewWhoseHealthCheckAnswers404IsListedFailedAfterUpSaidFailed() throws Exception {
    config = dir.resolve("preview.yaml");
    Files.writeString(config, String.join("\n",
        "repository: acme/shop",
        "app:",
        "  command: " + PreviewDemo.sampleAppCommand().stream().map(s -> "'" + s.replace("'", "''") + "'")
            .collect(Collectors.joining(", ", "[", "]")),
        "  healthPath: /no-such-health",
        "  readiness:",
        "    timeout: 3s",
        "    interval: 100ms",
        "environment:",
        "  provider: local",
        "  stateDir: '" + dir.resolve("state") + "'",
        "  workDir: '" + dir + "'",
        "scm:",
        "  provider: console",
        "  inPlace: never",
        ""));

    Result up = preview("up", "--config", config.toString(), "--pr", "1", "--sha", SHA);

    assertThat(up.code()).as(up.out() + up.err()).isNotZero();
    assertThat(up.out() + up.err()).contains("GET /no-such-health answered 404 Not Found (expected 2xx)")
        .contains("stopped aaaa111");
    Result list = preview("list", "--config", config.toString());
    assertThat(list.code()).as(list.out() + list.err()).isZero();
    assertThat(list.out()).containsPattern("acme/shop#1 +FAILED +aaaa111").doesNotContain("READY");
  }
}
