package dev.preview.server.ui;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewActions;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.server.OperatorLog;
import dev.preview.server.WebhookServer;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.MutableClock;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/** An orchestrator on fakes, its board and a server with the dashboard: what the dashboard tests share. */
final class DashboardFixture implements AutoCloseable {
  static final String ADMIN = "admin-token-0123456789abcdef";
  static final String READ = "read-token-0123456789abcdef";
  static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  static final String SECRET = "s3cr3t-app-value-42";
  static final String WEBHOOK_SECRET = "whsecret-0123456789";

  final MutableClock clock = new MutableClock(NOW);
  final FakeEnvironmentProvider env;
  final FakePullRequestSource prs = new FakePullRequestSource();
  final FakeScmNotifier notifier = new FakeScmNotifier();
  final PreviewBoard board = new PreviewBoard(clock);
  final PreviewOrchestrator orchestrator;
  final PreviewActions actions;
  final WebhookServer server;

  DashboardFixture() throws IOException {
    this(DashboardSettings.tokens(Secret.of(ADMIN), Secret.of(READ)).withRefresh(Duration.ofSeconds(1)));
  }

  DashboardFixture(DashboardSettings settings) throws IOException {
    this(settings, null);
  }

  final PrCommands commands;
  /** Whether this server leads (default yes), and who does. */
  final java.util.concurrent.atomic.AtomicBoolean leads = new java.util.concurrent.atomic.AtomicBoolean(true);
  final java.util.concurrent.atomic.AtomicReference<String> leader = new java.util.concurrent.atomic.AtomicReference<>();

  /** With {@code permissions}: {@code /preview} comment commands are carried out too. */
  DashboardFixture(DashboardSettings settings, dev.preview.scm.CommandPermissions permissions) throws IOException {
    this(settings, permissions, new FakeEnvironmentProvider());
  }

  /** On {@code env} (e.g. {@code other.env.reopen()}: a restarted server, or another replica, on the same infrastructure). */
  DashboardFixture(DashboardSettings settings, dev.preview.scm.CommandPermissions permissions, FakeEnvironmentProvider env)
      throws IOException {
    this.env = env;
    PreviewPolicy policy = PreviewPolicy.builder().ttl(Duration.ofDays(7)).build();
    orchestrator = PreviewOrchestrator.builder().environment(env).pullRequests(prs).notifier(notifier)
        .app(AppTemplate.builder().secret("API_TOKEN", Secret.of(SECRET)).build())
        .policy(policy).clock(clock).healthCheck(url -> true).listener(board).build();
    board.orchestrator(orchestrator).pullRequestLinks(k -> URI.create("https://github.com/" + k.repository() + "/pull/" + k.number()));
    actions = PreviewActions.of(orchestrator, policy, clock);
    WebhookServer.Builder b = WebhookServer.builder().orchestrator(orchestrator)
        .source(GitHubWebhookSource.builder(Secret.of(WEBHOOK_SECRET)).build())
        .source(dev.preview.scm.gitlab.GitLabWebhookSource.builder(Secret.of(WEBHOOK_SECRET)).build())
        .port(0).bind("127.0.0.1").mount(Dashboard.create(board, actions, settings, OperatorLog.text(), clock)
            .leadership(leadership()).compressed(), Dashboard.prefixes());
    commands = permissions == null ? null : new PrCommands(actions, permissions, OperatorLog.text()).leadership(leadership());
    if (commands != null) {
      b.commands(commands);
    }
    server = b.start();
  }

  Leadership leadership() {
    return Leadership.of(leads::get, () -> java.util.Optional.ofNullable(leader.get()));
  }

  static PullRequest pr(int number) {
    return PullRequest.open(PreviewKey.pr("acme/shop", number), Integer.toString(number % 10).repeat(40),
        "feature-" + number, "main");
  }

  Preview deploy(PullRequest pr) throws Exception {
    prs.put(pr);
    return orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(30, TimeUnit.SECONDS);
  }

  /** #1 ready, #2 failed at the environment step, #3 asleep. */
  void threePreviews() throws Exception {
    if (deploy(pr(1)).state() != PreviewState.READY) {
      throw new AssertionError("#1 did not get ready");
    }
    env.faults().failNext("environment.apply");
    if (deploy(pr(2)).state() != PreviewState.FAILED) {
      throw new AssertionError("#2 did not fail");
    }
    deploy(pr(3));
    orchestrator.sleep(pr(3).key(), "idle").get(30, TimeUnit.SECONDS);
  }

  URI url(String path) {
    return server.url().resolve(path);
  }

  @Override
  public void close() {
    server.close();
    if (commands != null) {
      commands.close();
    }
    orchestrator.close();
  }
}
