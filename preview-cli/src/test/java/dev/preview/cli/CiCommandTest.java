package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.examples.demo.PreviewDemo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code preview ci} (and {@code up}/{@code down} in a CI) driven by recorded GitHub {@code pull_request}
 * event payloads and GitLab CI variable sets, against the local provider running the sample app. The
 * app's command records the value of the secret it was given, so a test sees whether a fork got it.
 */
class CiCommandTest {
  private static final String SHA1 = "aaaa1111bbbb2222cccc3333dddd4444eeee5555";
  private static final String SHA2 = "1234567890abcdef1234567890abcdef12345678";
  private static final String TOKEN = "ci-test-secret-value-7c1";

  @TempDir Path dir;
  private Path config;
  private Path seen;

  @BeforeEach
  void writeConfig() throws IOException {
    seen = dir.resolve("seen-secret.txt");
    List<String> command = new ArrayList<>(List.of("sh", "-c", "printenv API_TOKEN > \"$SEEN_FILE\"; exec \"$0\" \"$@\""));
    command.addAll(PreviewDemo.sampleAppCommand());
    config = dir.resolve("preview.yaml");
    Files.writeString(config, String.join("\n",
        "repository: other/default",
        "app:",
        "  command: " + CliRun.yamlList(command),
        "  healthPath: /health",
        "  env: {SEEN_FILE: '" + seen + "'}",
        "  secrets: {API_TOKEN: " + TOKEN + "}",
        "  readiness: {timeout: 60s, interval: 100ms}",
        CliRun.localEnvironment(dir),
        "scm:",
        "  provider: console",
        "  inPlace: never",
        ""));
  }

  @AfterEach
  void removeLeftovers() {
    for (String pr : List.of("7", "8", "9")) {
      run(TestEnv.withoutCi(), "down", "-c", config.toString(), "--repo", "acme/shop", "--pr", pr);
    }
  }

  private static Result run(Map<String, String> env, String... args) {
    return CliRun.run(env, args);
  }

  /** The environment of a GitHub Actions job for the recorded event {@code ci/github/pull_request-NAME.json}. */
  static Map<String, String> github(String name) throws Exception {
    Map<String, String> env = TestEnv.withoutCi();
    Path payload = Path.of(CiCommandTest.class.getResource("/ci/github/pull_request-" + name + ".json").toURI());
    env.put("CI", "true");
    env.put("GITHUB_ACTIONS", "true");
    env.put("GITHUB_EVENT_NAME", "pull_request");
    env.put("GITHUB_EVENT_PATH", payload.toString());
    env.put("GITHUB_REPOSITORY", "acme/shop");
    env.put("GITHUB_SHA", "e5bd3914e2e596debea16f433f57875b5b90bcd6"); // the merge commit: never deployed
    return env;
  }

  private Result ci(Map<String, String> env, String... more) {
    List<String> args = new ArrayList<>(List.of("ci", "-c", config.toString()));
    args.addAll(List.of(more));
    return run(env, args.toArray(String[]::new));
  }

  private static URI readyUrl(Result r) {
    Matcher m = Pattern.compile("is READY at (http://127\\.0\\.0\\.1:\\d+/) ").matcher(r.out());
    assertThat(m.find()).as(r.all()).isTrue();
    return URI.create(m.group(1));
  }

  private String seenSecret() throws IOException {
    return Files.readString(seen).trim();
  }

