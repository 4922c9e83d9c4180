package dev.preview.cli;

import dev.preview.cli.CliRun.Result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.examples.sample.SampleApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code build.from: source} from a {@code preview.yaml}, through the shipped CLI: the core has no
 * compile dependency on preview-scm, so the preview runs its PR's code only if the assembly finds
 * {@code GitSource} through {@code ServiceLoader} (its {@code META-INF/services} registration).
 */
class BuildFromSourceCliTest {
  static final PersonIdent WHO = new PersonIdent("t", "t@example.invalid");
  @TempDir Path dir;

  static Result preview(String... args) {
    return CliRun.run(args);
  }

  @Test
  void upFetchesThePrsHeadFromTheConfiguredRepositoryAndRunsItsCode() throws Exception {
    Path bare = dir.resolve("origin.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    String sha;
    try (Git author = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(dir.resolve("author").toFile()).call()) {
      Files.writeString(dir.resolve("author").resolve(SampleApp.GREETING_FILE), "the PR's own greeting\n");
      author.add().addFilepattern(SampleApp.GREETING_FILE).call();
      RevCommit c = author.commit().setMessage("pr 7").setAuthor(WHO).setCommitter(WHO).call();
      author.push().setRemote("origin").setRefSpecs(new RefSpec(c.name() + ":refs/pull/7/head")).call();
      sha = c.name();
    }
    String command = CliRun.sampleAppCommand();
    Path config = dir.resolve("preview.yaml");
    Files.writeString(config, String.join("\n",
        "repository: acme/shop",
        "build:",
        "  from: source",
        "  repository: '" + bare.toUri() + "'",
        "  workspaces: '" + dir.resolve("workspaces") + "'",
        "app:",
        "  command: " + command,
        "  healthPath: /health",
        CliRun.localEnvironment(dir),
        "scm:",
        "  provider: console",
        ""));

    try {
      Result up = preview("up", "--config", config.toString(), "--pr", "7", "--sha", sha);
      assertThat(up.code()).as(up.out() + up.err()).isZero();
      Matcher url = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/)").matcher(up.out() + up.err());
      assertThat(url.find()).as(up.out() + up.err()).isTrue();
      String page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url.group(1))).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(page).contains("the PR&#39;s own greeting").contains(sha);
    } finally {
      Result down = preview("down", "--config", config.toString(), "--pr", "7");
      assertThat(down.code()).as(down.out() + down.err()).isZero();
    }
    try (var left = Files.list(dir.resolve("workspaces"))) {
      assertThat(left).isEmpty();
    }
  }
}
