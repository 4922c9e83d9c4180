package dev.preview.scm.gitlab;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockWebServer;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

class GitLabNotifierFixesTest {
  static final Instant NOW = Instant.parse("2026-11-22T15:00:00Z");
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final PreviewKey KEY = PreviewKey.pr("acme/platform/shop", 7);
  static final String PROJECT = "acme%2Fplatform%2Fshop";

  @StartStop final MockWebServer server = new MockWebServer();
  final FakeGitLab gl = new FakeGitLab(100);

  GitLabNotifier notifier() {
    server.setDispatcher(gl);
    return GitLabNotifier.builder(server.url("/").toString(), Secret.of("glpat-secret")).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
  }

  static PreviewStatus status(PreviewState state) {
    URI url = state == PreviewState.READY ? URI.create("https://mr-7.preview.example.com") : null;
    return new PreviewStatus(KEY, state, state == PreviewState.DELETED ? null : SHA, url, Map.of(), "", null, List.of(), Map.of(), NOW);
  }

  @Test
  void closeThenReopenLeavesTheEnvironmentAvailableWithTheUrl() {
    GitLabNotifier n = notifier();
    n.publish(status(PreviewState.READY));
    n.publish(status(PreviewState.DELETED));
    assertThat(gl.environments.values()).singleElement().satisfies(e -> assertThat(e.path("state").asText()).isEqualTo("stopped"));

    n.publish(status(PreviewState.PROVISIONING));
    n.publish(status(PreviewState.READY));
    assertThat(gl.environments.values()).singleElement().satisfies(e -> {
      assertThat(e.path("state").asText()).isEqualTo("available");
      assertThat(e.path("name").asText()).isEqualTo("preview/mr-7");
      assertThat(e.path("external_url").asText()).isEqualTo("https://mr-7.preview.example.com");
    });
  }

  @Test
  void closingAnMrThatNeverHadAPreviewPostsNoNote() {
    GitLabNotifier n = notifier();
    n.publish(status(PreviewState.DELETED));
    assertThat(gl.noteBodies(PROJECT, 7)).isEmpty();
    assertThat(gl.environments).isEmpty();
  }
}