  @Test
  void aGitHubPullRequestLivesThroughItsEventsWithTheFactsOfEach() throws Exception {
    Result opened = ci(github("opened"));
    assertThat(opened.code()).as(opened.all()).isZero();
    assertThat(opened.out()).contains("preview ci (github pull_request opened): acme/shop#7 at " + SHA1 + " with environment local");
    URI url = readyUrl(opened);
    String page = get(url);
    assertThat(page).contains("<code id=\"revision\">" + SHA1 + "</code>", "FEATURE_DARK_MODE = true")
        .doesNotContain("FEATURE_NEW_CHECKOUT").doesNotContain(TOKEN);
    assertThat(seenSecret()).as("a PR of the repository itself gets the secrets").isEqualTo(TOKEN);

    Result push = ci(github("synchronize"));
    assertThat(push.code()).as(push.all()).isZero();
    assertThat(push.out()).contains("(github pull_request synchronize): acme/shop#7 at " + SHA2);
    assertThat(get(readyUrl(push))).contains("<code id=\"revision\">" + SHA2 + "</code>");

    Result labeled = ci(github("labeled"));
    assertThat(labeled.code()).as(labeled.all()).isZero();
    assertThat(get(readyUrl(labeled))).contains("FEATURE_DARK_MODE = true", "FEATURE_NEW_CHECKOUT = true");

    Result list = run(TestEnv.withoutCi(), "list", "-c", config.toString(), "-o", "json");
    assertThat(list.code()).as(list.all()).isZero();
    assertThat(list.out()).contains("\"key\" : \"acme/shop#7\"", "\"number\" : 7", "\"state\" : \"READY\"",
        "\"revision\" : \"" + SHA1 + "\"");

    Result closed = ci(github("closed"));
    assertThat(closed.code()).as(closed.all()).isZero();
    assertThat(closed.out()).contains("preview ci (github pull_request closed): acme/shop#7 down", "acme/shop#7 is removed");
    assertThat(get(url)).startsWith("no answer");
    assertThat(run(TestEnv.withoutCi(), "list", "-c", config.toString(), "-o", "json").out().trim()).isEqualTo("[ ]");

    Result reopened = ci(github("reopened"));
    assertThat(reopened.code()).as(reopened.all()).isZero();
    assertThat(reopened.out()).contains("(github pull_request reopened): acme/shop#7 at " + SHA1);
    readyUrl(reopened);
    Result merged = ci(github("closed-merged"));
    assertThat(merged.code()).as(merged.all()).isZero();
    assertThat(merged.out()).contains("(github pull_request closed (merged)): acme/shop#7 down", "PR merged");
  }

  @Test
  void aForkPullRequestGetsAPreviewWithoutSecretsUnderTheDefaultPolicyAndFlagsOverrideTheEvent() throws Exception {
    Result fork = ci(github("fork-opened"));
    assertThat(fork.code()).as(fork.all()).isZero();
    assertThat(fork.out()).contains("acme/shop#8 at " + SHA1 + " from a fork");
    readyUrl(fork);
    assertThat(seenSecret()).as("policy.forks: no-secrets").isEmpty();

    // a maintainer vouches for it: --no-fork overrides the event's fact; --sha its head
    Result trusted = ci(github("fork-opened"), "--no-fork", "--sha", SHA2);
    assertThat(trusted.code()).as(trusted.all()).isZero();
    assertThat(trusted.out()).contains("acme/shop#8 at " + SHA2 + " with").doesNotContain("from a fork");
    assertThat(get(readyUrl(trusted))).contains("<code id=\"revision\">" + SHA2 + "</code>");
    assertThat(seenSecret()).isEqualTo(TOKEN);
  }

  @Test
  void aDraftGetsNoPreviewAndAnEventNotAboutThePreviewDoesNothing() throws Exception {
    Result draft = ci(github("draft-opened"));
    assertThat(draft.code()).as(draft.all()).isZero();
    assertThat(draft.out()).contains("acme/shop#9 gets no preview");
    assertThat(Files.exists(seen)).as("nothing was started").isFalse();

    Result assigned = ci(github("assigned"));
    assertThat(assigned.code()).as(assigned.all()).isZero();
    assertThat(assigned.out()).contains("github event pull_request assigned: nothing to do");

    Map<String, String> push = TestEnv.withoutCi();
    push.put("GITHUB_EVENT_NAME", "push");
    assertThat(ci(push).out()).contains("github event push: nothing to do");

    Result none = ci(TestEnv.withoutCi());
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("no CI event found", "GITHUB_EVENT_NAME", "CI_MERGE_REQUEST_IID");
  }

  @Test
  void upAndDownInACiTakeThePullRequestFromTheEvent() throws Exception {
    Result up = run(github("opened"), "up", "-c", config.toString());
    assertThat(up.code()).as(up.all()).isZero();
    assertThat(up.out()).contains("preview up (github pull_request opened): acme/shop#7 at " + SHA1);
    readyUrl(up);
    Result fromCi = run(github("closed"), "up", "--from-ci", "-c", config.toString());
    assertThat(fromCi.code()).as(fromCi.all()).isZero();
    assertThat(fromCi.out()).contains("acme/shop#7 is removed");

    readyUrl(run(github("opened"), "up", "-c", config.toString()));
    Result down = run(github("opened"), "down", "-c", config.toString());
    assertThat(down.code()).as(down.all()).isZero();
    assertThat(down.out()).contains("acme/shop#7 is removed");
  }

