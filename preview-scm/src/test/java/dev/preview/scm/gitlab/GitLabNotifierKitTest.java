package dev.preview.scm.gitlab;

import dev.preview.scm.StatusComment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.Secret;
import dev.preview.testkit.ScmNotifierKit;
import java.util.List;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;

/** The shared notifier contract, against a stateful GitLab behind MockWebServer. */
class GitLabNotifierKitTest extends ScmNotifierKit {
  @StartStop final MockWebServer server = new MockWebServer();
  final FakeGitLab gitlab = new FakeGitLab(20);

  @Override
  protected ScmNotifier createProvider() {
    server.setDispatcher(gitlab);
    return GitLabNotifier.builder(server.url("/").toString(), Secret.of("glpat-secret")).build();
  }

  @Override
  protected List<String> stickyComments(PreviewKey key) {
    String marker = "<!-- preview.dev:" + key.id() + " -->";
    String project = key.repository().replace("/", "%2F");
    return gitlab.noteBodies(project, key.number()).stream().filter(b -> StatusComment.isOurs(b, marker)).toList();
  }
}
