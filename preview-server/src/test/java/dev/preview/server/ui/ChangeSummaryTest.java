package dev.preview.server.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.scm.StatusComment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a preview changes against main, from the PR's own checkout ({@code build.from: source}) and
 * its labels: in the sticky status (and its rendered comment) and on the dashboard.
 */
class ChangeSummaryTest {
  private static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  private static final String TOKEN = "tok-0123456789-secret";

  @TempDir Path tmp;
  private Path main;
  private Path prCheckout;
  private final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  private final FakePullRequestSource prs = new FakePullRequestSource();
  private final FakeScmNotifier notifier = new FakeScmNotifier();
  private final PreviewBoard board = new PreviewBoard(new MutableClock(Instant.parse("2026-12-01T10:00:00Z")));
  private PreviewOrchestrator orchestrator;

  @BeforeEach
  void checkouts() throws IOException {
    main = Files.createDirectories(tmp.resolve("main"));
    Files.createDirectories(main.resolve("db/migration"));
    Files.writeString(main.resolve("db/migration/V1__init.sql"), "create table t (id int);");
    prCheckout = Files.createDirectories(tmp.resolve("pr"));
    Files.createDirectories(prCheckout.resolve("db/migration"));
    Files.writeString(prCheckout.resolve("db/migration/V1__init.sql"), "create table t (id int);");
    orchestrator = PreviewOrchestrator.builder().environment(env).pullRequests(prs).notifier(notifier)
        .app(AppTemplate.builder().buildContext(main).env("LOG_LEVEL", "info").secret("API_TOKEN", Secret.of(TOKEN)).build())
        .policy(PreviewPolicy.builder().flag("new-checkout", false).build())
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(tmp.resolve("ws"))
            .migrations("db/migration").build())
        // "fetches" the PR's head: its checkout, as the test left it
        .sources((key, sha, workspace) -> copy(prCheckout, workspace))
        .healthCheck(url -> true).listener(board).build();
    board.orchestrator(orchestrator);
  }

  private static Path copy(Path from, Path to) {
    try (var files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return to;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private PreviewStatus deploy(PullRequest pr) throws Exception {
    prs.put(pr);
    assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pr)).get(30, TimeUnit.SECONDS).state())
        .isEqualTo(PreviewState.READY);
    return notifier.latest(KEY).orElseThrow();
  }

  @Test
  void aPullRequestThatAddsAMigrationAndAFlagLabelShowsBoth() throws Exception {
    Files.writeString(prCheckout.resolve("db/migration/V2__add_orders.sql"), "create table orders (id int);");
    PullRequest pr = PullRequest.open(KEY, "7".repeat(40), "feature", "main").withLabels(Set.of("flag:new-checkout"));

    PreviewStatus status = deploy(pr);

    assertThat(status.changes()).containsExactly("migration added: V2__add_orders.sql", "flag new-checkout: on (default off)");
    assertThat(StatusComment.render(status)).contains("| **Changes vs main** | migration added: V2__add_orders.sql<br>"
        + "flag new-checkout: on (default off) |");
    assertThat(board.row(KEY).orElseThrow().changes()).isEqualTo(status.changes());
    orchestrator.close();
  }

  @Test
  void aPullRequestThatAddsAnEnvVarAndDropsASecretShowsBothByNameOnly() throws Exception {
    String declared = "# what the app reads\nLOG_LEVEL=info\nAPI_TOKEN=example-token-value\n";
    Files.writeString(main.resolve(".env.example"), declared);
    Files.writeString(prCheckout.resolve(".env.example"), "# what the app reads\nLOG_LEVEL=debug\n"
        + "export CHECKOUT_URL=https://pay.example.com/v2\n");

    PreviewStatus status = deploy(PullRequest.open(KEY, "7".repeat(40), "feature", "main"));

    assertThat(status.changes()).containsExactly("env added: CHECKOUT_URL (not in the app template)",
        "secret removed: API_TOKEN");
    String comment = StatusComment.render(status);
    assertThat(comment).contains("env added: CHECKOUT_URL (not in the app template)<br>secret removed: API_TOKEN");
    assertThat(board.row(KEY).orElseThrow().changes()).isEqualTo(status.changes());
    assertThat(String.join("\n", status.changes()) + comment).as("names only, never a value")
        .doesNotContain("pay.example.com", "example-token-value", "debug", TOKEN);
    orchestrator.close();
  }

  @Test
  void theSameDeclarationsOnBothSidesShowNoEnvChange() throws Exception {
    Files.writeString(main.resolve(".env.example"), "LOG_LEVEL=info\nAPI_TOKEN=\n");
    Files.writeString(prCheckout.resolve(".env.example"), "LOG_LEVEL=info\nAPI_TOKEN=\n");

    PreviewStatus status = deploy(PullRequest.open(KEY, "7".repeat(40), "feature", "main"));

    assertThat(status.changes()).isEmpty();
    assertThat(board.row(KEY).orElseThrow().changes()).isEmpty();
    orchestrator.close();
  }

  @Test
  void theSamePullRequestWithoutChangesShowsNone() throws Exception {
    PreviewStatus status = deploy(PullRequest.open(KEY, "7".repeat(40), "feature", "main"));

    assertThat(status.changes()).isEmpty();
    assertThat(StatusComment.render(status)).doesNotContain("Changes vs main");
    assertThat(board.row(KEY).orElseThrow().changes()).isEmpty();
    orchestrator.close();
  }
}
