package dev.preview.scm.github;

import dev.preview.scm.StatusComment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import dev.preview.spi.ScmNotifier;
import dev.preview.testkit.ScmNotifierKit;
import java.util.List;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;

/** The shared notifier contract, against a stateful GitHub behind MockWebServer. */
class GitHubNotifierKitTest extends ScmNotifierKit {
  @StartStop final MockWebServer server = new MockWebServer();
  final FakeGitHub github = new FakeGitHub(30);

  @Override
  protected ScmNotifier createProvider() {
    server.setDispatcher(github);
    return GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n"))).commitStatus(true).build();
  }

  @Override
  protected List<String> stickyComments(PreviewKey key) {
    String marker = "<!-- preview.dev:" + key.id() + " -->";
    return github.commentBodies(key.repository(), key.number()).stream().filter(b -> StatusComment.isOurs(b, marker)).toList();
  }
}
