package dev.preview.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.console.ConsoleNotifier;
import dev.preview.examples.cli.PreviewCli;
import dev.preview.examples.cli.Progress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PreviewDemoTest {

  @Test
  void theDemoRunsTheWholeLifecycleAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long before = ProcessHandle.current().descendants().count();

    int code = PreviewCli.run(new String[] {"demo"}, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));

    String printed = out.toString(StandardCharsets.UTF_8);
    System.out.println(printed);
    assertThat(code).as(printed + err).isZero();
    assertThat(printed)
        .contains("== 1. PR 1 and PR 2 opened (in parallel)", "== 2. PR 1 pushed", "== 3. PR 1 and PR 2 closed")
        .containsPattern("\\[acme/shop#1] environment +\\d")
        .containsPattern("\\[acme/shop#2] readiness +\\d")
        .containsPattern("\\[acme/shop#1] teardown.environment +\\d")
        .containsPattern("open PR 1 \\+ PR 2 \\(parallel\\) +[\\d.]+ m?s")
        .containsPattern("push PR 1 +[\\d.]+ m?s")
        .contains("PR acme/shop#1 - status comment (created, version 1")
        .contains("### [ok] Preview ready: acme/shop#2")
        .contains("### [xx] Preview deleted: acme/shop#1")
        .contains("check: the state directory is empty ... ok")
        .contains("check: no process started by the demo is left ... ok")
        .doesNotContain("FAILED")
        .endsWith("demo OK" + System.lineSeparator());
    // PR 1 had two URLs (before and after its push), PR 2 one: all distinct
    Matcher m = Pattern.compile("acme/shop#1: (http://127\\.0\\.0\\.1:\\d+/) -> (http://127\\.0\\.0\\.1:\\d+/) \\(removed\\)").matcher(printed);
    assertThat(m.find()).as(printed).isTrue();
    Matcher m2 = Pattern.compile("acme/shop#2: (http://127\\.0\\.0\\.1:\\d+/) \\(removed\\)").matcher(printed);
    assertThat(m2.find()).as(printed).isTrue();
    assertThat(List.of(m.group(1), m.group(2), m2.group(1))).doesNotHaveDuplicates();
    assertThat(ProcessHandle.current().descendants().count()).isLessThanOrEqualTo(before);
  }

  @Test
  void aDemoWhoseAppCannotStartExitsOneAndSaysWhatFailed() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ConsoleNotifier console = ConsoleNotifier.builder().out(new PrintStream(out, true, StandardCharsets.UTF_8))
        .ansi(false).build();

    int code = PreviewDemo.builder().console(console).progress(c -> Progress.plain(c::println))
        .appCommand(List.of("sh", "-c", "echo 'sample app: missing config' >&2; exit 3")).build().run();

    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isEqualTo(1);
    assertThat(printed)
        .contains("check: acme/shop#1 is READY at null ... FAILED (state FAILED at step environment")
        .contains("exited at once with code 3")
        .contains("sample app: missing config")
        .contains("### [!!] Preview failed: acme/shop#1")
        .contains("demo FAILED:")
        .contains("check: the state directory is empty ... ok");
  }
}
