package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.source.GitSource;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Redactor;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import dev.preview.testkit.FakeScmNotifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code build.from: source} on a real Docker engine when the PR's Dockerfile fails: the preview
 * FAILS with the build's last lines in the reason, the secret the build printed is masked there and
 * everywhere else the PR sees, and nothing is left behind (no container, network, volume, nor an
 * image tagged with the revision). The secret reaches the build as an {@code environment.build.args}
 * value that is, by mistake, also an app secret's value (build args are not secrets).
 */
class DockerBuildFromSourceFailureIT {
  private static final String SECRET = "npm_s3cretValueOfTheApp";
  private final PreviewKey key = PreviewKey.pr("preview-it/build-fails-" + ProcessHandle.current().pid(), 8);

  @TempDir Path tmp;
  PreviewOrchestrator previews;
  final FakeScmNotifier notifier = new FakeScmNotifier();

  @AfterEach
  void tearDown() throws Exception {
    if (previews != null) {
      previews.teardown(key, "test over").get(90, TimeUnit.SECONDS);
      previews.close();
    }
  }

  @Test
  void aFailingDockerfileFailsWithItsLastLinesRedactedAndLeavesNothing() throws Exception {
    Path bare = tmp.resolve("origin.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    RevCommit head;
    try (Git author = Git.cloneRepository().setURI(bare.toUri().toString()).setDirectory(tmp.resolve("author").toFile())
        .call()) {
      TestDocker.writeContext(author.getRepository().getWorkTree().toPath(), String.join("\n",
          "ARG NPM_TOKEN",
          "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo compiling the PR; echo using $NPM_TOKEN;"
              + " echo 'error: cannot find symbol Foo'; exit 3\"]"));
      author.add().addFilepattern(".").call();
      PersonIdent who = new PersonIdent("t", "t@example.com");
      head = author.commit().setMessage("a broken build").setAuthor(who).setCommitter(who).call();
      author.push().setRemote("origin").setRefSpecs(new RefSpec("+" + head.name() + ":refs/pull/8/head")).call();
    }
    previews = PreviewOrchestrator.builder()
        .environment(TestDocker.provider(Map.of("build", Map.of("args", Map.of("NPM_TOKEN", SECRET)))))
        .notifier(notifier)
        .app(AppTemplate.builder().port(8080).healthPath("/health").secret("API_KEY", Secret.of(SECRET)).build())
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(tmp.resolve("workspaces"))
            .build())
        .sources(GitSource.create(new SourceFetcher.Origin("github", null, bare.toUri().toString(), null)))
        .build();

    Preview p = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED,
        PullRequest.open(key, head.name(), "feature", "main"))).get(5, TimeUnit.MINUTES);

    assertThat(p.state()).as(p.toString()).isEqualTo(PreviewState.FAILED);
    // the image is built in the deploy's build step, before anything is provisioned
    assertThat(p.failedStep()).isEqualTo("build");
    assertThat(p.message()).contains("building", ":" + DockerEnvironmentProvider.tagOf(head.name()), "failed",
        "the last lines of the build are below").doesNotContain(SECRET);
    PreviewStatus failed = await().atMost(Duration.ofSeconds(10)).until(() -> notifier.latest(key).orElse(null),
        s -> s != null && s.state() == PreviewState.FAILED);
    assertThat(failed.failedStep()).isEqualTo("build");
    assertThat(failed.logTail()).as("the build's own last lines, as lines, masked")
        .contains("compiling the PR", "using " + Redactor.MASK, "error: cannot find symbol Foo");
    assertThat(failed.message()).doesNotContain(SECRET);
    assertThat(notifier.history(key)).allSatisfy(s -> {
      assertThat(s.message()).doesNotContain(SECRET);
      assertThat(String.join("\n", s.logTail())).doesNotContain(SECRET);
    });
    assertThat(TestDocker.leftovers(key.id())).as("nothing half-created").isEmpty();
    String tag = Names.docker(key) + ":" + DockerEnvironmentProvider.tagOf(head.name());
    assertThatThrownBy(() -> TestDocker.engine().inspectImageCmd(tag).exec()).as("no image " + tag)
        .isInstanceOf(com.github.dockerjava.api.exception.NotFoundException.class);
  }
}
