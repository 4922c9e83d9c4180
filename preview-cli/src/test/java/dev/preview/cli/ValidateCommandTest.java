package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code preview validate} on broken files: every problem at once, with its path, exit code 2; 0 when valid. */
class ValidateCommandTest {
  @TempDir Path dir;

  private Result validate(String yaml) throws Exception {
    Path f = dir.resolve("preview.yaml");
    Files.writeString(f, yaml);
    return run(TestEnv.withoutCi(), "validate", "-c", f.toString());
  }

  static Result run(Map<String, String> env, String... args) {
    return CliRun.run(env, args);
  }

  @Test
  void aValidFileExitsZeroAndSaysWhatItUses() throws Exception {
    Result r = validate("app: {command: [java, -jar, app.jar]}\n");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("preview.yaml: valid (environment local, scm console)");
  }

  @Test
  void aTabIsNamedAsTheProblemWithTheParsersWholeExplanation() throws Exception {
    Result r = validate("app:\n  command: [java]\n\thealthPath: /health\n");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("preview.yaml line 3, column 1: a tab character indents this line;"
        + " YAML indents with spaces only: replace the tab with spaces");
    // the parser's explanation in full (the core keeps its first line only)
    assertThat(r.err()).contains("invalid YAML: while scanning for the next token | found character '\\t(TAB)'"
        + " that cannot start any token. (Do not use \\t(TAB) for indentation)");
  }

  @Test
  void anUnclosedBracketGivesLineColumnAndWhatWasExpected() throws Exception {
    Result r = validate("app:\n  command: [java, -jar\nscm: {provider: console}\n");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).containsPattern("preview\\.yaml line \\d+, column \\d+: invalid YAML: while parsing a flow sequence")
        .contains("expected ',' or ']'");
  }

  @Test
  void aDuplicateKeyIsNamed() throws Exception {
    Result r = validate("app:\n  command: [java]\n  port: 8080\n  port: 9090\n");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("preview.yaml line 4, column", "Duplicate field 'port'");
  }

  @Test
  void anUnknownKeyAndABadDurationHaveTheirPaths() throws Exception {
    Result r = validate("app:\n  command: [java]\n  helthPath: /health\npolicy:\n  ttl: 3 days\n");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("2 problems", "app.helthPath: unknown key", "policy.ttl:");
  }

  @Test
  void fiveMistakesAtOnceAreFiveProblems() throws Exception {
    Result r = validate(String.join("\n",
        "app:",
        "  command: [java]",
        "  port: 70000",
        "environment:",
        "  provider: local",
        "  stopTimeout: soon",
        "  colour: blue",
        "scm:",
        "  provider: console",
        "  inPlace: sometimes",
        "policy:",
        "  forks: maybe",
        ""));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("preview.yaml: 5 problems:", "app.port: must be 1-65535, got 70000",
        "environment.stopTimeout:", "environment.colour: unknown key", "scm.inPlace: must be one of auto, always, never",
        "policy.forks:");
  }

  @Test
  void withoutCTheFileOfTheCurrentDirectoryIsMeantAndItsAbsenceSaysHowToFixIt() {
    Result r = run(TestEnv.withoutCi(), "validate");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--config: no such file: " + Path.of("preview.yaml").toAbsolutePath(),
        "(the default; give -c FILE, or write one with preview init)");
  }
}
