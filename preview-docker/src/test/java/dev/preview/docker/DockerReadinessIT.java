package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.preview.core.AppTemplate;
import dev.preview.core.HealthCheck;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.AppExit;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The readiness gate over the docker provider on the real engine, with the busybox image built FROM
 * scratch: an app container that exits (or is restarted by its restart policy) during the wait fails
 * the deploy within a few probes, not at the 2-minute timeout, with its exit code and last line
 * (redacted); the failed revision's container is stopped, and the orchestrator (this one, or a new
 * one with a new provider) lists it FAILED; a 404 is named.
 */
class DockerReadinessIT {
  private static final String TOKEN = "docker-s3cr3t-77";
  private final String repository = "ready-" + UUID.randomUUID().toString().substring(0, 8) + "/shop";
  private final PreviewKey key = PreviewKey.pr(repository, 1);
  private final AtomicInteger probes = new AtomicInteger();
  private final List<DockerEnvironmentProvider> providers = new ArrayList<>();
  private final List<PreviewOrchestrator> orchestrators = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    orchestrators.forEach(PreviewOrchestrator::close);
    try (DockerEnvironmentProvider p = TestDocker.provider(Map.of())) {
      p.delete(key);
    }
    providers.forEach(DockerEnvironmentProvider::close);
  }

  private DockerEnvironmentProvider provider(Map<String, ?> extra) {
    DockerEnvironmentProvider p = TestDocker.provider(extra);
    providers.add(p);
    return p;
  }

  private PreviewOrchestrator orchestrator(DockerEnvironmentProvider docker, List<String> command, String healthPath,
      Duration timeout) {
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
    AppTemplate.Builder app = AppTemplate.builder().image(TestDocker.IMAGE).port(8080).healthPath(healthPath)
        .secret("API_TOKEN", Secret.of(TOKEN)).readinessTimeout(timeout).readinessInterval(Duration.ofMillis(200));
    if (!command.isEmpty()) {
      app.command(command);
    }
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(docker).app(app.build()).healthCheck(counting)
        .closeProviders(false).build();
    orchestrators.add(o);
    return o;
  }

  private Preview deploy(PreviewOrchestrator o, String sha) throws Exception {
    return o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, PullRequest.open(key, sha, "feature", "main")))
        .get(90, TimeUnit.SECONDS);
  }

  private Preview listed(PreviewOrchestrator o) {
    return o.list().stream().filter(p -> p.key().equals(key)).findFirst().orElseThrow();
  }

  private InspectContainerResponse app() {
    Container c = TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(x -> "app".equals(x.getLabels().get(DockerEnvironmentProvider.ROLE))).findFirst().orElseThrow();
    return TestDocker.engine().inspectContainerCmd(c.getId()).exec();
  }

  private static List<String> crashing() {
    return List.of("/bin/busybox", "sh", "-c",
        "echo starting with token $API_TOKEN; echo 'boom: no database at db:5432'; sleep 1; exit 3");
  }

  @Test
  void a_container_that_exits_fails_the_gate_at_once_with_its_code_and_line_and_stays_failed() throws Exception {
    DockerEnvironmentProvider docker = provider(Map.of("restart", "no"));
    PreviewOrchestrator o = orchestrator(docker, crashing(), "/health", Duration.ofMinutes(2));
    String sha = "dead" + "0".repeat(36);

    Preview p = deploy(o, sha);

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.failedStep()).isEqualTo("readiness");
    assertThat(p.message()).contains("the app exited with code 3 during the readiness wait")
        .contains("boom: no database at db:5432").contains("stopped dead000").doesNotContain(TOKEN);
    assertThat(probes.get()).as("a 2-minute timeout would take 27 probes").isLessThan(15);
    assertThat(app().getState().getRunning()).isFalse();
    assertThat(docker.exitStatus(key)).contains(AppExit.exited(3));
    assertThat(listed(o).state()).isEqualTo(PreviewState.FAILED);

    DockerEnvironmentProvider restarted = provider(Map.of("restart", "no"));
    assertThat(restarted.find(key)).get().extracting(Environment::phase).isEqualTo(Environment.Phase.FAILED);
    assertThat(listed(orchestrator(restarted, List.of(), "/health", Duration.ofSeconds(5))).state())
        .as("a new orchestrator with a new provider").isEqualTo(PreviewState.FAILED);
  }

  @Test
  void a_container_its_restart_policy_restarts_fails_the_gate_and_is_stopped() throws Exception {
    DockerEnvironmentProvider docker = provider(Map.of("restart", "always"));
    PreviewOrchestrator o = orchestrator(docker, crashing(), "/health", Duration.ofMinutes(2));

    Preview p = deploy(o, "c0ffee" + "0".repeat(34));

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.message()).containsPattern("the app (restarted \\d+ times?|exited with code 3)")
        .contains("during the readiness wait").contains("boom: no database").doesNotContain(TOKEN);
    assertThat(probes.get()).isLessThan(15);
    InspectContainerResponse stopped = app();
    assertThat(stopped.getState().getRunning()).isFalse();
    assertThat(stopped.getState().getRestarting()).isFalse();
    assertThat(listed(o).state()).isEqualTo(PreviewState.FAILED);
  }

  @Test
  void a_rejected_container_loses_its_restart_policy_until_apply_adopts_it_again() {
    DockerEnvironmentProvider docker = provider(Map.of("restart", "always"));
    String sha = "abcd" + "0".repeat(36);
    dev.preview.spi.EnvironmentSpec spec = dev.preview.spi.EnvironmentSpec.builder(key, sha).image(TestDocker.IMAGE)
        .port(8080).healthPath("/health").labels(Labels.ownership(key, sha)).build();
    docker.apply(spec);

    Environment rejected = docker.rejectRevision(key, sha).orElseThrow();

    assertThat(rejected.phase()).isEqualTo(Environment.Phase.FAILED);
    InspectContainerResponse stopped = app();
    assertThat(stopped.getState().getRunning()).isFalse();
    assertThat(stopped.getHostConfig().getRestartPolicy().getName()).as("an engine restart must not start it")
        .isEqualTo("no");
    assertThat(docker.rejectRevision(key, "ffff" + "0".repeat(36))).as("another revision: left as it is").get()
        .extracting(Environment::phase).isEqualTo(Environment.Phase.FAILED);

    docker.apply(spec); // the same spec adopts the same container

    InspectContainerResponse again = app();
    assertThat(again.getId()).isEqualTo(stopped.getId());
    assertThat(again.getState().getRunning()).isTrue();
    assertThat(again.getHostConfig().getRestartPolicy().getName()).isEqualTo("always");
  }

  @Test
  void a_health_path_that_answers_404_is_named_and_its_revision_stopped() throws Exception {
    DockerEnvironmentProvider docker = provider(Map.of());
    PreviewOrchestrator o = orchestrator(docker, List.of(), "/no-such-health", Duration.ofSeconds(3));

    Preview p = deploy(o, "f0f0" + "0".repeat(36));

    assertThat(p.state()).isEqualTo(PreviewState.FAILED);
    assertThat(p.message()).contains("GET /no-such-health answered 404 Not Found (expected 2xx)")
        .contains("within 3 s").contains("stopped f0f0000");
    assertThat(app().getState().getRunning()).isFalse();
    assertThat(listed(o).state()).isEqualTo(PreviewState.FAILED);
  }
}
