package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ready-made pipelines of the repository ({@code action.yml}, {@code ci/github/preview.yml},
 * {@code ci/gitlab/preview.gitlab-ci.yml}), since neither CI can run here: parsed, checked for the
 * structure the docs promise, and the {@code preview ...} line of each step run in-process, with the
 * step's expressions and variables substituted, against a recorded event of that CI.
 */
class CiTemplatesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern GITHUB_EXPR = Pattern.compile("\\$\\{\\{\\s*([^}]*?)\\s*}}");
  private static final Pattern SHELL_VAR = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)}?");

  @TempDir Path checkout;
  private Path config;

  @BeforeEach
  void writeConfig() throws IOException {
    config = checkout.resolve("preview.yaml");
    Files.writeString(config, String.join("\n",
        "app:",
        "  command: " + CliRun.sampleAppCommand(),
        "  healthPath: /health",
        "  readiness: {timeout: 60s, interval: 100ms}",
        CliRun.localEnvironment(checkout),
        "scm: {provider: console, inPlace: never}",
        ""));
  }

  @AfterEach
  void removeLeftovers() {
    preview(TestEnv.withoutCi(), List.of("down", "-c", config.toString(), "--repo", "acme/shop", "--pr", "7"));
  }

  static JsonNode yaml(String path) throws IOException {
    return YAML.readTree(Files.readString(DocumentedRoot.root().resolve(path)));
  }

  @Test
  void theWorkflowRunsTheActionOnEveryPullRequestEventWithOneGroupPerPr() throws Exception {
    JsonNode wf = yaml("ci/github/preview.yml");
    List<String> types = new ArrayList<>();
    wf.path("on").path("pull_request").path("types").forEach(t -> types.add(t.asText()));
    assertThat(types).contains("opened", "synchronize", "reopened", "closed", "labeled");
    assertThat(wf.path("concurrency").path("group").asText()).contains("${{ github.event.pull_request.number }}");
    assertThat(wf.path("concurrency").path("cancel-in-progress").asBoolean(true)).as("never cancelled halfway").isFalse();
    JsonNode steps = wf.path("jobs").path("preview").path("steps");
    JsonNode action = null;
    for (JsonNode s : steps) {
      if (s.path("uses").asText().matches("[\\w-]+/preview@.+")) {
        action = s;
      }
    }
    assertThat(action).as("a step uses this repository's action").isNotNull();
    assertThat(action.path("env").path("GITHUB_TOKEN").asText()).isEqualTo("${{ secrets.GITHUB_TOKEN }}");
    for (String event : List.of("opened", "synchronize", "labeled", "closed", "reopened", "closed-merged")) {
      String action1 = YAML.readTree(Files.readString(Path.of(getClass().getResource("/ci/github/pull_request-" + event
          + ".json").toURI()))).path("action").asText();
      assertThat(types).as("the workflow is triggered by " + event).contains(action1);
    }

    // the action's steps, with the workflow's inputs, against recorded events in order
    JsonNode act = yaml("action.yml");
    assertThat(act.path("runs").path("using").asText()).isEqualTo("composite");
    Map<String, String> inputs = new HashMap<>();
    act.path("inputs").fields().forEachRemaining(e -> inputs.put(e.getKey(), e.getValue().path("default").asText("")));
    action.path("with").fields().forEachRemaining(e -> inputs.put(e.getKey(), e.getValue().asText()));
    List<List<String>> invocations = new ArrayList<>();
    for (JsonNode s : act.path("runs").path("steps")) {
      if (s.has("run")) {
        assertThat(s.path("shell").asText()).as("composite run steps name their shell").isEqualTo("bash");
        invocations.addAll(previewLines(s.path("run").asText(), expr -> {
          assertThat(expr).startsWith("inputs.");
          return inputs.get(expr.substring("inputs.".length()));
        }, Map.of()));
      }
    }
    assertThat(invocations).hasSize(1);
    assertThat(invocations.get(0)).startsWith("preview", "ci");

    Result opened = runAll(invocations, CiCommandTest.github("opened"));
    assertThat(opened.code()).as(opened.all()).isZero();
    assertThat(opened.out()).contains("preview ci (github pull_request opened): acme/shop#7 at", "acme/shop#7 is READY at");
    Result push = runAll(invocations, CiCommandTest.github("synchronize"));
    assertThat(push.out()).contains("acme/shop#7 is READY at", "revision 1234567");
    Result closed = runAll(invocations, CiCommandTest.github("closed"));
    assertThat(closed.code()).as(closed.all()).isZero();
    assertThat(closed.out()).contains("acme/shop#7 is removed");
  }

  @Test
  void theGitLabTemplateDeploysInMergeRequestPipelinesAndItsStopJobRemoves() throws Exception {
    JsonNode t = yaml("ci/gitlab/preview.gitlab-ci.yml");
    JsonNode job = t.path("preview");
    JsonNode environment = job.path("environment");
    assertThat(environment.path("name").asText()).contains("$CI_MERGE_REQUEST_IID");
    assertThat(environment.path("url").asText()).isEqualTo("$PREVIEW_URL");
    assertThat(environment.path("auto_stop_in").asText()).isNotBlank();
    String stopName = environment.path("on_stop").asText();
    JsonNode stop = t.path(stopName);
    assertThat(stop.isObject()).as("the on_stop job " + stopName + " exists").isTrue();
    assertThat(stop.path("environment").path("name").asText()).isEqualTo(environment.path("name").asText());
    assertThat(stop.path("environment").path("action").asText()).isEqualTo("stop");
    assertThat(job.path("artifacts").path("reports").path("dotenv").asText()).isEqualTo("preview.env");
    assertThat(t.path(".preview").path("rules").get(0).path("if").asText()).contains("merge_request_event");

    Map<String, String> variables = new HashMap<>();
    t.path("variables").fields().forEachRemaining(e -> variables.put(e.getKey(), e.getValue().asText()));

    List<List<String>> deploy = jobLines(t, job, variables);
    assertThat(deploy).hasSize(1);
    Map<String, String> opened = TestEnv.gitlab("opened");
    opened.putAll(variables);
    Result up = runAll(deploy, opened);
    assertThat(up.code()).as(up.all()).isZero();
    assertThat(up.out()).contains("preview ci (gitlab detached pipeline): acme/shop#7 at", "acme/shop#7 is READY at");
    String dotenv = Files.readString(checkout.resolve(job.path("artifacts").path("reports").path("dotenv").asText()));
    assertThat(dotenv).matches("(?s)PREVIEW_URL=http://127\\.0\\.0\\.1:\\d+/\nPREVIEW_STATE=READY\n");

    // the stop job of the same pipeline: GitLab sets CI_ENVIRONMENT_ACTION from its environment:action
    Map<String, String> stopEnv = TestEnv.gitlab("opened");
    stopEnv.putAll(variables);
    stopEnv.put("CI_JOB_NAME", stopName);
    stopEnv.put("CI_ENVIRONMENT_ACTION", stop.path("environment").path("action").asText());
    Result down = runAll(jobLines(t, stop, variables), stopEnv);
    assertThat(down.code()).as(down.all()).isZero();
    assertThat(down.out()).contains("preview ci (gitlab environment stop): acme/shop#7 down", "acme/shop#7 is removed");
  }

  /** The {@code preview} lines of a GitLab job's before_script and script (its {@code extends} followed). */
  private List<List<String>> jobLines(JsonNode template, JsonNode job, Map<String, String> variables) {
    List<List<String>> out = new ArrayList<>();
    JsonNode base = job.has("extends") ? template.path(job.path("extends").asText()) : null;
    for (String key : List.of("before_script", "script")) {
      JsonNode lines = job.has(key) ? job.path(key) : base == null ? null : base.path(key);
      if (lines != null) {
        lines.forEach(l -> out.addAll(previewLines(l.asText(), e -> {
          throw new AssertionError("no ${{ }} expressions in GitLab: " + e);
        }, variables)));
      }
    }
    return out;
  }

  /**
   * The command lines of {@code script} that run {@code preview}, split like a shell does for the
   * quoting used there: {@code ${{ expr }}} replaced first (as Actions does), then {@code $VAR}
   * inside double quotes or bare; paths after {@code --config}/{@code -c}/{@code --dotenv} are
   * relative to the checkout.
   */
  private List<List<String>> previewLines(String script, Function<String, String> expressions, Map<String, String> vars) {
    List<List<String>> out = new ArrayList<>();
    for (String raw : script.split("\n")) {
      String line = raw.strip();
      if (!line.startsWith("preview ")) {
        continue;
      }
      Matcher m = GITHUB_EXPR.matcher(line);
      StringBuilder sb = new StringBuilder();
      while (m.find()) {
        m.appendReplacement(sb, Matcher.quoteReplacement(expressions.apply(m.group(1))));
      }
      m.appendTail(sb);
      List<String> words = words(sb.toString(), vars);
      for (int i = 0; i < words.size() - 1; i++) {
        if (List.of("--config", "-c", "--dotenv").contains(words.get(i))) {
          words.set(i + 1, checkout.resolve(words.get(i + 1)).toString());
        }
      }
      out.add(words);
    }
    return out;
  }

  private static List<String> words(String line, Map<String, String> vars) {
    List<String> words = new ArrayList<>();
    StringBuilder w = null;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        int end = line.indexOf('"', i + 1);
        assertThat(end).as("closed quote in " + line).isPositive();
        w = w == null ? new StringBuilder() : w;
        w.append(expand(line.substring(i + 1, end), vars));
        i = end;
      } else if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        w = w == null ? new StringBuilder() : w;
        w.append(line, i + 1, end);
        i = end;
      } else if (Character.isWhitespace(c)) {
        if (w != null) {
          words.add(w.toString());
          w = null;
        }
      } else {
        int end = i;
        while (end < line.length() && !Character.isWhitespace(line.charAt(end)) && line.charAt(end) != '"') {
          end++;
        }
        String bare = expand(line.substring(i, end), vars);
        w = w == null ? new StringBuilder() : w;
        w.append(bare);
        i = end - 1;
      }
    }
    if (w != null) {
      words.add(w.toString());
    }
    return words;
  }

  private static String expand(String s, Map<String, String> vars) {
    Matcher m = SHELL_VAR.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = vars.get(m.group(1));
      assertThat(v).as("variable " + m.group(1) + " is set by the template").isNotNull();
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private Result runAll(List<List<String>> invocations, Map<String, String> env) {
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    int code = 0;
    for (List<String> words : invocations) {
      assertThat(words.get(0)).isEqualTo("preview");
      Result r = preview(env, words.subList(1, words.size()));
      out.append(r.out());
      err.append(r.err());
      code = Math.max(code, r.code());
    }
    return new Result(code, out.toString(), err.toString());
  }

  private static Result preview(Map<String, String> env, List<String> args) {
    return CliRun.run(env, args.toArray(String[]::new));
  }
}
