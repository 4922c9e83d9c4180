package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 for the local provider, with real processes ({@link ReadinessTestApp}: a revision
 * starting with {@code 404} answers 404, any other 200): an update keeps the previous revision's
 * process serving on its own port until the readiness gate ends; a failed gate rolls back to it
 * (RUNNING, at its URL, marked with {@link Labels#FAILED_REVISION}); a passed one stops it. A gate
 * that never ended (superseded, or the JVM gone) is finished by the next apply; delete leaves no process.
 */
class LocalRollbackTest {
  private static final PreviewKey KEY = PreviewKey.pr("acme/shop", 14);

  @TempDir Path dir;
  private final List<PreviewOrchestrator> made = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    made.forEach(PreviewOrchestrator::close);
    try (LocalEnvironmentProvider p = provider()) {
      p.delete(KEY);
    }
  }

  private LocalEnvironmentProvider provider() {
    return LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(Duration.ofSeconds(5)).stopTimeout(Duration.ofSeconds(5)).build();
  }

  private PreviewOrchestrator orchestrator(HealthCheck check) {
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(provider())
        .app(AppTemplate.builder().command(javaApp()).readinessTimeout(Duration.ofSeconds(2))
            .readinessInterval(Duration.ofMillis(100)).build())
        .healthCheck(check).build();
    made.add(o);
    return o;
  }

  private static List<String> javaApp() {
    return List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
        System.getProperty("java.class.path"), ReadinessTestApp.class.getName());
  }

  private static EnvironmentSpec spec(String revision) {
    return EnvironmentSpec.builder(KEY, revision).command(javaApp()).env("PREVIEW_REVISION", revision)
        .labels(Labels.ownership(KEY, revision)).build();
  }

  private static Preview deploy(PreviewOrchestrator o, String sha) throws Exception {
    return o.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, PullRequest.open(KEY, sha, "feature", "main")))
        .get(60, TimeUnit.SECONDS);
  }

  private static String sha(String prefix) {
    return (prefix + "0".repeat(40)).substring(0, 40);
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
  void a_failed_gate_rolls_back_to_the_revision_that_kept_serving_and_a_passed_one_stops_it() throws Exception {
    HealthCheck http = HealthCheck.http(Duration.ofSeconds(2));
    PreviewOrchestrator o = orchestrator(http);
    assertThat(deploy(o, sha("aaaa")).state()).isEqualTo(PreviewState.READY);
    URI old = provider().find(KEY).orElseThrow().url();
    AtomicBoolean servedDuringGate = new AtomicBoolean();
    PreviewOrchestrator watching = orchestrator(new HealthCheck() {
      @Override
      public boolean healthy(URI url) {
        return probe(url).healthy();
      }

      @Override
      public Probe probe(URI url) {
        if (url.getPort() != old.getPort() && http.probe(old.resolve("/health")).healthy()) {
          servedDuringGate.set(true); // probing the new revision while the old one answers
        }
        return http.probe(url);
      }
    });

    Preview failed = deploy(watching, sha("404"));

    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    assertThat(failed.message()).contains("answered 404").contains("rolled back to aaaa000, which still serves");
    assertThat(servedDuringGate).as("the old revision answered while the new one was checked").isTrue();
    Environment back = provider().find(KEY).orElseThrow();
    assertThat(back.revision()).isEqualTo(sha("aaaa"));
    assertThat(back.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(back.url()).isEqualTo(old);
    assertThat(back.labels()).containsEntry(Labels.FAILED_REVISION, sha("404"));
    assertThat(http.probe(old.resolve("/health")).healthy()).isTrue();
    assertThat(orchestrator(http).list()).as("a new orchestrator reads the same from the state directory")
        .singleElement().satisfies(p -> {
          assertThat(p.state()).isEqualTo(PreviewState.READY);
          assertThat(p.revision()).isEqualTo(sha("aaaa"));
          assertThat(p.message()).contains("rolled back: revision " + sha("404") + " failed its readiness gate");
        });

    Preview next = deploy(o, sha("bbbb"));

    assertThat(next.state()).isEqualTo(PreviewState.READY);
    Environment now = provider().find(KEY).orElseThrow();
    assertThat(now.revision()).isEqualTo(sha("bbbb"));
    assertThat(now.labels()).doesNotContainKey(Labels.FAILED_REVISION);
    assertThat(listens(old)).as("the gate passed: the previous revision is stopped").isFalse();
  }

  @Test
  void without_a_previous_revision_the_failed_one_is_stopped() throws Exception {
    Preview failed = deploy(orchestrator(HealthCheck.http(Duration.ofSeconds(2))), sha("404"));

    assertThat(failed.message()).contains("stopped 4040000 (no healthy revision was kept serving)");
    Environment e = provider().find(KEY).orElseThrow();
    assertThat(e.phase()).isEqualTo(Environment.Phase.FAILED);
    assertThat(listens(e.url())).isFalse();
  }

  @Test
  void a_revision_that_exits_at_once_leaves_the_previous_one_serving_and_marked() {
    LocalEnvironmentProvider p = provider();
    URI a = p.apply(spec(sha("aaaa"))).url();

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> p.apply(spec(sha("dead"))))
        .hasMessageContaining("exited at once with code 3");

    Environment back = provider().find(KEY).orElseThrow();
    assertThat(back.revision()).isEqualTo(sha("aaaa"));
    assertThat(back.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(back.url()).isEqualTo(a);
    assertThat(back.labels()).containsEntry(Labels.FAILED_REVISION, sha("dead"));
    assertThat(listens(a)).isTrue();
  }

  @Test
  void a_gate_that_never_ended_is_finished_by_the_next_apply_and_suspend_and_delete_leave_no_kept_process() {
    LocalEnvironmentProvider p = provider();
    URI a = p.apply(spec(sha("aaaa"))).url();
    URI b = p.apply(spec(sha("bbbb"))).url(); // its gate never ends: superseded, or this JVM stops
    assertThat(listens(a)).isTrue();
    assertThat(listens(b)).isTrue();

    LocalEnvironmentProvider restarted = provider();
    URI c = restarted.apply(spec(sha("cccc"))).url();

    assertThat(listens(b)).as("the unfinished revision is stopped").isFalse();
    assertThat(listens(a)).as("the last accepted one still serves").isTrue();
    Environment back = restarted.rejectRevision(KEY, sha("cccc")).orElseThrow();
    assertThat(back.revision()).isEqualTo(sha("aaaa"));
    assertThat(back.url()).isEqualTo(a);
    assertThat(listens(c)).isFalse();

    URI d = restarted.apply(spec(sha("dddd"))).url();
    assertThat(listens(a)).isTrue();
    restarted.suspend(KEY);
    assertThat(listens(a)).as("suspend stops the kept revision too").isFalse();
    assertThat(listens(d)).isFalse();
    d = restarted.resume(KEY).url();
    assertThat(listens(d)).isTrue();
    assertThat(listens(a)).isFalse();

    URI e = restarted.apply(spec(sha("eeee"))).url();
    assertThat(listens(d)).isTrue();
    restarted.delete(KEY);
    assertThat(listens(d)).as("delete stops the kept revision too").isFalse();
    assertThat(listens(e)).isFalse();
    assertThat(restarted.find(KEY)).isEmpty();
  }
}
