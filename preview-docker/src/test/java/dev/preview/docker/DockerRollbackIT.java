package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.preview.core.AppTemplate;
import dev.preview.core.HealthCheck;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 on the real engine (busybox image built FROM scratch): an update keeps the previous
 * revision's app container until the readiness gate accepts the new one; a failed gate rolls back to
 * it (behind a proxy it never stopped serving; with host-port publishing it is started again) and
 * every provider instance then reports that revision RUNNING with {@link Labels#FAILED_REVISION};
 * with no previous revision the failed one is stopped. Interrupted runs are finished by the next apply.
 */
class DockerRollbackIT {
  private final String repository = "rollback-" + UUID.randomUUID().toString().substring(0, 8) + "/shop";
  private final PreviewKey key = PreviewKey.pr(repository, 1);
  private final List<DockerEnvironmentProvider> providers = new ArrayList<>();
  private final List<PreviewOrchestrator> orchestrators = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    orchestrators.forEach(PreviewOrchestrator::close);
    try (DockerEnvironmentProvider p = TestDocker.provider(Map.of())) {
      p.delete(key);
    }
    providers.forEach(DockerEnvironmentProvider::close);
    assertThat(TestDocker.leftovers(key.id())).as("delete leaves nothing labelled with the preview").isEmpty();
  }

  private DockerEnvironmentProvider provider(Map<String, ?> extra) {
    DockerEnvironmentProvider p = TestDocker.provider(extra);
    providers.add(p);
    return p;
  }

  /** An orchestrator over {@code docker} whose app runs {@code command} (empty: the image's httpd). */
  private PreviewOrchestrator orchestrator(DockerEnvironmentProvider docker, List<String> command) {
    AppTemplate.Builder app = AppTemplate.builder().image(TestDocker.IMAGE).port(8080).healthPath("/health")
        .readinessTimeout(Duration.ofSeconds(20)).readinessInterval(Duration.ofMillis(200));
    if (!command.isEmpty()) {
      app.command(command);
    }
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(docker).app(app.build())
        .healthCheck(HealthCheck.http(Duration.ofSeconds(2))).closeProviders(false).build();
    orchestrators.add(o);
    return o;
  }

  private Preview deploy(PreviewOrchestrator o, String sha) throws Exception {
    return o.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, PullRequest.open(key, sha, "feature", "main")))
        .get(90, TimeUnit.SECONDS);
  }

  private Preview listed(PreviewOrchestrator o) {
    return o.list().stream().filter(p -> p.key().equals(key)).findFirst().orElseThrow();
  }

  /** The preview's app containers, oldest first (by the engine's creation instant, to the nanosecond). */
  private List<Container> apps() {
    return TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(x -> "app".equals(x.getLabels().get(DockerEnvironmentProvider.ROLE)))
        .sorted(java.util.Comparator.comparing(c -> java.time.Instant.parse(inspect(c).getCreated()))).toList();
  }

  private static InspectContainerResponse inspect(Container c) {
    return TestDocker.engine().inspectContainerCmd(c.getId()).exec();
  }

  private EnvironmentSpec.Builder spec(String revision) {
    return EnvironmentSpec.builder(key, revision).image(TestDocker.IMAGE).port(8080).healthPath("/health")
        .labels(Labels.ownership(key, revision));
  }

  private static String sha(char c) {
    return String.valueOf(c).repeat(40);
  }

  private static void awaitHealthy(URI url) {
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
        .until(() -> TestDocker.get(URI.create(url + "/health")).status() == 200);
  }

  @Test
  void with_publishing_a_failed_gate_starts_the_previous_revision_again_and_list_says_which_serves() throws Exception {
    DockerEnvironmentProvider docker = provider(Map.of());
    PreviewOrchestrator good = orchestrator(docker, List.of());
    PreviewOrchestrator crashing = orchestrator(docker, List.of("/bin/busybox", "sh", "-c", "echo boom; exit 3"));
    String a = sha('a');
    String b = sha('b');
    assertThat(deploy(good, a).state()).isEqualTo(PreviewState.READY);
    Container first = apps().get(0);
    String[] firstEnv = inspect(first).getConfig().getEnv();
    URI url = docker.find(key).orElseThrow().url();

    Preview failed = deploy(crashing, b);

    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    assertThat(failed.message()).contains("rolled back to aaaaaaa, which still serves");
    for (DockerEnvironmentProvider p : List.of(docker, provider(Map.of()))) { // this instance, and a new one
      Environment e = p.find(key).orElseThrow();
      assertThat(e.revision()).isEqualTo(a);
      assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
      assertThat(e.labels()).containsEntry(Labels.FAILED_REVISION, b);
      assertThat(e.url()).as("back on the preview's URL, though its first container was bound to any free port")
          .isEqualTo(url);
      assertThat(p.list()).filteredOn(x -> x.key().equals(key)).singleElement()
          .satisfies(x -> assertThat(x.revision()).isEqualTo(a));
    }
    Preview now = listed(orchestrator(provider(Map.of()), List.of()));
    assertThat(now.state()).isEqualTo(PreviewState.READY);
    assertThat(now.revision()).isEqualTo(a);
    assertThat(now.message()).contains("rolled back: revision " + b + " failed its readiness gate");
    awaitHealthy(docker.find(key).orElseThrow().url());
    List<Container> apps = apps();
    assertThat(apps).hasSize(2);
    Container previous = apps.stream().filter(c -> a.equals(c.getLabels().get(Labels.REVISION))).findFirst().orElseThrow();
    assertThat(inspect(previous).getState().getRunning()).as("the previous revision runs again").isTrue();
    assertThat(inspect(previous).getConfig().getEnv()).as("the same app").isEqualTo(firstEnv);
    InspectContainerResponse rejected = inspect(apps.stream().filter(c -> b.equals(c.getLabels().get(Labels.REVISION)))
        .findFirst().orElseThrow());
    assertThat(rejected.getState().getRunning()).isFalse();
    assertThat(rejected.getHostConfig().getRestartPolicy().getName()).isEqualTo("no");

    // the next push starts afresh: the rejected container and the mark go, and once its gate passes
    // only the new revision is left
    assertThat(deploy(good, sha('c')).state()).isEqualTo(PreviewState.READY);
    assertThat(apps()).singleElement().satisfies(c -> assertThat(c.getLabels()).containsEntry(Labels.REVISION, sha('c')));
    assertThat(docker.find(key).orElseThrow().labels()).doesNotContainKey(Labels.FAILED_REVISION);
    assertThat(TestDocker.leftovers(key.id())).noneMatch(s -> s.endsWith("-failed"));
  }

  @Test
  void without_a_previous_healthy_revision_a_failed_gate_stops_the_failed_one_and_marks_it() throws Exception {
    DockerEnvironmentProvider docker = provider(Map.of());
    Preview failed = deploy(orchestrator(docker, List.of("/bin/busybox", "sh", "-c", "echo boom; exit 3")), sha('d'));

    assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
    assertThat(failed.message()).contains("stopped ddddddd (no healthy revision was kept serving)");
    Environment e = provider(Map.of()).find(key).orElseThrow();
    assertThat(e.phase()).isEqualTo(Environment.Phase.FAILED);
    assertThat(e.labels()).containsEntry(Labels.FAILED_REVISION, sha('d'));
    assertThat(listed(orchestrator(provider(Map.of()), List.of())).state()).isEqualTo(PreviewState.FAILED);
  }

  @Test
  void behind_a_proxy_the_previous_revision_serves_until_the_gate_passes_and_a_rejection_leaves_it_untouched() {
    Map<String, Object> proxied = Map.of("publish", Map.of("enabled", false), "traefik", Map.of("enabled", true));
    DockerEnvironmentProvider p = provider(proxied);
    String host = "pr-1.preview.example.com";
    p.apply(spec("r1").hostname(host).build());
    Container r1 = apps().get(0);
    String startedAt = inspect(r1).getState().getStartedAt();

    Environment r2 = p.apply(spec("r2").hostname(host).build());

    assertThat(r2.revision()).isEqualTo("r2");
    assertThat(apps()).hasSize(2);
    assertThat(inspect(r1).getState().getRunning()).as("r1 keeps serving during r2's gate").isTrue();

    Environment back = provider(proxied).rejectRevision(key, "r2").orElseThrow();

    assertThat(back.revision()).isEqualTo("r1");
    assertThat(back.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(back.labels()).containsEntry(Labels.FAILED_REVISION, "r2");
    assertThat(inspect(r1).getState().getStartedAt()).as("never stopped nor restarted").isEqualTo(startedAt);
    assertThat(p.rejectRevision(key, "r2")).as("idempotent").get().extracting(Environment::revision).isEqualTo("r1");

    // r3: the rejected r2 goes at once; r1 serves beside r3 until r3 is accepted
    p.apply(spec("r3").hostname(host).build());
    assertThat(apps()).extracting(c -> c.getLabels().get(Labels.REVISION)).containsExactly("r1", "r3");
    assertThat(p.find(key).orElseThrow().revision()).isEqualTo("r3");
    p.acceptRevision(key, "r3");
    assertThat(apps()).extracting(c -> c.getLabels().get(Labels.REVISION)).containsExactly("r3");
    assertThat(p.find(key).orElseThrow().labels()).doesNotContainKey(Labels.FAILED_REVISION);
  }

  @Test
  void suspend_during_an_unfinished_gate_keeps_only_the_new_revision_and_resume_starts_it_alone() {
    DockerEnvironmentProvider p = provider(Map.of());
    awaitHealthy(p.apply(spec("r1").build()).url());
    Environment r2 = p.apply(spec("r2").build()); // its gate never ended

    p.suspend(key);
    assertThat(apps()).singleElement().satisfies(c -> assertThat(c.getLabels()).containsEntry(Labels.REVISION, "r2"));
    Environment resumed = p.resume(key);

    assertThat(resumed.revision()).isEqualTo("r2");
    assertThat(resumed.url()).isEqualTo(r2.url());
    awaitHealthy(resumed.url());
  }

  @Test
  void a_crash_after_the_previous_revision_was_stopped_is_finished_by_the_next_apply_and_nothing_is_orphaned() {
    DockerEnvironmentProvider p = provider(Map.of());
    Environment v1 = p.apply(spec("r1").build());
    awaitHealthy(v1.url());
    p.checkpoint = step -> {
      if (step.equals("previous-stopped")) {
        throw new IllegalStateException("crash");
      }
    };
    try {
      p.apply(spec("r2").build());
    } catch (IllegalStateException expected) {
      // the crash
    }
    assertThat(apps()).extracting(c -> c.getState()).containsExactly("exited", "created");

    DockerEnvironmentProvider restarted = provider(Map.of());
    Environment v2 = restarted.apply(spec("r2").build());

    assertThat(v2.revision()).isEqualTo("r2");
    assertThat(v2.url()).as("the port stays the preview's").isEqualTo(v1.url());
    awaitHealthy(v2.url());
    assertThat(apps()).as("r1 still kept to roll back to; r2 adopted, not made twice").hasSize(2);
    Environment back = restarted.rejectRevision(key, "r2").orElseThrow();
    assertThat(back.revision()).isEqualTo("r1");
    awaitHealthy(back.url());
    assertThat(apps()).filteredOn(c -> "running".equals(c.getState())).singleElement()
        .satisfies(c -> assertThat(c.getLabels()).containsEntry(Labels.REVISION, "r1"));
  }
}
