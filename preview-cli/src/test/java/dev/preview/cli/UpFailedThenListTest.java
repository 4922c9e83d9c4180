package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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

  private static Result preview(String... args) {
    return CliRun.run(TestEnv.withoutCi(), args);
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
        "  command: " + CliRun.sampleAppCommand(),
        "  healthPath: /no-such-health",
        "  readiness:",
        "    timeout: 3s",
        "    interval: 100ms",
        CliRun.localEnvironment(dir),
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
