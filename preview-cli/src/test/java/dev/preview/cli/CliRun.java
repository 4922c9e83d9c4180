package dev.preview.cli;

import dev.preview.examples.demo.PreviewDemo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** In-process runs of the {@code preview} command line, and the pieces of {@code preview.yaml} its tests write again and again. */
final class CliRun {
  private CliRun() {}

  /** What one run printed and its exit code. */
  record Result(int code, String out, String err) {
    String all() {
      return out + err;
    }
  }

  /** {@code preview args...} with this process's environment. */
  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = PreviewCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** {@code preview args...} with the environment {@code env} (for instance {@link TestEnv#withoutCi()}). */
  static Result run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = PreviewCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env);
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A YAML flow list of single-quoted strings: {@code ['a', 'it''s']}. */
  static String yamlList(List<String> items) {
    return items.stream().map(s -> "'" + s.replace("'", "''") + "'").collect(Collectors.joining(", ", "[", "]"));
  }

  /** {@code app.command} that starts the demo's sample app, as a YAML flow list. */
  static String sampleAppCommand() {
    return yamlList(PreviewDemo.sampleAppCommand());
  }

  /** The {@code environment} section of the {@code local} provider, its state and work directories under {@code dir} (four lines). */
  static String localEnvironment(Path dir) {
    return String.join("\n",
        "environment:",
        "  provider: local",
        "  stateDir: '" + dir.resolve("state") + "'",
        "  workDir: '" + dir + "'");
  }
}
