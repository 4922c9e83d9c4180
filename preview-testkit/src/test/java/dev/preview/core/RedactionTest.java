package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.console.ConsoleNotifier;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Redactor;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeDatabaseProvider;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakeScmNotifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app that prints every env var and crashes: the PR comment, the server log, the listeners and
 * the state directory hold no secret value (the app's, the database password, the installation's).
 */
class RedactionTest {
  static final String STRIPE = "sk_live_51HxYzSTRIPEvalue";
  static final String INSTALLATION_TOKEN = "ghp_installationTOKEN_0123456789";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 9);

  @TempDir Path dir;
  final FakeScmNotifier scm = new FakeScmNotifier();
  final FakeDatabaseProvider db = new FakeDatabaseProvider();
  final List<String> heard = new CopyOnWriteArrayList<>();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();
  PrintStream originalErr;
  PreviewOrchestrator orchestrator;

  @BeforeEach
  void captureTheLog() {
    originalErr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8)); // slf4j-simple writes to System.err
  }

  @AfterEach
  void close() {
    System.setErr(originalErr);
    if (orchestrator != null) {
      orchestrator.close();
    }
  }

  private PreviewOrchestrator.Builder builder(dev.preview.spi.EnvironmentProvider env, AppTemplate app) {
    return PreviewOrchestrator.builder().environment(env).database(db).notifier(scm).app(app)
        .redactor(Redactor.of(List.of(Secret.of(INSTALLATION_TOKEN)), List.of()))
        .healthCheck(url -> true)
        .listener(new PreviewListener() {
          @Override
          public void onTransition(PreviewKey key, PreviewState state, String message) {
            heard.add(state + " " + message);
          }

          @Override
          public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
            if (failure != null) {
              heard.add(step + " " + failure);
            }
          }
        });
  }

  private Preview deploy() throws Exception {
    PullRequest pr = PullRequest.open(KEY, "a".repeat(40), "feature", "main");
    return orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(30, TimeUnit.SECONDS);
  }

  /** What must never show: the app's secret, its database password and URL, the installation's token. */
  private List<String> secrets() {
    var c = db.create(KEY, new dev.preview.spi.DatabaseSpec(null, java.util.Map.of(), null)); // idempotent: the same
    return List.of(STRIPE, INSTALLATION_TOKEN, c.password().reveal(), c.secretEnv().get("DATABASE_URL").reveal());
  }

  private static void assertClean(String where, String text, List<String> secrets) {
    for (String s : secrets) {
      assertThat(text).as(where + " holds no secret").doesNotContain(s);
    }
  }

  @Test
  void anAppThatPrintsItsEnvironmentAndCrashesLeaksNothing() throws Exception {
    LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(Duration.ofSeconds(5)).build();
    AppTemplate app = AppTemplate.builder().command(List.of("/bin/sh", "-c", "env; echo crashing; exit 3"))
        .secret("STRIPE_KEY", Secret.of(STRIPE)).build();
    orchestrator = builder(local, app).build();

    Preview p = deploy();

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    List<String> secrets = secrets();
    PreviewStatus failed = scm.latest(KEY).orElseThrow();
    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    // positive controls: the env dump did reach the PR, only without values
    assertThat(failed.message()).contains("exited at once with code 3").contains("STRIPE_KEY=******");
    assertThat(String.join("\n", failed.logTail())).contains("STRIPE_KEY=******").contains("DATABASE_URL=******")
        .contains("crashing");
    String comment = ConsoleNotifier.render(failed);
    assertClean("the PR comment", comment + failed, secrets);
    assertClean("the PR status history", scm.all().toString() + scm.all().stream()
        .map(s -> s.message() + s.logTail()).toList(), secrets);
    assertClean("the returned preview", p.toString() + p.message(), secrets);
    assertClean("the listeners", heard.toString(), secrets);
    String log = err.toString(StandardCharsets.UTF_8);
    assertThat(log).contains("deploy of " + "a".repeat(40) + " failed at step environment");
    assertClean("the server log", log, secrets);
    try (Stream<Path> files = Files.walk(dir.resolve("state"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertClean("state file " + f.getFileName(), Files.readString(f), secrets);
      }
    }
  }

  @Test
  void installationSecretsInAProvidersFailureAndTheLogsAreRemovedToo() throws Exception {
    FakeEnvironmentProvider fake = new FakeEnvironmentProvider();
    dev.preview.spi.EnvironmentProvider env = new dev.preview.spi.EnvironmentProvider() {
      @Override public String name() { return "fake"; }
      @Override public java.util.Optional<dev.preview.spi.Environment> find(PreviewKey key) { return fake.find(key); }
      @Override public List<dev.preview.spi.Environment> list() { return fake.list(); }
      @Override public void delete(PreviewKey key) { fake.delete(key); }
      @Override public List<String> logs(PreviewKey key, int lines) {
        return List.of("PGPASSWORD=tiny", "token " + INSTALLATION_TOKEN);
      }

      @Override
      public dev.preview.spi.Environment apply(EnvironmentSpec spec) {
        throw new ProviderException("fake", "registry said 401 for token " + INSTALLATION_TOKEN
            + " with STRIPE_KEY=" + spec.secrets().get("STRIPE_KEY").reveal(), false,
            new IllegalStateException("cause: " + INSTALLATION_TOKEN));
      }
    };
    AppTemplate app = AppTemplate.builder().image("shop:1").secret("STRIPE_KEY", Secret.of(STRIPE)).build();
    orchestrator = builder(env, app).build();

    Preview p = deploy();

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    PreviewStatus failed = scm.latest(KEY).orElseThrow();
    assertThat(failed.message()).isEqualTo("fake: registry said 401 for token ****** with STRIPE_KEY=******");
    assertThat(failed.logTail()).containsExactly("PGPASSWORD=tiny", "token ******");
    List<String> secrets = secrets();
    assertClean("the listeners", heard.toString(), secrets);
    assertThat(heard).anyMatch(h -> h.startsWith("environment ") && h.contains("******"));
    assertClean("the server log", err.toString(StandardCharsets.UTF_8), secrets);
  }
}