  @Test
  void aGitLabMergeRequestLivesThroughItsPipelinesAndItsStopJob() throws Exception {
    Result opened = ci(TestEnv.gitlab("opened"));
    assertThat(opened.code()).as(opened.all()).isZero();
    assertThat(opened.out()).contains("preview ci (gitlab detached pipeline): acme/shop#7 at " + SHA1);
    assertThat(get(readyUrl(opened))).contains("FEATURE_DARK_MODE = true");
    assertThat(seenSecret()).isEqualTo(TOKEN);

    Result pushed = ci(TestEnv.gitlab("synchronize"));
    assertThat(pushed.code()).as(pushed.all()).isZero();
    assertThat(pushed.out()).contains("acme/shop#7 at " + SHA2);
    assertThat(get(readyUrl(pushed))).as("a push redeploys the MR at its new commit")
        .contains("<code id=\"revision\">" + SHA2 + "</code>", "FEATURE_DARK_MODE = true");

    Path dotenv = dir.resolve("preview.env");
    Result labeled = ci(TestEnv.gitlab("labeled"), "--dotenv", dotenv.toString());
    assertThat(labeled.code()).as(labeled.all()).isZero();
    URI url = readyUrl(labeled);
    assertThat(get(url)).contains("<code id=\"revision\">" + SHA2 + "</code>", "FEATURE_NEW_CHECKOUT = true");
    assertThat(Files.readString(dotenv)).isEqualTo("PREVIEW_URL=" + url + "\nPREVIEW_STATE=READY\n");

    Result stop = ci(TestEnv.gitlab("closed"));
    assertThat(stop.code()).as(stop.all()).isZero();
    assertThat(stop.out()).contains("preview ci (gitlab environment stop): acme/shop#7 down", "acme/shop#7 is removed");
    assertThat(get(url)).startsWith("no answer");

    Result fork = ci(TestEnv.gitlab("fork-opened"));
    assertThat(fork.code()).as(fork.all()).isZero();
    assertThat(fork.out()).contains("acme/shop#8 at " + SHA1 + " from a fork");
    readyUrl(fork);
    assertThat(seenSecret()).as("a fork MR gets no secrets").isEmpty();

    Result draft = ci(TestEnv.gitlab("draft-opened"));
    assertThat(draft.code()).as(draft.all()).isZero();
    assertThat(draft.out()).contains("acme/shop#9 gets no preview");
  }

  @Test
  void badFactsAreNamedWithTheirRule() throws Exception {
    Map<String, String> env = TestEnv.gitlab("opened");
    env.put("CI_COMMIT_SHA", "aaa");
    Result r = ci(env);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("CI_COMMIT_SHA: must be a commit id of 4 to 64 hex digits", "got \"aaa\" (3 characters)");

    Map<String, String> noPath = TestEnv.withoutCi();
    noPath.put("GITHUB_EVENT_NAME", "pull_request");
    Result missing = ci(noPath);
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("GITHUB_EVENT_PATH: is not set");

    Result image = ci(CiCommandTest.github("opened"), "--image", "ghcr.io/acme/shop:{commit}");
    assertThat(image.code()).isEqualTo(2);
    assertThat(image.err()).contains("--image: unknown placeholder {commit}");
    assertThat(Files.exists(seen)).as("nothing was started").isFalse();

    Result outside = run(TestEnv.withoutCi(), "up", "-c", config.toString());
    assertThat(outside.code()).isEqualTo(2);
    assertThat(outside.err()).contains("--pr: is required outside a CI", "--sha: is required");
  }

  @Test
  void shellCompletionIsGenerated() {
    Result r = run(TestEnv.withoutCi(), "generate-completion");
    assertThat(r.code()).as(r.all()).isZero();
    assertThat(r.out()).contains("complete -F _complete_preview", "validate", "ci", "--from-ci");
  }

  static String get(URI url) throws InterruptedException {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return "no answer: " + e;
    }
  }
}
