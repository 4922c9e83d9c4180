package dev.preview.scm.github;

import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/** Statuses that must not be posted, and rate limits that must be named right. */
class GitHubNotifierFixesTest {
  static final Instant NOW = Instant.parse("2026-11-22T15:00:00Z");
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  @StartStop final MockWebServer server = new MockWebServer();
  final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

  GitHubNotifier.Builder notifier() {
    return GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t0k3n")))
        .clock(Clock.fixed(NOW, ZoneOffset.UTC)).sleeper(sleeps::add);
  }

  static PreviewStatus status(PreviewState state, String message) {
    URI url = state == PreviewState.READY ? URI.create("https://pr-42.preview.example.com") : null;
    return new PreviewStatus(KEY, state, state == PreviewState.DELETED ? null : SHA, url, Map.of(), message,
        null, List.of(), Map.of(), NOW);
  }

  @Test
  void closingAPrThatNeverHadAPreviewPostsNoDeletedComment() {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    GitHubNotifier n = notifier().build();
    n.publish(status(PreviewState.DELETED, "PR closed"));
    assertThat(gh.commentBodies("acme/shop", 42)).isEmpty();
    assertThat(gh.deploymentStatuses).isEmpty();

    // one that had a preview gets its comment updated to "deleted"
    n.publish(status(PreviewState.READY, ""));
    n.publish(status(PreviewState.DELETED, "PR closed"));
    assertThat(gh.commentBodies("acme/shop", 42)).singleElement().asString().contains("Preview deleted");
  }

  @Test
  void aCommitStatusIsPostedOncePerShaAndStateWhateverTheDescription() {
    FakeGitHub gh = new FakeGitHub(100);
    server.setDispatcher(gh);
    GitHubNotifier n = notifier().commitStatus(true).comments(false).deployments(false).build();
    for (int i = 0; i < 25; i++) {
      n.publish(status(PreviewState.PENDING, "waiting for a slot (" + i + " ahead)"));
      n.publish(status(PreviewState.PROVISIONING, "deploying"));
    }
    n.publish(status(PreviewState.READY, ""));
    n.publish(status(PreviewState.PROVISIONING, "redeploying the same commit"));
    n.publish(status(PreviewState.READY, ""));
    assertThat(gh.commitStatuses).extracting(s -> s.path("state").asText()).containsExactly("pending", "success");

    // a real change of the final state is posted, and corrected back
    n.publish(status(PreviewState.FAILED, "readiness"));
    n.publish(status(PreviewState.READY, ""));
    assertThat(gh.commitStatuses).extracting(s -> s.path("state").asText())
        .containsExactly("pending", "success", "failure", "success");
  }

  @Test
  void a403WithNoQuotaLeftAndNoResetIsAQuotaNotASecondaryLimit() {
    GitHubNotifier n = notifier().comments(true).deployments(false).build();
    MockResponse exhausted = new MockResponse.Builder().code(403).setHeader("X-RateLimit-Remaining", "0")
        .body("{\"message\":\"API rate limit exceeded for installation ID 1.\"}").build();
    for (int i = 0; i < 4; i++) {
      server.enqueue(exhausted);
    }
    assertThatThrownBy(() -> n.publish(status(PreviewState.READY, "")))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.getMessage()).contains("quota exhausted, no reset time given").doesNotContain("secondary");
        });
  }

  @Test
  void aRateLimitTooLongToWaitCarriesItsResetForTheStatusDelivery() {
    GitHubNotifier n = notifier().deployments(false).build();
    server.enqueue(new MockResponse.Builder().code(403).setHeader("X-RateLimit-Remaining", "0")
        .setHeader("X-RateLimit-Reset", Long.toString(NOW.getEpochSecond() + 3600)).body("{\"message\":\"API rate limit exceeded\"}").build());
    assertThatThrownBy(() -> n.publish(status(PreviewState.READY, "")))
        .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryAt()).hasValue(NOW.plusSeconds(3600)));
    assertThat(sleeps).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(1);
  }
}
