package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.source.GitSource;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.SourceFetcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code build.from: source} on a real Docker engine: the PR's head (a FROM scratch busybox httpd
 * context, with a page committed in the PR) is fetched from a real repository into the preview's
 * workspace, built into an image tagged with the revision, and served; a force-push serves the new
 * page; the teardown removes the workspace.
 */
class DockerBuildFromSourceIT {
  private final PreviewKey key = PreviewKey.pr("preview-it/build-from-source-" + ProcessHandle.current().pid(), 7);

  @TempDir Path tmp;
  PreviewOrchestrator previews;

  @AfterEach
  void tearDown() throws Exception {
    if (previews != null) {
      previews.teardown(key, "test over").get(90, TimeUnit.SECONDS);
      previews.close();
    }
  }

  @Test
  void buildsAndServesThePrsCodeAtEachPushThenRemovesTheWorkspace() throws Exception {
    Path bare = tmp.resolve("origin.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    try (Git author = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(tmp.resolve("author").toFile())
        .call()) {
      Path dir = author.getRepository().getWorkTree().toPath();
      TestDocker.writeContext(dir, "");
      RevCommit main = commit(author, "main");
      author.push().setRemote("origin").setRefSpecs(new RefSpec("HEAD:refs/heads/main")).call();
      Files.writeString(dir.resolve("www/index.html"), "the PR's page, v1\n");
      RevCommit v1 = commit(author, "v1");
      author.push().setRemote("origin").setRefSpecs(new RefSpec("+" + v1.name() + ":refs/pull/7/head")).call();

      Path workspaces = tmp.resolve("workspaces");
      previews = PreviewOrchestrator.builder()
          .environment(TestDocker.provider(Map.of()))
          .app(AppTemplate.builder().port(8080).healthPath("/health").build())
          .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(workspaces).build())
          .sources(GitSource.create(new SourceFetcher.Origin("github", null, bare.toUri().toString(), null)))
          .build();

      Preview first = deploy(v1, PullRequestEvent.Action.OPENED);
      assertThat(first.state()).as(first.toString()).isEqualTo(PreviewState.READY);
      assertThat(TestDocker.get(first.url().resolve("/index.html")).body()).isEqualTo("the PR's page, v1\n");
      assertThat(TestDocker.engine().inspectImageCmd(Names.docker(key) + ":" + DockerEnvironmentProvider.tagOf(v1.name())).exec())
          .isNotNull();

      // A force-push rewrites the PR from main.
      author.reset().setMode(ResetCommand.ResetType.HARD).setRef(main.name()).call();
      Files.writeString(dir.resolve("www/index.html"), "the PR's page, rewritten\n");
      RevCommit v2 = commit(author, "v2");
      author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + v2.name() + ":refs/pull/7/head"))
          .call();

      Preview second = deploy(v2, PullRequestEvent.Action.UPDATED);
      assertThat(second.state()).as(second.toString()).isEqualTo(PreviewState.READY);
      assertThat(TestDocker.get(second.url().resolve("/index.html")).body()).isEqualTo("the PR's page, rewritten\n");

      // A push whose Dockerfile fails: FAILED at step build (not environment), with the build's last
      // lines; the environment step never ran, so the previous revision still serves.
      String dockerfile = Files.readString(dir.resolve("Dockerfile"));
      Files.writeString(dir.resolve("Dockerfile"), dockerfile + "\nCOPY no-such-file-in-the-pr /x\n");
      RevCommit broken = commit(author, "broken");
      author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + broken.name() + ":refs/pull/7/head"))
          .call();
      Preview failed = deploy(broken, PullRequestEvent.Action.UPDATED);
      assertThat(failed.state()).as(failed.toString()).isEqualTo(PreviewState.FAILED);
      assertThat(failed.failedStep()).isEqualTo("build");
      assertThat(failed.message()).contains("no-such-file-in-the-pr").contains("the last lines of the build are below");
      assertThat(TestDocker.get(second.url().resolve("/index.html")).body()).as("v2 still serves")
          .isEqualTo("the PR's page, rewritten\n");
      Files.writeString(dir.resolve("Dockerfile"), dockerfile);
      RevCommit fixed = commit(author, "fixed");
      author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + fixed.name() + ":refs/pull/7/head"))
          .call();
      assertThat(deploy(fixed, PullRequestEvent.Action.UPDATED).state()).isEqualTo(PreviewState.READY);

      Path workspace = workspaces.resolve(Names.dnsLabel(key));
      assertThat(workspace.resolve("www/index.html")).hasContent("the PR's page, rewritten");
      previews.teardown(key, "closed").get(90, TimeUnit.SECONDS);
      assertThat(workspace).doesNotExist();
      assertThat(TestDocker.leftovers(key.id())).isEmpty();
    }
  }

  /** A push that comes in while the engine builds the previous one stops that build (no waiting it out). */
  @Test
  void aNewerPushStopsTheBuildOfTheOlderOne() throws Exception {
    Path bare = tmp.resolve("origin.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    try (Git author = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(tmp.resolve("author").toFile())
        .call()) {
      Path dir = author.getRepository().getWorkTree().toPath();
      TestDocker.writeContext(dir, "");
      String dockerfile = Files.readString(dir.resolve("Dockerfile"));
      String marker = "slow-build-" + ProcessHandle.current().pid();
      Files.writeString(dir.resolve("Dockerfile"), dockerfile + "\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo " + marker
          + "; exec /bin/busybox sleep 120\"]\n");
      RevCommit slow = commit(author, "slow");
      author.push().setRemote("origin").setRefSpecs(new RefSpec("+" + slow.name() + ":refs/pull/7/head")).call();
      previews = PreviewOrchestrator.builder()
          .environment(TestDocker.provider(Map.of()))
          .app(AppTemplate.builder().port(8080).healthPath("/health").build())
          .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(tmp.resolve("ws")).build())
          .sources(GitSource.create(new SourceFetcher.Origin("github", null, bare.toUri().toString(), null)))
          .build();

      var first = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED,
          PullRequest.open(key, slow.name(), "feature", "main")));
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> !sleepers(marker).isEmpty());

      Files.writeString(dir.resolve("Dockerfile"), dockerfile);
      Files.writeString(dir.resolve("www/index.html"), "the fast one\n");
      RevCommit fast = commit(author, "fast");
      author.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+" + fast.name() + ":refs/pull/7/head"))
          .call();
      Preview second = deploy(fast, PullRequestEvent.Action.UPDATED);
      assertThat(second.state()).as(second.toString()).isEqualTo(PreviewState.READY);
      assertThat(TestDocker.get(second.url().resolve("/index.html")).body()).isEqualTo("the fast one\n");
      assertThat(first.get(60, TimeUnit.SECONDS).revision()).as("the older run ends in the newer one's outcome")
          .isEqualTo(fast.name());
      // the engine cancelled the older build: its RUN step's container is gone long before its 120 s
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> sleepers(marker).isEmpty());
      String slowTag = Names.docker(key) + ":" + DockerEnvironmentProvider.tagOf(slow.name());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestDocker.engine().inspectImageCmd(slowTag).exec())
          .as("no image of the stopped build").isInstanceOf(com.github.dockerjava.api.exception.NotFoundException.class);
    }
  }

  /** The containers (running or not) whose command carries {@code marker}: the slow build's RUN step. */
  private static java.util.List<String> sleepers(String marker) {
    return TestDocker.engine().listContainersCmd().withShowAll(true).exec().stream()
        .filter(c -> c.getCommand() != null && c.getCommand().contains(marker)).map(c -> c.getId()).toList();
  }

  private Preview deploy(RevCommit head, PullRequestEvent.Action action) throws Exception {
    PullRequest pr = PullRequest.open(key, head.name(), "feature", "main");
    return previews.handle(PullRequestEvent.of(action, pr)).get(3, TimeUnit.MINUTES);
  }

  private static RevCommit commit(Git git, String message) throws Exception {
    git.add().addFilepattern(".").call();
    PersonIdent who = new PersonIdent("t", "t@example.com");
    return git.commit().setMessage(message).setAuthor(who).setCommitter(who).call();
  }
}
