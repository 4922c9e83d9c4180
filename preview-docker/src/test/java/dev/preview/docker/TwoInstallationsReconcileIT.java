package dev.preview.docker;

import static dev.preview.docker.TestDocker.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.MutableClock;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bug as a new user met it, through two whole orchestrators on one engine: with
 * {@code policy.maxAge: 10s}, the reconcile of one installation wanted to expire the other's
 * previews. Now {@code list}, {@code reconcile} (expiry and orphan rules, dry run and real) and
 * {@code down} of installation A never touch installation B's previews, even the one of the same PR.
 */
class TwoInstallationsReconcileIT {
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final String repository = "it-" + suffix + "/shop";
  private final PreviewKey shared = PreviewKey.pr(repository, 31);
  private final PreviewKey onlyB = PreviewKey.pr(repository, 32);
  private final MutableClock clockA = new MutableClock(Instant.now());
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final List<Runnable> cleanup = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    cleanup.forEach(Runnable::run);
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private PreviewOrchestrator orchestrator(Installation installation, FakePullRequestSource prs, PreviewPolicy policy) {
    DockerEnvironmentProvider docker = TestDocker.provider(Map.of(), installation);
    cleanup.add(() -> List.of(shared, onlyB).forEach(docker::delete));
    PreviewOrchestrator o = PreviewOrchestrator.builder()
        .installation(installation)
        .environment(docker)
        .pullRequests(prs)
        .app(AppTemplate.builder().image(TestDocker.IMAGE).port(8080).healthPath("/health")
            .readinessTimeout(Duration.ofSeconds(30)).readinessInterval(Duration.ofMillis(100)).build())
        .policy(policy)
        .closeProviders(false)
        .build();
    closing.add(docker);
    closing.add(o);
    return o;
  }

  private static Preview open(PreviewOrchestrator o, FakePullRequestSource prs, PreviewKey key) throws Exception {
    PullRequest pr = PullRequest.open(key, "a".repeat(40), "feature/" + key.number(), "main");
    prs.put(pr);
    Preview p = o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(90, TimeUnit.SECONDS);
    assertThat(p.state()).as(p.message()).isEqualTo(PreviewState.READY);
    return p;
  }

  @Test
  void listReconcileAndDownOfOneInstallationNeverTouchTheOthers() throws Exception {
    FakePullRequestSource prsA = new FakePullRequestSource();
    FakePullRequestSource prsB = new FakePullRequestSource();
    PreviewOrchestrator a = orchestrator(Installation.builder().instance("newcomer-" + suffix).clock(clockA).build(),
        prsA, PreviewPolicy.builder().maxAge(Duration.ofSeconds(10)).build());
    PreviewOrchestrator b = orchestrator(Installation.builder().instance("sectest-" + suffix).build(),
        prsB, PreviewPolicy.defaults());

    Preview bShared = open(b, prsB, shared);
    Preview bOnly = open(b, prsB, onlyB);
    Preview aShared = open(a, prsA, shared);
    assertThat(aShared.url()).as("the same PR in two installations gets two environments").isNotEqualTo(bShared.url());

    assertThat(a.list()).extracting(Preview::key).containsExactly(shared);
    assertThat(b.list()).extracting(Preview::key).containsExactlyInAnyOrder(shared, onlyB);

    // A's SCM knows nothing of #32, and A's previews are far past maxAge.
    clockA.advance(Duration.ofHours(1));
    ReconcileReport dry = a.reconcile(true);
    assertThat(dry.actions()).as("a dry run of A names only A's own preview")
        .singleElement().satisfies(x -> {
          assertThat(x.key()).isEqualTo(shared);
          assertThat(x.kind()).isEqualTo(ReconcileReport.Kind.EXPIRE);
        });

    ReconcileReport real = a.reconcile(false);
    assertThat(real.actions()).extracting(ReconcileReport.Action::key).containsExactly(shared);
    assertThat(a.list()).isEmpty();
    assertThat(get(URI.create(aShared.url() + "/health")).status()).as("A's expired preview is gone").isEqualTo(-1);

    assertThat(b.list()).extracting(Preview::key).containsExactlyInAnyOrder(shared, onlyB);
    assertThat(get(URI.create(bShared.url() + "/health")).status()).as("B's preview of the same PR").isEqualTo(200);
    assertThat(get(URI.create(bOnly.url() + "/health")).status()).as("B's other preview").isEqualTo(200);
    assertThat(b.reconcile(true).actions()).as("B sees nothing to repair").isEmpty();

    // down (a teardown by A) of a key both have: only A's side is A's to remove.
    open(a, prsA, shared);
    Preview down = a.teardown(shared, "preview down").get(90, TimeUnit.SECONDS);
    assertThat(down.state()).as(down.message()).isEqualTo(PreviewState.DELETED);
    assertThat(get(URI.create(bShared.url() + "/health")).status()).as("B's preview after A's down").isEqualTo(200);
    assertThat(b.get(shared)).map(Preview::state).contains(PreviewState.READY);
  }
}
