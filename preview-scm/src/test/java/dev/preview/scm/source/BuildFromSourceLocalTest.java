package dev.preview.scm.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewListener;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.core.policy.ForkMode;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeScmNotifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code build.from: source} with the embedded local provider, end to end: the PR's head is fetched
 * from a real repository, {@code app.build} (a Java program committed in the PR) writes a file in
 * the checkout, and {@code app.command} (another) serves it: the preview shows the PR's own build.
 */
class BuildFromSourceLocalTest {
  private static final PreviewKey PR7 = PreviewKey.pr("acme/shop", 7);
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final String BUILD = """
      import java.nio.file.*;
      public class Build {
        public static void main(String[] a) throws Exception {
          String msg = Files.readString(Path.of("message.txt")).trim();
          if (msg.equals("broken")) {
            System.out.println("compiling 3 files");
            System.out.println("error: cannot find symbol Foo");
            System.exit(3);
          }
          Files.writeString(Path.of("built.txt"), "built " + System.getenv("PREVIEW_REVISION") + " " + msg
              + " secret=" + System.getenv("API_KEY") + " db=" + System.getenv("DATABASE_URL"));
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
            byte[] body = (Files.readString(Path.of("built.txt")) + " app-secret=" + System.getenv("API_KEY")).getBytes();
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
  Path workspaces;
  FakeScmNotifier notifier = new FakeScmNotifier();
  FakeDatabaseProvider database = new FakeDatabaseProvider();
  List<PreviewState> transitions = new CopyOnWriteArrayList<>();
  PreviewOrchestrator previews;

  @BeforeEach
  void setUp() throws Exception {
    repo = new PrRepository(tmp, Map.of("Build.java", BUILD, "Serve.java", SERVE, "message.txt", "main"));
    workspaces = tmp.resolve("workspaces");
  }

  private PreviewOrchestrator orchestrator(PreviewPolicy policy) {
    return orchestrator(policy, true);
  }

  /** {@code withBuild}: whether the app has an {@code app.build} (without, the app runs the checkout as it is). */
  private PreviewOrchestrator orchestrator(PreviewPolicy policy, boolean withBuild) {
    LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(tmp.resolve("state")).build();
    AppTemplate.Builder template = AppTemplate.builder().command(JAVA, "Serve.java");
    if (withBuild) {
      template.build(JAVA, "Build.java");
    }
    AppTemplate app = template
        .buildTimeout(Duration.ofMinutes(2))
        .healthPath("/")
        .secret("API_KEY", Secret.of("s3cret"))
        .build();
    return PreviewOrchestrator.builder()
        .environment(local)
        .database(database)
        .notifier(notifier)
        .app(app)
        .policy(policy)
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(workspaces).build())
        .sources(GitSource.create(new SourceFetcher.Origin("github", null, repo.uri(), null)))
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            transitions.add(state);
          }
        })
        .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (previews != null) {
      previews.teardown(PR7, "test over").get(60, TimeUnit.SECONDS);
      previews.close();
    }
    repo.close();
  }

  private Preview deploy(PullRequest pr, PullRequestEvent.Action action) throws Exception {
    return previews.handle(PullRequestEvent.of(action, pr)).get(3, TimeUnit.MINUTES);
  }

  private static PullRequest pr(RevCommit head, boolean fork) {
    return new PullRequest(PR7, PullRequest.State.OPEN, head.name(), "feature", "main", "dev", Set.of(), false, fork);
  }

  private static String get(URI url) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void buildsAndRunsThePrsOwnCodeAtEachPushWithoutSecretsInTheBuild() throws Exception {
    previews = orchestrator(PreviewPolicy.defaults());
    RevCommit v1 = repo.pushPr("v1");

    Preview first = deploy(pr(v1, false), PullRequestEvent.Action.OPENED);

    assertThat(first.state()).as(first.toString()).isEqualTo(PreviewState.READY);
    assertThat(transitions).containsSubsequence(PreviewState.BUILDING, PreviewState.READY);
    // The build ran at v1 without any secret (neither the app's nor the database's); the app has them.
    assertThat(get(first.url())).isEqualTo("built " + v1.name() + " v1 secret=null db=null app-secret=s3cret");
    Path workspace = workspaces.resolve(dev.preview.spi.Names.dnsLabel(PR7));
    assertThat(database.spec(PR7).orElseThrow().buildContext()).isEqualTo(workspace);
    await().atMost(Duration.ofSeconds(10)).until(() -> notifier.history(PR7).stream()
        .anyMatch(s -> s.state() == PreviewState.BUILDING && v1.name().equals(s.revision())));

    RevCommit v2 = repo.pushPr("v2");
    Preview second = deploy(pr(v2, false), PullRequestEvent.Action.UPDATED);

    assertThat(second.state()).as(second.toString()).isEqualTo(PreviewState.READY);
    assertThat(get(second.url())).isEqualTo("built " + v2.name() + " v2 secret=null db=null app-secret=s3cret");

    previews.teardown(PR7, "closed").get(60, TimeUnit.SECONDS);
    assertThat(workspace).doesNotExist();
    assertThat(workspaces.resolve(dev.preview.spi.Names.dnsLabel(PR7) + ".build.log")).doesNotExist();
  }

  @Test
  void aFailedBuildFailsStepBuildWithItsOutputAndCreatesNothing() throws Exception {
    previews = orchestrator(PreviewPolicy.defaults());
    RevCommit broken = repo.pushPr("broken");

    Preview p = deploy(pr(broken, false), PullRequestEvent.Action.OPENED);

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("build");
    assertThat(p.message()).contains("app.build").contains("exit code 3").contains(broken.name());
    PreviewStatus failed = await().atMost(Duration.ofSeconds(10)).until(() -> notifier.latest(PR7).orElse(null),
        s -> s != null && s.state() == PreviewState.FAILED);
    assertThat(failed.failedStep()).isEqualTo("build");
    assertThat(failed.logTail()).containsExactly("compiling 3 files", "error: cannot find symbol Foo");
    assertThat(previews.get(PR7)).isEmpty();
    assertThat(database.list()).doesNotContain(PR7);
  }

  /** A fork's build is anyone's code: never run as root (this JVM's user) on the server's host. */
  @Test
  void aForksBuildIsNeverRunAsRootOnTheHost() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(LocalEnvironmentProvider.currentUid() == 0,
        "runs as root only (the CI and this machine do)");
    previews = orchestrator(PreviewPolicy.defaults());
    RevCommit fork = repo.pushPr("v1");

    Preview p = deploy(pr(fork, true), PullRequestEvent.Action.OPENED);

    assertThat(p.state()).as(p.toString()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("build");
    assertThat(p.message()).contains("app.build would run a fork PR's code as root", "environment.user");
    assertThat(workspaces.resolve(dev.preview.spi.Names.dnsLabel(PR7) + ".build.log")).as("the build never ran")
        .satisfies(f -> assertThat(!Files.exists(f) || Files.size(f) == 0).isTrue());
  }

  /** Without an {@code app.build}, the app itself runs the fork's checkout: refused as root all the same. */
  @Test
  void aForksCheckoutIsNeverRunAsRootByTheApp() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(LocalEnvironmentProvider.currentUid() == 0,
        "runs as root only (the CI and this machine do)");
    previews = orchestrator(PreviewPolicy.defaults(), false);
    RevCommit fork = repo.pushPr("v1");

    Preview p = deploy(pr(fork, true), PullRequestEvent.Action.OPENED);

    assertThat(p.state()).as(p.toString()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("environment");
    assertThat(p.message()).contains("it is a fork PR", "as root", "environment.user: auto");
    assertThat(ProcessHandle.current().descendants().anyMatch(h -> h.info().arguments()
        .map(a -> List.of(a).contains("Serve.java")).orElse(false))).as("the app never started").isFalse();
  }

  @Test
  void aForkThePolicyDeniesIsNeverFetchedNorBuilt() throws Exception {
    previews = orchestrator(PreviewPolicy.builder().forks(ForkMode.DENY).build());
    RevCommit fork = repo.pushPr("v1");

    Preview p = deploy(pr(fork, true), PullRequestEvent.Action.OPENED);

    assertThat(p.state()).isEqualTo(PreviewState.DELETED);
    assertThat(transitions).doesNotContain(PreviewState.BUILDING);
    assertThat(workspaces).doesNotExist();
  }
}
