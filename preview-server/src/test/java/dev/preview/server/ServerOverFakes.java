package dev.preview.server;

import dev.preview.core.PreviewOrchestrator;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.net.http.HttpClient;
import org.junit.jupiter.api.AfterEach;

/**
 * What most webhook server tests hold: the testkit's fakes, the orchestrator a test builds over
 * them and the server it starts in front, and an HTTP client; the server, then the orchestrator,
 * are closed after each test (whichever the test started). A test that owns more overrides
 * {@link #stop()} (annotated {@code @AfterEach} again) and calls {@code super.stop()} first.
 */
abstract class ServerOverFakes {
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakeScmNotifier scm = new FakeScmNotifier();
  final FakePullRequestSource prs = new FakePullRequestSource();
  final HttpClient client = HttpClient.newHttpClient();
  PreviewOrchestrator orchestrator;
  WebhookServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (orchestrator != null) {
      orchestrator.close();
    }
  }
}
