package dev.preview.core.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.Secret;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class ConsoleNotifierTest {
  private static final PreviewKey PR1 = PreviewKey.pr("acme/shop", 1);
  private static final PreviewKey PR2 = PreviewKey.pr("acme/shop", 2);
  private static final Instant T = Instant.parse("2026-11-22T16:00:00Z");
  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private String printed() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static PreviewStatus ready(PreviewKey key, String sha) {
    Map<String, Duration> steps = new LinkedHashMap<>();
    steps.put("environment", Duration.ofMillis(812));
    steps.put("readiness", Duration.ofMillis(1450));
    return new PreviewStatus(key, PreviewState.READY, sha, URI.create("http://127.0.0.1:41234/"),
        Map.of("docs", URI.create("http://127.0.0.1:41234/docs")), null, null, null, steps, T);
  }

  @Test
  void printsTheCommentAsThePrWouldShowItWithoutTheMarker() {
    ConsoleNotifier n = ConsoleNotifier.builder().out(out).ansi(false).build();
    n.publish(ready(PR1, SHA));

    assertThat(printed()).isEqualTo(String.join(System.lineSeparator(),
        "PR acme/shop#1 - status comment (created, version 1, 16:00:00Z)",
        "  | ### [ok] Preview ready: acme/shop#1",
        "  | - URL: http://127.0.0.1:41234/",
        "  | - Revision: `0123456`",
        "  | - Links: [docs](http://127.0.0.1:41234/docs)",
        "  | - Steps: environment 812 ms, readiness 1.5 s",
        ""));
    assertThat(n.comment(PR1)).get().asString().startsWith("<!-- preview.dev:acme/shop#1 -->\n### [ok]");
  }

  @Test
  void updatesOneCommentPerPrAndIgnoresAnUnchangedStatus() {
    ConsoleNotifier n = ConsoleNotifier.builder().out(out).ansi(false).build();
    n.publish(new PreviewStatus(PR1, PreviewState.PROVISIONING, SHA, null, null, null, null, null, null, T));
    n.publish(ready(PR1, SHA));
    n.publish(ready(PR1, SHA)); // same content: nothing printed
    n.publish(ready(PR2, SHA));
    n.publish(ready(PR1, "fedcba9876543210"));

    assertThat(printed().lines().filter(l -> l.startsWith("PR ")).toList()).containsExactly(
        "PR acme/shop#1 - status comment (created, version 1, 16:00:00Z)",
        "PR acme/shop#1 - status comment (updated, version 2, 16:00:00Z)",
        "PR acme/shop#2 - status comment (created, version 1, 16:00:00Z)",
        "PR acme/shop#1 - status comment (updated, version 3, 16:00:00Z)");
    assertThat(n.version(PR1)).isEqualTo(3);
    assertThat(n.comment(PR1)).get().asString().contains("`fedcba9`").doesNotContain("0123456");
    assertThat(printed()).doesNotContain("\u001b[");
  }

  @Test
  void onATerminalOverwritesItsOwnPreviousBlockOnly() {
    ConsoleNotifier n = ConsoleNotifier.builder().out(out).ansi(true).build();
    n.publish(new PreviewStatus(PR1, PreviewState.PROVISIONING, SHA, null, null, null, null, null, null, T));
    assertThat(printed()).doesNotContain("\u001b[");
    n.publish(ready(PR1, SHA));
    // the first block had 3 lines (header, title, revision): move up 3 and clear
    assertThat(printed()).contains("\u001b[3F\u001b[J" + "PR acme/shop#1 - status comment (updated, version 2");
    int before = printed().split("\u001b\\[", -1).length;
    n.publish(ready(PR2, SHA)); // another PR's block is printed below, not over PR 1's
    assertThat(printed().split("\u001b\\[", -1).length).isEqualTo(before);
    n.publish(ready(PR2, "fedcba9876543210"));
    int afterOverwrite = printed().split("\u001b\\[", -1).length;
    assertThat(afterOverwrite).isGreaterThan(before);
    n.println("other output");
    n.publish(ready(PR2, "0123456789abcdef")); // not drawn over the other output
    assertThat(printed().split("\u001b\\[", -1).length).isEqualTo(afterOverwrite);
    assertThat(printed()).endsWith("other output" + System.lineSeparator()
        + "PR acme/shop#2 - status comment (updated, version 3, 16:00:00Z)" + System.lineSeparator()
        + String.join(System.lineSeparator(), n.comment(PR2).orElseThrow().lines().skip(1).map(l -> "  | " + l).toList())
        + System.lineSeparator());
  }

  @Test
  void aFailedStatusShowsTheStepTheReasonAndTheLastLogLinesWithoutControlCharacters() {
    ConsoleNotifier n = ConsoleNotifier.builder().out(out).ansi(false).build();
    n.publish(new PreviewStatus(PR1, PreviewState.FAILED, SHA, null, null,
        "health check /health did not answer 2xx within 2m", "readiness",
        List.of("Exception in thread main", "\u001b[2J\u001b[31mred", "```"), null, T));

    assertThat(printed()).contains(
        "  | ### [!!] Preview failed: acme/shop#1",
        "  | - Failed step: readiness",
        "  | - Reason: health check /health did not answer 2xx within 2m",
        "  | ```" + System.lineSeparator() + "  | Exception in thread main" + System.lineSeparator()
            + "  | [2J[31mred" + System.lineSeparator() + "  | '''" + System.lineSeparator() + "  | ```");
    assertThat(printed()).doesNotContain("\u001b");
  }

  @Test
  void neverPrintsASecretOfTheSpecTheStatusWasBuiltFrom() {
    EnvironmentSpec spec = EnvironmentSpec.builder(PR1, SHA).command(List.of("app"))
        .env("MODE", "preview").secret("DB_PASSWORD", Secret.of("hunter2-very-secret")).build();
    PreviewStatus status = new PreviewStatus(spec.key(), PreviewState.FAILED, spec.revision(),
        URI.create("http://127.0.0.1:1/"), null, "cannot start " + spec, "environment",
        List.of("env: " + spec.secrets()), null, T);
    ConsoleNotifier n = ConsoleNotifier.builder().out(out).ansi(false).build();
    n.publish(status);
    assertThat(printed()).contains("DB_PASSWORD").doesNotContain("hunter2-very-secret");
  }

  @Test
  void theFactoryIsFoundByNameAndValidatesItsConfig() {
    ScmNotifier.Factory f = ServiceLoader.load(ScmNotifier.Factory.class).stream().map(ServiceLoader.Provider::get)
        .filter(x -> x.name().equals("console")).findFirst().orElseThrow();
    assertThat(f.create(ProviderContext.of(ProviderConfig.of("notifier", Map.of("provider", "console", "inPlace", "never")))))
        .isInstanceOf(ConsoleNotifier.class).hasToString("ConsoleNotifier{ansi=false}");
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("notifier", Map.of("inPlace", "sometimes", "colour", "yes")))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("notifier.inPlace: must be one of auto, always, never")
        .hasMessageContaining("notifier.colour: unknown key");
  }

  @Test
  void formatsDurations() {
    assertThat(ConsoleNotifier.format(Duration.ofMillis(5))).isEqualTo("5 ms");
    assertThat(ConsoleNotifier.format(Duration.ofMillis(12_340))).isEqualTo("12.3 s");
    assertThat(ConsoleNotifier.format(Duration.ofSeconds(125))).isEqualTo("2m 05s");
  }
}
