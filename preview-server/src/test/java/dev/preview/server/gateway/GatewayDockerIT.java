package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.docker.DockerEnvironmentProvider;
import dev.preview.spi.Environment;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway in front of the real Docker provider (Debian's engine; a busybox httpd image built FROM
 * scratch here): routing by host and path to the container's published port, visits written back to a
 * marker volume on the engine (container labels cannot change) that a restarted provider reads, and a
 * sleeping (stopped) container woken by a visit.
 */
class GatewayDockerIT {
  static final String IMAGE = "preview-gateway-it/httpd:1";

  @TempDir Path dir;

  static void requireDockerAndImage(Path dir) throws Exception {
    boolean up = run(List.of("docker", "info")) == 0;
    Servers.require("Docker engine at /var/run/docker.sock", up, "bash .ci/servers/docker.sh");
    Servers.require("/bin/busybox (a static build, for the test image)", Files.isRegularFile(Path.of("/bin/busybox")),
        "apt-get install busybox-static");
    if (run(List.of("docker", "image", "inspect", IMAGE)) == 0) {
      return;
    }
    Path ctx = Files.createDirectories(dir.resolve("image"));
    Files.copy(Path.of("/bin/busybox"), ctx.resolve("busybox"));
    Files.createDirectories(ctx.resolve("www"));
    Files.writeString(ctx.resolve("www/health"), "ok\n");
    Files.writeString(ctx.resolve("www/index.html"), "<h1 id=\"app\">hello from docker</h1>\n");
    Files.writeString(ctx.resolve("Dockerfile"), String.join("\n", "FROM scratch", "COPY busybox /bin/busybox", "COPY www /www",
        "ENTRYPOINT [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]", ""));
    assertThat(run(List.of("docker", "build", "-q", "-t", IMAGE, ctx.toString()))).as("docker build").isZero();
  }

  private static int run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  /** The names of the lifecycle marker volumes of {@code instance}. */
  private static List<String> lifecycleMarkers(String instance) throws Exception {
    Process p = new ProcessBuilder("docker", "volume", "ls", "-q", "--filter", "label=preview.dev/role=lifecycle",
        "--filter", "label=" + Labels.INSTANCE + "=" + instance).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().filter(l -> !l.isBlank()).toList();
  }

  @Test
  void routesToTheContainerWritesVisitsToTheEngineAndWakesItOnAVisit() throws Exception {
    requireDockerAndImage(dir);
    String instance = "gw-it-" + UUID.randomUUID().toString().substring(0, 8);
    Installation installation = Installation.builder().instance(instance).build();
    ProviderConfig config = ProviderConfig.of("environment", Map.of("stopTimeout", "0s", "pull", "never"));
    DockerEnvironmentProvider docker = DockerEnvironmentProvider.create(ProviderContext.of(config, installation));
    AppTemplate app = AppTemplate.builder().image(IMAGE).port(8080).healthPath("/health").hostnameTemplate("pr-{number}.docker.test")
        .urlScheme("http").readinessInterval(Duration.ofMillis(100)).readinessTimeout(Duration.ofSeconds(60)).build();
    PreviewGateway gateway = PreviewGateway.builder().environment(docker).app(app)
        .settings(GatewaySettings.builder().port(0).bind("127.0.0.1").pathPrefix("/pr/{number}/").build()).build();
    FakeScmNotifier scm = new FakeScmNotifier();
    FakePullRequestSource source = new FakePullRequestSource();
    PreviewKey key = PreviewKey.pr("acme/docker", 5);
    try (PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(gateway.visitAware(docker))
        .notifier(gateway.notifier(scm)).listener(gateway.listener()).pullRequests(source).app(app).installation(installation)
        .closeProviders(false).build()) {
      gateway.start();
      PullRequest pr = PullRequest.open(key, "9".repeat(40), "feature", "main");
      source.put(pr);
      assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(120, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.READY);
      gateway.refreshNow();

      GatewayRig.Reply byHost = GatewayRig.request(gateway.port(), "GET", "pr-5.docker.test", "/");
      assertThat(byHost.status()).isEqualTo(200);
      assertThat(byHost.body()).contains("hello from docker");
      GatewayRig.Reply byPath = GatewayRig.request(gateway.port(), "GET", "previews.example.com", "/pr/5/health");
      assertThat(byPath.status()).isEqualTo(200);
      assertThat(byPath.body()).isEqualTo("ok\n");
      assertThat(GatewayRig.request(gateway.port(), "GET", "pr-6.docker.test", "/").status()).isEqualTo(404);

      // a container's labels cannot change: the flush writes the visit to a lifecycle marker volume on the
      // engine, so that a restarted provider (a new preview serve) sees it, in find and in list
      assertThat(docker.supportsRelabel()).isTrue();
      Instant visit = gateway.lastVisit(key).orElseThrow();
      assertThat(gateway.visitAware(docker).find(key).orElseThrow().lastActivity()).hasValue(visit);
      assertThat(gateway.flushVisits()).isEqualTo(1);
      try (DockerEnvironmentProvider restarted = DockerEnvironmentProvider.create(ProviderContext.of(config, installation))) {
        Environment seen = restarted.find(key).orElseThrow();
        assertThat(seen.lastActivity()).hasValue(visit);
        assertThat(Labels.instant(seen.labels(), Labels.LAST_VISIT)).hasValue(visit);
        assertThat(restarted.list()).filteredOn(e -> e.key().equals(key)).singleElement()
            .satisfies(e -> assertThat(e.lastActivity()).hasValue(visit));
      }
      assertThat(gateway.flushVisits()).as("nothing new to write").isZero();
      // an operator's pin and unpin: the newest marker wins, "" removes, the visit stays; one marker is left
      assertThat(docker.relabel(key, Map.of(Labels.PINNED, "operator")).orElseThrow().labels()).containsEntry(Labels.PINNED, "operator");
      Environment unpinned = docker.relabel(key, Map.of(Labels.PINNED, "")).orElseThrow();
      assertThat(unpinned.labels()).doesNotContainKey(Labels.PINNED);
      assertThat(unpinned.lastActivity()).hasValue(visit);
      assertThat(lifecycleMarkers(instance)).hasSize(1);

      // a push: the new container carries the visit in its own labels, and the marker is gone
      PullRequest pushed = PullRequest.open(key, "8".repeat(40), "feature", "main");
      source.put(pushed);
      assertThat(orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pushed)).get(120, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.READY);
      assertThat(lifecycleMarkers(instance)).isEmpty();
      assertThat(Labels.instant(docker.find(key).orElseThrow().labels(), Labels.LAST_VISIT)).hasValue(visit);
      gateway.refreshNow();

      // asleep (the container stopped), woken by one request that the app then answers
      docker.suspend(key);
      gateway.refreshNow();
      assertThat(docker.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.SUSPENDED);
      GatewayRig.Reply woken = GatewayRig.request(gateway.port(), "GET", "pr-5.docker.test", "/health", "Accept: */*");
      assertThat(woken.status()).isEqualTo(200);
      assertThat(woken.body()).isEqualTo("ok\n");
      assertThat(docker.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    } finally {
      gateway.close();
      docker.delete(key);
      docker.close();
    }
  }
}
