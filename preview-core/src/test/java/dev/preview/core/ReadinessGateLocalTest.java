package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The readiness gate over the local provider with real processes ({@link ReadinessTestApp}): a crash
 * during the wait fails the deploy at once with its exit code and its last line (redacted), a 404 is
 * named, a slow start is waited for, and a failed revision is stopped and listed FAILED, also by a
 * new orchestrator on the same state directory.
 *
 * <p>Timing is asserted through the number of probes, not the wall clock: the readiness timeout is
 * the default 2 minutes, with probes from 200 ms apart up to 5 s apart (backoff); waiting it out
 * would take at least 27 probes.
 */
class ReadinessGateLocalTest {
  private static final PreviewKey KEY = PreviewKey.pr("acme/shop", 7);
  private static final String TOKEN = "tok-s3cr3t-4242";
  /** Probes a 2-minute wait with this backoff makes before it gives up. */
  private static final int PROBES_OF_A_TIMEOUT = 27;

  @TempDir Path dir;
  private final AtomicInteger probes = new AtomicInteger();
  private final List<PreviewStatus> published = new CopyOnWriteArrayList<>();
  private final List<PreviewOrchestrator> made = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    try (LocalEnvironmentProvider p = provider()) {
      p.delete(KEY);
    }
    made.forEach(PreviewOrchestrator::close);
  }

  private LocalEnvironmentProvider provider() {
    // a short start check: apply returns soon, so the process's fate is the readiness gate's to see
    return LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(Duration.ofMillis(200)).stopTimeout(Duration.ofSeconds(5)).build();
  }

  private PreviewOrchestrator orchestrator(Duration readinessTimeout) {
    HealthCheck http = HealthCheck.http(Duration.ofSeconds(2));
    HealthCheck counting = new HealthCheck() {
      @Override
      public boolean healthy(URI url) {
        return probe(url).healthy();
      }

      @Override
      public Probe probe(URI url) {
        probes.incrementAndGet();
        return http.probe(url);
      }
    };
    ScmNotifier notifier = new ScmNotifier() {
      @Override
      public String name() {
        return "capture";
      }

      @Override
      public void publish(PreviewStatus status) {
        published.add(status);
      }
    };
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(provider()).notifier(notifier)
        .app(AppTemplate.builder().command(javaApp()).secret("API_TOKEN", Secret.of(TOKEN))
            .readinessTimeout(readinessTimeout).readinessInterval(Duration.ofMillis(200)).build())
        .healthCheck(counting).build();
    made.add(o);
    return o;
  }

  private static List<String> javaApp() {
    return List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
        System.getProperty("java.class.path"), ReadinessTestApp.class.getName());
  }

  private static Preview deploy(PreviewOrchestrator o, String sha) throws Exception {
    return o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, PullRequest.open(KEY, sha, "feature", "main")))
        .get(60, TimeUnit.SECONDS);
  }

  private static String sha(String prefix) {
    return (prefix + "0".repeat(40)).substring(0, 40);
  }

  /** The figures of one run, for the report: how long the readiness step took and how many probes it made. */
  private void figures(String what, Preview p) {
    System.out.printf("readiness figures: %s: step %d ms, %d probes, outcome %s%n", what,
        p.timings().getOrDefault("readiness", Duration.ZERO).toMillis(), probes.get(), p.state());
  }

  private static boolean listens(URI url) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(url.getHost(), url.getPort()), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void an_app_that_exits_during_the_wait_fails_the_step_at_once_with_its_exit_code_and_its_last_line() throws Exception {
    PreviewOrchestrator o = orchestrator(Duration.ofMinutes(2));
    String sha = sha("dead");

    Preview p = deploy(o, sha);
    figures("exit 3 after 1 s (timeout 2 min)", p);

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("readiness");
    assertThat(p.message())
        .contains("the app exited with code 3 during the readiness wait")
        .contains("last lines: ")
        .contains("boom: cannot reach the database")
        .contains("stopped " + sha.substring(0, 7))
        .doesNotContain(TOKEN)
        .doesNotContain("within 120 s");
    assertThat(probes.get()).as("probes before the crash was seen (a timeout takes %s)", PROBES_OF_A_TIMEOUT)
        .isLessThan(12);
    PreviewStatus failed = published.get(published.size() - 1);
    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    assertThat(failed.message()).contains("exited with code 3").doesNotContain(TOKEN);
    assertThat(failed.logTail()).anyMatch(l -> l.contains("boom: cannot reach the database"))
        .noneMatch(l -> l.contains(TOKEN));
  }

  @Test
  void a_404_is_named_and_the_failed_revision_is_stopped_and_listed_failed_also_by_a_new_orchestrator() throws Exception {
    PreviewOrchestrator o = orchestrator(Duration.ofSeconds(2));
    String sha = sha("404");

    Preview p = deploy(o, sha);
    figures("404 (timeout 2 s)", p);

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.message()).contains("GET /health answered 404 Not Found (expected 2xx)")
        .contains("not healthy at http://127.0.0.1:").contains("within 2 s")
        .contains("stopped " + sha.substring(0, 7));
    Environment env = provider().find(KEY).orElseThrow();
    assertThat(env.phase()).isEqualTo(Environment.Phase.FAILED);
    assertThat(env.labels()).containsEntry(Labels.FAILED_REVISION, sha);
    assertThat(listens(env.url())).as("the failed revision's process is stopped").isFalse();

    assertThat(o.list()).singleElement().satisfies(listed -> {
      assertThat(listed.state()).isEqualTo(PreviewState.FAILED);
      assertThat(listed.revision()).isEqualTo(sha);
      assertThat(listed.failedStep()).isEqualTo("readiness");
    });
    assertThat(orchestrator(Duration.ofSeconds(2)).list()).as("a new process reads the same from the state directory")
        .singleElement().satisfies(listed -> assertThat(listed.state()).isEqualTo(PreviewState.FAILED));
  }

  @Test
  void a_slow_start_is_waited_for_and_a_healthy_push_after_a_failed_one_is_ready_without_the_mark() throws Exception {
    PreviewOrchestrator o = orchestrator(Duration.ofMinutes(2));
    assertThat(deploy(o, sha("dead")).state()).isEqualTo(PreviewState.FAILED);
    probes.set(0);

    Preview p = deploy(o, sha("de1a"));
    figures("healthy after 1.5 s (timeout 2 min)", p);

    assertThat(p.state()).isEqualTo(PreviewState.READY);
    assertThat(probes.get()).as("it was not up at the first probe, and was waited for").isGreaterThan(1)
        .isLessThan(PROBES_OF_A_TIMEOUT);
    Environment env = provider().find(KEY).orElseThrow();
    assertThat(env.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(env.labels()).doesNotContainKey(Labels.FAILED_REVISION);
    assertThat(o.list()).singleElement().satisfies(listed -> {
      assertThat(listed.state()).isEqualTo(PreviewState.READY);
      assertThat(listed.revision()).isEqualTo(sha("de1a"));
    });
  }
}
