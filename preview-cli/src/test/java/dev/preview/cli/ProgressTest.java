package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private static final PreviewKey KEY = PreviewKey.pr("acme/shop", 1);

  @Test
  void printsEachFinishedStepWithItsTimingAndEachTransition() {
    List<String> lines = new CopyOnWriteArrayList<>();
    try (Progress p = Progress.plain(lines::add)) {
      p.onStepStarted(KEY, "environment");
      p.onStepFinished(KEY, "environment", Duration.ofMillis(812), null);
      p.onStepFinished(KEY, "readiness", Duration.ofSeconds(61), new IllegalStateException("not healthy\nat line 2"));
      p.onTransition(KEY, PreviewState.READY, "http://127.0.0.1:1/");
    }
    assertThat(lines).containsExactly(
        "  [acme/shop#1] environment               812 ms",
        "  [acme/shop#1] readiness                 1m 01s  FAILED: not healthy ...",
        "  [acme/shop#1] -> READY http://127.0.0.1:1/");
  }

  @Test
  void onATerminalASpinnerShowsRunningStepsAndIsErasedBeforeAnyOutput() {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    StatusLine status = new StatusLine(new PrintStream(raw, true, StandardCharsets.UTF_8), true);
    PrintStream out = status.printStream();
    try (Progress p = new Progress(out::println, status)) {
      p.onStepStarted(KEY, "readiness");
      await().atMost(Duration.ofSeconds(5)).until(() -> raw.toString(StandardCharsets.UTF_8).contains("acme/shop#1 readiness"));
      p.onStepFinished(KEY, "readiness", Duration.ofMillis(300), null);
    }
    String s = raw.toString(StandardCharsets.UTF_8);
    assertThat(s).containsPattern("\r  [|/\\\\-] acme/shop#1 readiness \\d+ ms\u001b\\[K");
    // the status line is erased before the finished line is printed, and at the end
    assertThat(s).contains("\r\u001b[K  [acme/shop#1] readiness");
    assertThat(s).endsWith("300 ms" + System.lineSeparator());
  }

  @Test
  void withoutATerminalTheStatusLineIsAPassThrough() {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    StatusLine status = new StatusLine(new PrintStream(raw, true, StandardCharsets.UTF_8), false);
    status.show("spinner");
    PrintStream out = status.printStream();
    out.print("half a line");
    status.show("spinner");
    out.println(" done");
    assertThat(raw.toString(StandardCharsets.UTF_8)).isEqualTo("half a line done" + System.lineSeparator());
  }

  @Test
  void theStatusIsNeverDrawnInTheMiddleOfALine() {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    StatusLine status = new StatusLine(new PrintStream(raw, true, StandardCharsets.UTF_8), true);
    PrintStream out = status.printStream();
    out.print("half");
    status.show("spinner");
    out.println(" line");
    status.show("spinner");
    assertThat(raw.toString(StandardCharsets.UTF_8)).isEqualTo("half line" + System.lineSeparator() + "\rspinner\u001b[K");
  }
}
