package dev.preview.examples.embedding;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewListener;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.examples.demo.PreviewDemo;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Embedding the library in another Java tool: the class a Jenkins or TeamCity plugin, or a chat
 * bot, writes around {@link PreviewOrchestrator}. The tool already knows when a pull request is
 * opened, pushed or closed (its own webhook, its build trigger); it hands each event to the
 * orchestrator, waits for the result and shows the URL in its own log.
 *
 * <p>Everything is built in code, no {@code preview.yaml}: the {@code local} environment provider
 * (the app runs as a process on this machine), an {@link AppTemplate}, a {@link PreviewPolicy} (only
 * PRs into {@code main}, not those labelled {@code no-preview}, three days at most) and a
 * {@link PreviewListener} that prints every step into the tool's log.
 *
 * <pre>{@code
 * try (PullRequestPreviews previews = new PullRequestPreviews(workspace, appCommand, buildLog)) {
 *   Preview p = previews.opened(PullRequest.open(PreviewKey.pr("acme/shop", 7), sha, "feature/cart", "main"));
 *   // p.url(): link it from the build page
 * }
 * }</pre>
 */
public final class PullRequestPreviews implements AutoCloseable {
  private final PreviewOrchestrator previews;
  private final PrintStream log;

  /**
   * @param workDir where the previews' state files and logs live (e.g. the plugin's workspace)
   * @param appCommand how to start the app; it must listen on {@code $PORT} and answer {@code /health}
   * @param log the tool's log
   */
  public PullRequestPreviews(Path workDir, List<String> appCommand, PrintStream log) {
    this.log = log;
    this.previews = PreviewOrchestrator.builder()
        .environment(LocalEnvironmentProvider.builder().stateDir(workDir.resolve("state")).workDir(workDir).build())
        .app(AppTemplate.builder()
            .command(appCommand)
            .healthPath("/health")
            .env("GREETING", "hello from a CI plugin")
            .readinessTimeout(Duration.ofSeconds(60))
            .readinessInterval(Duration.ofMillis(100))
            .build())
        .policy(PreviewPolicy.builder()
            .targets(List.of("main"))
            .excludeLabels(Set.of("no-preview"))
            .ttl(Duration.ofDays(3))
            .build())
        .listener(new BuildLog(log))
        .build();
  }

  /** A PR was opened: deploys it and returns once it is READY (or FAILED, or refused by the policy). */
  public Preview opened(PullRequest pr) {
    return handle(Action.OPENED, pr);
  }

  /** New commits on the PR: redeploys it at {@code pr.headSha()}. */
  public Preview pushed(PullRequest pr) {
    return handle(Action.UPDATED, pr);
  }

  /** The PR was closed or merged: removes everything of it. */
  public Preview closed(PullRequest pr) {
    return handle(Action.CLOSED, pr);
  }

  private Preview handle(Action action, PullRequest pr) {
    Preview p = previews.handle(PullRequestEvent.of(action, pr)).join();
    if (p.state() == PreviewState.READY) {
      log.println(p.key() + " is READY at " + p.url() + " (revision " + p.revision() + ")");
    } else {
      log.println(p.key() + " is " + p.state() + (p.message() == null ? "" : ": " + p.message()));
    }
    return p;
  }

  /** Stops the orchestrator; running previews stay (the next instance finds them in the state directory). */
  @Override
  public void close() {
    previews.close();
  }

  /** Every step with its timing, into the tool's log. */
  private static final class BuildLog implements PreviewListener {
    private final PrintStream log;

    BuildLog(PrintStream log) {
      this.log = log;
    }

    @Override
    public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
      log.println(String.format(Locale.ROOT, "[%s] %-12s %5d ms%s", key.id(), step, took.toMillis(),
          failure == null ? "" : "  FAILED: " + failure.getMessage()));
    }

    @Override
    public void onTransition(PreviewKey key, PreviewState state, String message) {
      log.println("[" + key.id() + "] -> " + state);
    }
  }

  /** Opens, pushes and closes PR 7 of {@code acme/shop}, with the sample app of the demo. */
  public static void main(String[] args) throws Exception {
    Path work = Files.createTempDirectory("preview-embedding-");
    PullRequest pr = PullRequest.open(PreviewKey.pr("acme/shop", 7), "1111111111111111111111111111111111111111", "feature/cart", "main");
    try (PullRequestPreviews previews = new PullRequestPreviews(work, PreviewDemo.sampleAppCommand(), System.out)) {
      previews.opened(pr);
      previews.pushed(pr.withHeadSha("2222222222222222222222222222222222222222"));
      previews.closed(pr);
    }
  }
}
