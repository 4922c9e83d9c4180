package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Installation;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.spi.SourceFetcher;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Faults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code build.from: source}, reconcile removes the workspaces nothing else tears down: those
 * left without an environment whose PR is gone. Open PRs' and busy keys' workspaces, and directories
 * it cannot map back to a key, are left alone.
 */
class WorkspaceReconcileTest {
  static final String REPO = "acme/shop";
  static final PreviewKey PR1 = PreviewKey.pr(REPO, 1);
  static final PreviewKey PR2 = PreviewKey.pr(REPO, 2);

  @TempDir Path tmp;
  Path root;
  final Faults faults = new Faults();
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider(faults);
  final FakePullRequestSource source = new FakePullRequestSource();
  PreviewOrchestrator orchestrator;

  /** Writes the "checkout": one file naming the SHA. */
  final SourceFetcher fetcher = (key, sha, workspace) -> {
    try {
      Files.createDirectories(workspace);
      Files.writeString(workspace.resolve("REVISION"), sha);
      return workspace;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  };

  @BeforeEach
  void setUp() {
    root = tmp.resolve("workspaces");
    orchestrator = PreviewOrchestrator.builder()
        .environment(env).notifier(new FakeScmNotifier()).pullRequests(source)
        .app(AppTemplate.builder().image("registry.example/shop:pr").readinessTimeout(Duration.ofMillis(300))
            .readinessInterval(Duration.ofMillis(10)).build())
        .healthCheck(url -> true)
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(root).build())
        .sources(fetcher)
        .build();
  }

  @AfterEach
  void close() {
    faults.clear();
    orchestrator.close();
  }

  Path workspace(PreviewKey key) {
    return root.resolve(Names.dnsLabel(Installation.defaults(), key));
  }

  Path keyFile(PreviewKey key) {
    return root.resolve(Names.dnsLabel(Installation.defaults(), key) + ".key");
  }

  PullRequest open(PreviewKey key) {
    PullRequest pr = PullRequest.open(key, "abc" + key.number(), "feature-" + key.number(), "main");
    source.put(pr);
    return pr;
  }

  static Preview done(CompletableFuture<Preview> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  /** A deploy that fails after its build: the workspace stays, no environment. */
  void deployFailingAtEnvironment(PreviewKey key) throws Exception {
    faults.failNext("environment.apply");
    Preview p = done(orchestrator.handle(PullRequestEvent.of(Action.OPENED, open(key))));
    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(env.keys()).doesNotContain(key);
    assertThat(workspace(key).resolve("REVISION")).hasContent("abc" + key.number());
  }

  @Test
  void a_build_records_its_key_next_to_the_workspace() throws Exception {
    Preview p = done(orchestrator.handle(PullRequestEvent.of(Action.OPENED, open(PR1))));

    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(Files.readString(keyFile(PR1)).strip()).isEqualTo(PR1.id());
  }

  @Test
  void a_workspace_without_environment_whose_pr_is_gone_is_removed() throws Exception {
    deployFailingAtEnvironment(PR1);
    source.close(PR1); // and the close webhook was missed

    ReconcileReport r = orchestrator.reconcile(false);

    assertThat(r.actions()).containsExactly(
        new ReconcileReport.Action(PR1, ReconcileReport.Kind.DELETE_ORPHAN, "its PR is no longer open", true));
    assertThat(workspace(PR1)).doesNotExist();
    assertThat(keyFile(PR1)).doesNotExist();
    assertThat(orchestrator.reconcile(false).actions()).as("level-triggered: nothing left").isEmpty();
  }

  @Test
  void a_dry_run_reports_the_workspace_and_removes_nothing() throws Exception {
    deployFailingAtEnvironment(PR1);
    source.close(PR1);

    ReconcileReport r = orchestrator.reconcile(true);

    assertThat(r.actions()).containsExactly(
        new ReconcileReport.Action(PR1, ReconcileReport.Kind.DELETE_ORPHAN, "its PR is no longer open", false));
    assertThat(workspace(PR1)).exists();
  }

  @Test
  void the_workspace_of_an_open_pr_is_kept() throws Exception {
    deployFailingAtEnvironment(PR1);

    ReconcileReport r = orchestrator.reconcile(false);

    assertThat(r.actions()).isEmpty();
    assertThat(workspace(PR1).resolve("REVISION")).exists();
    assertThat(keyFile(PR1)).exists();
  }

  @Test
  void the_workspace_of_a_pr_with_work_in_flight_is_left_alone_until_it_is_done() throws Exception {
    Faults.Gate gate = faults.block("environment.apply");
    CompletableFuture<Preview> running = orchestrator.handle(PullRequestEvent.of(Action.OPENED, open(PR2)));
    assertThat(gate.awaitEntered(Duration.ofSeconds(10))).isTrue(); // built, applying
    source.close(PR2);

    ReconcileReport r = orchestrator.reconcile(false);

    assertThat(r.actions()).isEmpty();
    assertThat(workspace(PR2).resolve("REVISION")).exists();
    gate.release();
    // The deploy asks the SCM again once applied (its fence step): the PR is gone, so the deploy
    // removes what it made, workspace included, and leaves nothing for the next reconcile.
    assertThat(done(running).state()).isEqualTo(PreviewState.DELETED);
    assertThat(orchestrator.reconcile(false).actions()).isEmpty();
    assertThat(workspace(PR2)).doesNotExist();
    assertThat(keyFile(PR2)).doesNotExist();
  }

  @Test
  void directories_it_cannot_map_to_a_key_and_other_installations_workspaces_are_left_alone() throws Exception {
    deployFailingAtEnvironment(PR1);
    source.close(PR1);
    Path stray = Files.createDirectories(root.resolve("something-by-hand"));
    Installation other = Installation.builder().instance("staging").build();
    String otherName = Names.dnsLabel(other, PR2);
    Path othersWorkspace = Files.createDirectories(root.resolve(otherName));
    Files.writeString(root.resolve(otherName + ".key"), PR2.id() + "\n");
    Path garbled = Files.createDirectories(root.resolve("garbled"));
    Files.writeString(root.resolve("garbled.key"), "not a key\n");

    ReconcileReport r = orchestrator.reconcile(false);

    assertThat(r.actions()).extracting(ReconcileReport.Action::key).containsExactly(PR1);
    assertThat(r.errors()).isEmpty();
    assertThat(workspace(PR1)).doesNotExist();
    assertThat(stray).exists();
    assertThat(othersWorkspace).exists();
    assertThat(root.resolve(otherName + ".key")).exists();
    assertThat(garbled).exists();
  }

  @Test
  void no_workspaces_root_yet_is_nothing_to_do() {
    assertThat(root).doesNotExist();

    assertThat(orchestrator.reconcile(false).actions()).isEmpty();
  }
}
