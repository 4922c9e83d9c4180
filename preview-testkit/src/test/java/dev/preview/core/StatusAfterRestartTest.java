package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The status a PR shows converges after a restart: the process that wrote "failed" is gone, the app
 * came up meanwhile, and the next reconcile of a new process publishes what it observes (READY only
 * when the app answers healthy), once.
 */
class StatusAfterRestartTest {
  static final PreviewKey PR1 = PreviewKey.pr("acme/shop", 1);

  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakeScmNotifier scm = new FakeScmNotifier();
  final FakePullRequestSource source = new FakePullRequestSource();
  volatile boolean healthy;
  PreviewOrchestrator orchestrator;

  @AfterEach
  void close() {
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  PreviewOrchestrator start(boolean async) {
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(scm).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:latest").readinessTimeout(Duration.ofMillis(200))
            .readinessInterval(Duration.ofMillis(10)).build())
        .healthCheck(url -> healthy).asyncStatus(async)
        .build();
    return orchestrator;
  }

  void failedBeforeTheRestart() throws Exception {
    PullRequest pr = PullRequest.open(PR1, "a".repeat(40), "feature", "main");
    source.put(pr);
    healthy = false;
    start(false);
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS)
        .state()).isEqualTo(PreviewState.FAILED);
    orchestrator.close();
    orchestrator = null;
    assertThat(env.find(PR1)).as("the app was left running").isPresent();
    assertThat(scm.latest(PR1)).get().satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.FAILED));
  }

  @Test
  void aReadyPreviewWhoseLastCommentSaysFailedIsShownReadyByTheFirstReconcileAfterARestart() throws Exception {
    failedBeforeTheRestart();
    healthy = true; // it came up after the gate gave up
    start(false);

    orchestrator.reconcile(false);

    assertThat(scm.latest(PR1)).get().satisfies(s -> {
      assertThat(s.state()).isEqualTo(PreviewState.READY);
      assertThat(s.revision()).isEqualTo("a".repeat(40));
      assertThat(s.url()).isNotNull();
    });
    int published = scm.history(PR1).size();
    orchestrator.reconcile(false);
    assertThat(scm.history(PR1)).as("published once, not at every reconcile").hasSize(published);
  }

  @Test
  void anAppThatIsStillUnhealthyIsNotCalledReady() throws Exception {
    failedBeforeTheRestart();
    start(true);
    int published = scm.history(PR1).size();

    orchestrator.reconcile(false);
    orchestrator.close();
    orchestrator = null;

    assertThat(scm.history(PR1)).hasSize(published);
    assertThat(scm.latest(PR1)).get().satisfies(s -> assertThat(s.state()).isEqualTo(PreviewState.FAILED));
  }
}
