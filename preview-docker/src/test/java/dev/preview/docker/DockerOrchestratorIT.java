package dev.preview.docker;

import static dev.preview.docker.TestDocker.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.Container;
import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The orchestrator driving the docker provider on the real engine: open -> push -> close, and reconcile. */
class DockerOrchestratorIT {
  private final String repository = "e2e-" + UUID.randomUUID().toString().substring(0, 8) + "/shop";
  private final FakePullRequestSource prs = new FakePullRequestSource();
  private final FakeScmNotifier notifier = new FakeScmNotifier();
  private DockerEnvironmentProvider docker;
  private PreviewOrchestrator orchestrator;

  @BeforeEach
  void start() {
    TestDocker.engine();
    docker = TestDocker.provider(TestDocker.cacheService());
    orchestrator = PreviewOrchestrator.builder()
        .environment(new ThisRepositoryOnly(docker, repository))
        .pullRequests(prs)
        .notifier(notifier)
        .app(AppTemplate.builder().image(TestDocker.IMAGE).port(8080).healthPath("/health")
            .env("GREETING", "hello").secret("API_TOKEN", Secret.of("e2e-secret-value"))
            .readinessTimeout(Duration.ofSeconds(30)).readinessInterval(Duration.ofMillis(100)).build())
        .policy(PreviewPolicy.defaults())
        .build();
  }

  @AfterEach
  void stop() {
    orchestrator.close();
    for (int n = 1; n <= 2; n++) {
      docker.delete(PreviewKey.pr(repository, n));
    }
    docker.close();
  }

  private Preview handle(PullRequestEvent.Action action, PullRequest pr) throws Exception {
    return orchestrator.handle(PullRequestEvent.of(action, pr)).get(90, TimeUnit.SECONDS);
  }

  @Test
  void openPushCloseLeavesNothingLabelled() throws Exception {
    PreviewKey key = PreviewKey.pr(repository, 1);
    PullRequest pr = PullRequest.open(key, "a".repeat(40), "feature/x", "main");
    prs.put(pr);

    Preview opened = handle(PullRequestEvent.Action.OPENED, pr);
    assertThat(opened.state()).as(opened.message()).isEqualTo(PreviewState.READY);
    assertThat(opened.url().toString()).startsWith("http://127.0.0.1:");
    String env = get(URI.create(opened.url() + "/cgi-bin/env")).body();
    assertThat(env).contains("GREETING=hello").contains("API_TOKEN=e2e-secret-value");
    assertThat(notifier.comment(key)).get().asString().doesNotContain("e2e-secret-value");
    String cacheId = service(key).getId();

    PullRequest pushed = pr.withHeadSha("b".repeat(40));
    prs.put(pushed);
    Preview updated = handle(PullRequestEvent.Action.UPDATED, pushed);
    assertThat(updated.state()).as(updated.message()).isEqualTo(PreviewState.READY);
    assertThat(updated.revision()).isEqualTo("b".repeat(40));
    assertThat(updated.url()).isEqualTo(opened.url());
    assertThat(get(URI.create(updated.url() + "/health")).status()).isEqualTo(200);
    assertThat(TestDocker.labelled(Labels.KEY, key.id()))
        .filteredOn(c -> "app".equals(c.getLabels().get(DockerEnvironmentProvider.ROLE)))
        .singleElement().satisfies(c -> assertThat(c.getLabels()).containsEntry(Labels.REVISION, "b".repeat(40)));
    assertThat(service(key).getId()).as("the companion survives a push").isEqualTo(cacheId);

    prs.close(key);
    Preview closed = handle(PullRequestEvent.Action.CLOSED, pushed);
    assertThat(closed.state()).as(closed.message()).isEqualTo(PreviewState.DELETED);
    // docker ps -a / network ls / volume ls --filter label=preview.dev/key=<key>
    assertThat(TestDocker.leftovers(key.id())).isEmpty();
    assertThat(get(URI.create(opened.url() + "/health")).status()).isEqualTo(-1);
  }

  @Test
  void reconcileRemovesThePreviewOfAPrClosedWithoutAnEvent() throws Exception {
    PreviewKey key = PreviewKey.pr(repository, 2);
    PullRequest pr = PullRequest.open(key, "c".repeat(40), "feature/y", "main");
    prs.put(pr);
    assertThat(handle(PullRequestEvent.Action.OPENED, pr).state()).isEqualTo(PreviewState.READY);
    assertThat(orchestrator.reconcile(false).actions()).as("an open PR's preview is left alone").isEmpty();

    prs.close(key); // the close webhook was lost
    ReconcileReport report = orchestrator.reconcile(false);

    assertThat(report.actions()).singleElement().satisfies(a -> assertThat(a.key()).isEqualTo(key));
    assertThat(TestDocker.leftovers(key.id())).isEmpty();
  }

  private static Container service(PreviewKey key) {
    return TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(c -> "service".equals(c.getLabels().get(DockerEnvironmentProvider.ROLE))).findFirst().orElseThrow();
  }

  /**
   * The engine is shared with other work on this machine; reconcile must only judge this test's
   * previews, so list() is narrowed to this test's repository. Everything else is the real provider.
   */
  private record ThisRepositoryOnly(EnvironmentProvider delegate, String repository) implements EnvironmentProvider {
    @Override public String name() { return delegate.name(); }
    @Override public Environment apply(EnvironmentSpec spec) { return delegate.apply(spec); }
    @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key); }
    @Override public List<Environment> list() {
      return delegate.list().stream().filter(e -> e.key().repository().equals(repository)).toList();
    }
    @Override public void delete(PreviewKey key) { delegate.delete(key); }
    @Override public boolean supportsSuspend() { return delegate.supportsSuspend(); }
    @Override public void suspend(PreviewKey key) { delegate.suspend(key); }
    @Override public Environment resume(PreviewKey key) { return delegate.resume(key); }
    @Override public List<String> logs(PreviewKey key, int lines) { return delegate.logs(key, lines); }
    @Override public Optional<dev.preview.spi.AppExit> exitStatus(PreviewKey key) { return delegate.exitStatus(key); }
    @Override public Optional<Environment> rejectRevision(PreviewKey key, String revision) {
      return delegate.rejectRevision(key, revision);
    }
    @Override public void acceptRevision(PreviewKey key, String revision) { delegate.acceptRevision(key, revision); }
    @Override public void close() { }
  }
}
