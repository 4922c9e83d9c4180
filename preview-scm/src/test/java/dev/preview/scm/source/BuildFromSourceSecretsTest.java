package dev.preview.scm.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewListener;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Redactor;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import dev.preview.testkit.FakeScmNotifier;
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
 * A failed {@code app.build} reports its last lines in the FAILED status, and those lines are the
 * PR's code's output: whatever secret the orchestrator knows must not reach the PR through them,
 * even when a secret value was put in the app's plain {@code env} by mistake (the one way the build,
 * which gets no secret, can see one). The app's secret, an installation secret and the
 * {@code build.token} are each echoed by the build, bare and as {@code NAME=value}.
 */
class BuildFromSourceSecretsTest {
  private static final PreviewKey PR7 = PreviewKey.pr("acme/shop", 7);
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final String APP_SECRET = "s3cretAppValue42";
  private static final String INSTALLATION_SECRET = "ghp_installationTok3nXYZ";
  private static final String BUILD_TOKEN = "glpat-buildTok3nForFetch";
  /** Prints what it got in its plain env (and its argument), then fails. */
  private static final String BUILD = """
      public class Build {
        public static void main(String[] a) throws Exception {
          System.out.println("compiling with " + System.getenv("COPY_OF_APP_SECRET"));
          System.out.println("API_KEY=" + System.getenv("COPY_OF_APP_SECRET"));
          System.out.println("registry login " + System.getenv("COPY_OF_INSTALLATION_SECRET"));
          System.out.println("fetch token " + System.getenv("COPY_OF_BUILD_TOKEN"));
          System.out.println("arg " + (a.length > 0 ? a[0] : ""));
          System.out.println("error: cannot find symbol Foo");
          System.exit(2);
        }
      }
      """;

  @TempDir Path tmp;
  PrRepository repo;
  FakeScmNotifier notifier = new FakeScmNotifier();
  List<String> transitions = new CopyOnWriteArrayList<>();
  PreviewOrchestrator previews;

  @BeforeEach
  void setUp() throws Exception {
    repo = new PrRepository(tmp, Map.of("Build.java", BUILD, "message.txt", "main"));
  }

  /** The orchestrator, knowing {@code installation} as the installation's secrets; build.token always in BuildSettings. */
  private void orchestrator(Redactor installation) {
    AppTemplate app = AppTemplate.builder()
        .command(JAVA, "-version")
        // the installation secret also given on the build's command line, so it is in the reason
        .build(JAVA, "Build.java", INSTALLATION_SECRET)
        .buildTimeout(Duration.ofMinutes(2))
        .healthPath("/")
        .secret("API_KEY", Secret.of(APP_SECRET))
        // by mistake: secret values in the plain env, which the build does get
        .env("COPY_OF_APP_SECRET", APP_SECRET)
        .env("COPY_OF_INSTALLATION_SECRET", INSTALLATION_SECRET)
        .env("COPY_OF_BUILD_TOKEN", BUILD_TOKEN)
        .build();
    previews = PreviewOrchestrator.builder()
        .environment(LocalEnvironmentProvider.builder().stateDir(tmp.resolve("state")).build())
        .notifier(notifier)
        .app(app)
        .policy(PreviewPolicy.defaults())
        .redactor(installation)
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(tmp.resolve("workspaces"))
            .token(Secret.of(BUILD_TOKEN)).build())
        .sources(GitSource.create(new SourceFetcher.Origin("github", null, repo.uri(), null)))
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            transitions.add(state + " " + message);
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

  @Test
  void noSecretTheOrchestratorKnowsReachesTheFailedStatusOfABuildThatPrintsIt() throws Exception {
    // what PreviewAssembly hands over from preview.yaml (PreviewConfig.redactor): build.token among them
    orchestrator(Redactor.of(List.of(Secret.of(INSTALLATION_SECRET), Secret.of(BUILD_TOKEN)), List.of()));
    assertNoSecretInTheFailedStatus();
  }

  /**
   * A library user who builds the orchestrator in code gives build.token to BuildSettings only: the
   * orchestrator should learn it as it learns app.secrets. Today it does not (the tail shows
   * "fetch token glpat-..."): PreviewOrchestrator's constructor builds its Redaction from the builder's
   * redactor and app.secrets() only.
   */
  @Test
  void aBuildTokenGivenOnlyInBuildSettingsIsRedactedToo() throws Exception {
    orchestrator(Redactor.of(List.of(Secret.of(INSTALLATION_SECRET)), List.of()));
    assertNoSecretInTheFailedStatus();
  }

  /** The first test's premise: from preview.yaml, build.token is one of the secrets the orchestrator is given. */
  @Test
  void previewYamlsBuildTokenIsAmongTheSecretsHandedToTheOrchestrator() {
    dev.preview.core.assembly.PreviewConfig config = dev.preview.core.assembly.PreviewConfig.parse(String.join("\n",
        "repository: acme/shop",
        "app:",
        "  command: [java, -version]",
        "  build: [java, Build.java]",
        "environment: {provider: local}",
        "build:",
        "  from: source",
        "  repository: https://git.example.com/acme/shop.git",
        "  token: ${BUILD_TOKEN}",
        ""), name -> name.equals("BUILD_TOKEN") ? BUILD_TOKEN : null, "preview.yaml");

    assertThat(config.redactor().redact("fetch token " + BUILD_TOKEN)).isEqualTo("fetch token " + Redactor.MASK);
  }

  private void assertNoSecretInTheFailedStatus() throws Exception {
    RevCommit head = repo.pushPr("v1");
    PullRequest pr = new PullRequest(PR7, PullRequest.State.OPEN, head.name(), "feature", "main", "dev", Set.of(),
        false, false);

    Preview p = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(3, TimeUnit.MINUTES);

    assertThat(p.state()).as(p.toString()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("build");
    PreviewStatus failed = await().atMost(Duration.ofSeconds(10)).until(() -> notifier.latest(PR7).orElse(null),
        s -> s != null && s.state() == PreviewState.FAILED);
    assertThat(failed.failedStep()).isEqualTo("build");
    // the lines are there (a redactor that drops lines would pass the checks below), their secrets are not
    assertThat(failed.logTail()).containsExactly(
        "compiling with " + Redactor.MASK,
        "API_KEY=" + Redactor.MASK,
        "registry login " + Redactor.MASK,
        "fetch token " + Redactor.MASK,
        "arg " + Redactor.MASK,
        "error: cannot find symbol Foo");
    assertThat(failed.message()).contains("app.build", "exit code 2", Redactor.MASK);
    for (String secret : List.of(APP_SECRET, INSTALLATION_SECRET, BUILD_TOKEN)) {
      assertThat(String.join("\n", failed.logTail())).doesNotContain(secret);
      assertThat(failed.message()).doesNotContain(secret);
      assertThat(p.message()).doesNotContain(secret);
      assertThat(String.join("\n", transitions)).doesNotContain(secret);
      assertThat(notifier.history(PR7)).allSatisfy(s -> {
        assertThat(s.message()).doesNotContain(secret);
        assertThat(String.join("\n", s.logTail())).doesNotContain(secret);
      });
    }
  }
}
