package dev.preview.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.spi.Secret;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's deliveries are read by the real GitHub webhook source as the events the demo means. */
class GitHubDeliveriesTest {
  private static final Secret SECRET = Secret.of("demo-webhook-secret");
  private final GitHubWebhookSource source = GitHubWebhookSource.builder(SECRET).build();
  private final PullRequest pr = PullRequest.open(PreviewKey.pr("acme/shop", 2), "d16b0c9bed216d6bbda7d32c9338fba36b0ddffc",
      "feature/checkout", "main").withLabels(Set.of("flag:new-checkout"));

  private WebhookResult handle(String action, PullRequest p, Secret signWith) {
    byte[] body = GitHubDeliveries.payload(action, p, null);
    return source.handle(WebhookRequest.of(Map.of("X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "d-1",
        "X-Hub-Signature-256", GitHubDeliveries.signature(signWith, body)), body));
  }

  private PullRequestEvent accepted(String action, PullRequest p) {
    WebhookResult r = handle(action, p, SECRET);
    assertThat(r).isInstanceOf(WebhookResult.Accepted.class);
    return ((WebhookResult.Accepted) r).event();
  }

  @Test
  void openedSynchronizeAndClosedReadAsTheDemoMeansThem() {
    PullRequestEvent opened = accepted("opened", pr);
    assertThat(opened.action()).isEqualTo(Action.OPENED);
    assertThat(opened.deliveryId()).isEqualTo("d-1");
    assertThat(opened.pullRequest()).isEqualTo(pr.withAuthor("octocat"));

    PullRequest pushed = pr.withHeadSha("47f4bfba7b26e95a44d4b0815b9a77de862adbf4");
    assertThat(accepted("synchronize", pushed).action()).isEqualTo(Action.UPDATED);
    assertThat(accepted("synchronize", pushed).headSha()).isEqualTo(pushed.headSha());

    PullRequestEvent closed = accepted("closed", pr.withState(PullRequest.State.CLOSED));
    assertThat(closed.action()).isEqualTo(Action.CLOSED);
    assertThat(closed.pullRequest().state()).isEqualTo(PullRequest.State.CLOSED);
    PullRequestEvent merged = accepted("closed", pr.withState(PullRequest.State.MERGED));
    assertThat(merged.action()).isEqualTo(Action.MERGED);
    assertThat(merged.pullRequest().state()).isEqualTo(PullRequest.State.MERGED);
  }

  @Test
  void aDeliverySignedWithAnotherSecretIsRejected() {
    WebhookResult r = handle("opened", pr, Secret.of("another-secret"));
    assertThat(r).isInstanceOf(WebhookResult.Rejected.class);
    assertThat(((WebhookResult.Rejected) r).httpStatus()).isEqualTo(401);
  }

  @Test
  void theSignatureIsGitHubsHmacSha256OfTheRawBody() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    assertThat(GitHubDeliveries.signature(Secret.of("Jefe"), "what do ya want for nothing?".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isEqualTo("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
}
