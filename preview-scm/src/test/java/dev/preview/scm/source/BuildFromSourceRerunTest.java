package dev.preview.scm.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.SourceFetcher;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When {@code build.from: source} builds: once per revision (an event that changes no code does not
 * build again), and never to the end for a revision a newer push has replaced (the build is stopped).
 */
class BuildFromSourceRerunTest {
  private static final PreviewKey PR7 = PreviewKey.pr("acme/shop", 7);
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  /** Logs "start <msg>" and "done <msg>" to BUILD_LOG; a commit whose message.txt is "slow" never finishes by itself. */
  private static final String BUILD = """
      import java.nio.file.*;
      public class Build {
        public static void main(String[] a) throws Exception {
          String msg = Files.readString(Path.of("message.txt")).trim();
          Path log = Path.of(System.getenv("BUILD_LOG"));
          Files.writeString(log, "start " + msg + "\\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
          if (msg.equals("slow")) {
            new java.util.concurrent.CountDownLatch(1).await(); // never finishes by itself: only stopping it ends it
          }
          Files.writeString(Path.of("built.txt"), "built " + msg);
          Files.writeString(log, "done " + msg + "\\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
      }
      """;
  private static final String SERVE = """
      import com.sun.net.httpserver.HttpServer;
      import java.net.InetSocketAddress;
      import java.nio.file.*;
      public class Serve {
        public static void main(String[] a) throws Exception {
          HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(System.getenv("PORT"))), 0);
          s.createContext("/", x -> {
            byte[] body = Files.readString(Path.of("built.txt")).getBytes();
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
          });
          s.start();
        }
      }
      """;

  @TempDir Path tmp;
  PrRepository repo;
  Path buildLog;
  PreviewOrchestrator previews;

  @BeforeEach
  void setUp() throws Exception {
    buildLog = tmp.resolve("builds.log");
    repo = new PrRepository(tmp, Map.of("Build.java", BUILD, "Serve.java", SERVE, "message.txt", "main"));
    previews = PreviewOrchestrator.builder()
        .environment(LocalEnvironmentProvider.builder().stateDir(tmp.resolve("state")).build())
        .app(AppTemplate.builder().command(JAVA, "Serve.java").build(JAVA, "Build.java")
            .env("BUILD_LOG", buildLog.toString()).buildTimeout(Duration.ofMinutes(5)).healthPath("/").build())
        .policy(PreviewPolicy.defaults())
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(tmp.resolve("ws")).build())
        .sources(GitSource.create(new SourceFetcher.Origin("github", null, repo.uri(), null)))
        .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    previews.teardown(PR7, "test over").get(60, TimeUnit.SECONDS);
    previews.close();
    repo.close();
  }

  private static PullRequest pr(RevCommit head, Set<String> labels) {
    return new PullRequest(PR7, PullRequest.State.OPEN, head.name(), "feature", "main", "dev", labels, false, false);
  }

  private List<String> builds() throws Exception {
    return Files.exists(buildLog) ? Files.readAllLines(buildLog) : List.of();
  }

  private static String get(Preview p) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(p.url()).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static boolean aBuildIsRunning() {
    return ProcessHandle.current().descendants()
        .anyMatch(h -> h.info().arguments().map(a -> List.of(a).contains("Build.java")).orElse(false));
  }

  @Test
  void aLabelEventAtTheBuiltRevisionDoesNotBuildAgainButAPushDoes() throws Exception {
    RevCommit v1 = repo.pushPr("v1");
    Preview first = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr(v1, Set.of())))
        .get(3, TimeUnit.MINUTES);
    assertThat(first.state()).as(first.toString()).isEqualTo(PreviewState.READY);
    assertThat(builds()).containsExactly("start v1", "done v1");

    Preview labeled = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.LABELED, pr(v1, Set.of("qa"))))
        .get(3, TimeUnit.MINUTES);
    assertThat(labeled.state()).as(labeled.toString()).isEqualTo(PreviewState.READY);
    assertThat(get(labeled)).isEqualTo("built v1");
    assertThat(builds()).as("no second build for the same revision").containsExactly("start v1", "done v1");

    RevCommit v2 = repo.pushPr("v2");
    Preview pushed = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pr(v2, Set.of("qa"))))
        .get(3, TimeUnit.MINUTES);
    assertThat(pushed.state()).as(pushed.toString()).isEqualTo(PreviewState.READY);
    assertThat(get(pushed)).isEqualTo("built v2");
    assertThat(builds()).containsExactly("start v1", "done v1", "start v2", "done v2");
  }

  @Test
  void aPushDuringABuildStopsThatBuildAndDeploysTheNewerRevision() throws Exception {
    RevCommit slow = repo.pushPr("slow");
    CompletableFuture<Preview> opened = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr(slow, Set.of())));
    await().atMost(Duration.ofMinutes(1)).until(() -> builds().contains("start slow"));

    RevCommit fast = repo.pushPr("fast");
    Preview pushed = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pr(fast, Set.of())))
        .get(90, TimeUnit.SECONDS); // the slow build would never end: only superseding it gets here

    assertThat(pushed.state()).as(pushed.toString()).isEqualTo(PreviewState.READY);
    assertThat(pushed.revision()).isEqualTo(fast.name());
    assertThat(get(pushed)).isEqualTo("built fast");
    assertThat(opened.get(10, TimeUnit.SECONDS).revision()).as("the superseded caller gets the newer run's outcome")
        .isEqualTo(fast.name());
    assertThat(builds()).containsExactly("start slow", "start fast", "done fast");
    await().atMost(Duration.ofSeconds(10)).until(() -> !aBuildIsRunning());
  }
}
