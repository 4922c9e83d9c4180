package dev.preview.docker;

import static dev.preview.docker.TestDocker.IMAGE;
import static dev.preview.docker.TestDocker.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Resources;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The docker provider against the real engine: isolation, updates, crash repair, cleanup, errors. */
class DockerProviderIT {
  private final List<PreviewKey> made = new ArrayList<>();
  private final List<DockerEnvironmentProvider> providers = new ArrayList<>();
  private DockerClient docker;

  @BeforeEach
  void engine() {
    docker = TestDocker.engine();
  }

  @AfterEach
  void cleanUp() {
    DockerEnvironmentProvider p = provider(Map.of());
    made.forEach(p::delete);
    providers.forEach(DockerEnvironmentProvider::close);
  }

  private DockerEnvironmentProvider provider(Map<String, ?> extra) {
    DockerEnvironmentProvider p = TestDocker.provider(extra);
    providers.add(p);
    return p;
  }

  private PreviewKey key(int pr) {
    PreviewKey k = PreviewKey.pr("it/docker-" + UUID.randomUUID().toString().substring(0, 8), pr);
    made.add(k);
    return k;
  }

  private static EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).image(IMAGE).port(8080).healthPath("/health")
        .labels(Labels.ownership(key, revision));
  }

  private static String fetch(Environment env, String target) {
    return get(URI.create(env.url() + "/cgi-bin/fetch?" + target)).body();
  }

  private static void awaitAnswer(Environment env) {
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
        .until(() -> get(URI.create(env.url() + "/health")).status() == 200);
  }

  @Test
  void runsTheAppWithEnvSecretsLimitsRestartPolicyHealthCheckAndLabels() {
    DockerEnvironmentProvider p = provider(Map.of(
        "resources", Map.of("cpu", "500m", "memory", "64Mi", "pids", "64"),
        "restart", "on-failure:2",
        "healthcheck", Map.of("command", List.of("/bin/busybox", "wget", "-q", "-O", "/dev/null",
            "http://127.0.0.1:{port}{path}"), "interval", "1s", "retries", "3")));
    PreviewKey key = key(42);
    Environment env = p.apply(spec(key, "rev1").env("GREETING", "hello").secret("API_TOKEN", Secret.of("s3cr3t-value"))
        .resources(new Resources(0, 48L << 20, 0)).build());

    assertThat(env.key()).isEqualTo(key);
    assertThat(env.revision()).isEqualTo("rev1");
    assertThat(env.url().toString()).matches("http://127\\.0\\.0\\.1:\\d+");
    awaitAnswer(env);
    String printed = get(URI.create(env.url() + "/cgi-bin/env")).body();
    assertThat(printed).contains("GREETING=hello").contains("API_TOKEN=s3cr3t-value");

    Container app = TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(c -> "app".equals(c.getLabels().get(DockerEnvironmentProvider.ROLE))).findFirst().orElseThrow();
    InspectContainerResponse inspected = docker.inspectContainerCmd(app.getId()).exec();
    HostConfig h = inspected.getHostConfig();
    assertThat(h.getMemory()).as("spec memory wins over the configured default").isEqualTo(48L << 20);
    assertThat(h.getNanoCPUs()).as("configured default cpu").isEqualTo(500_000_000L);
    assertThat(h.getPidsLimit()).isEqualTo(64L);
    assertThat(h.getRestartPolicy().getName()).isEqualTo("on-failure");
    assertThat(h.getRestartPolicy().getMaximumRetryCount()).isEqualTo(2);
    assertThat(inspected.getName()).isEqualTo("/" + Names.docker(key, "app-" + app.getLabels().get(DockerEnvironmentProvider.SPEC_HASH).substring(0, 12)));
    assertThat(app.getLabels()).containsEntry(Labels.MANAGED, "true").containsEntry(Labels.KEY, key.id())
        .containsEntry(Labels.REVISION, "rev1");
    assertThat(app.getLabels().values()).noneMatch(v -> v.contains("s3cr3t"));
    assertThat(String.join(" ", p.logs(key, 100))).doesNotContain("s3cr3t");
    await().atMost(Duration.ofSeconds(20)).until(() -> "healthy".equals(
        docker.inspectContainerCmd(app.getId()).exec().getState().getHealth().getStatus()));
    assertThat(p.find(key)).get().extracting(Environment::phase).isEqualTo(Environment.Phase.RUNNING);
  }

  @Test
  void applyingTheSameSpecTwiceKeepsTheSameContainer() {
    DockerEnvironmentProvider p = provider(Map.of(
        "resources", Map.of("memory", "64Mi"),
        "healthcheck", Map.of("command", List.of("/bin/busybox", "true"))));
    PreviewKey key = key(1);
    EnvironmentSpec s = spec(key, "r1").env("A", "1").secret("S", Secret.of("x")).build();
    p.apply(s);
    List<String> before = ids(key);
    Environment again = p.apply(s);
    assertThat(ids(key)).isEqualTo(before).hasSize(1);
    provider(Map.of("resources", Map.of("memory", "64Mi"),
        "healthcheck", Map.of("command", List.of("/bin/busybox", "true")))).apply(s);
    assertThat(ids(key)).as("a new instance with the same config adopts it too").isEqualTo(before);
    awaitAnswer(again);
    // a changed secret (not in any label) is still noticed
    p.apply(spec(key, "r1").env("A", "1").secret("S", Secret.of("y")).build());
    assertThat(ids(key)).as("the previous container is kept until the gate accepts the new one").hasSize(2)
        .containsAll(before);
    p.acceptRevision(key, "r1");
    assertThat(ids(key)).hasSize(1).doesNotContainAnyElementsOf(before);
  }

  @Test
  void aReapplyThatOnlyMovesLifecycleLabelsKeepsTheContainerAndTheLabelsItCarries() {
    DockerEnvironmentProvider p = provider(Map.of());
    PreviewKey key = key(3);
    Map<String, String> first = new LinkedHashMap<>(Labels.ownership(key, "r1"));
    first.put(Labels.EXPIRES, "2026-12-10T10:00:00Z");
    first.put(Labels.PINNED, "true");
    awaitAnswer(p.apply(spec(key, "r1").env("A", "1").labels(first).build()));
    List<String> before = ids(key);
    assertThat(before).hasSize(1);

    // a gateway's visit, then a push of the same revision that carries it over and moves the expiry
    p.relabel(key, Map.of(Labels.LAST_VISIT, "2026-12-03T07:00:00Z"));
    Map<String, String> carried = new LinkedHashMap<>(Labels.ownership(key, "r1"));
    carried.put(Labels.EXPIRES, "2026-12-12T10:00:00Z");
    carried.put(Labels.LAST_VISIT, "2026-12-03T07:00:00Z");
    Environment again = p.apply(spec(key, "r1").env("A", "1").labels(carried).build());

    assertThat(ids(key)).as("only lifecycle labels changed: the same container").isEqualTo(before);
    assertThat(again.labels()).containsEntry(Labels.EXPIRES, "2026-12-12T10:00:00Z")
        .containsEntry(Labels.LAST_VISIT, "2026-12-03T07:00:00Z")
        .as("the spec no longer pins it").doesNotContainKey(Labels.PINNED);
    assertThat(provider(Map.of()).find(key).orElseThrow().labels()).as("seen by another instance (a restart)")
        .containsEntry(Labels.EXPIRES, "2026-12-12T10:00:00Z").containsEntry(Labels.LAST_VISIT, "2026-12-03T07:00:00Z")
        .doesNotContainKey(Labels.PINNED);
    assertThat(p.list()).filteredOn(e -> e.key().equals(key)).singleElement()
        .satisfies(e -> assertThat(e.labels()).containsEntry(Labels.EXPIRES, "2026-12-12T10:00:00Z"));

    // anything else of the spec still replaces it
    Environment changed = p.apply(spec(key, "r1").env("A", "2").labels(carried).build());
    awaitAnswer(changed);
    p.acceptRevision(key, "r1");
    assertThat(ids(key)).hasSize(1).doesNotContainAnyElementsOf(before);
    assertThat(changed.labels()).containsEntry(Labels.LAST_VISIT, "2026-12-03T07:00:00Z");
  }

  private List<String> ids(PreviewKey key) {
    return TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(c -> "app".equals(c.getLabels().get(DockerEnvironmentProvider.ROLE))).map(Container::getId).toList();
  }

  @Test
  void anUpdateReplacesOnlyTheAppKeepsItsUrlAndTheCompanionsData() throws Exception {
    DockerEnvironmentProvider p = provider(TestDocker.cacheService());
    PreviewKey key = key(7);
    Environment v1 = p.apply(spec(key, "r1").build());
    awaitAnswer(v1);
    Container cache = TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(c -> "cache".equals(c.getLabels().get(DockerEnvironmentProvider.SERVICE))).findFirst().orElseThrow();
    exec(cache.getId(), "echo kept > /www/data/x");
    assertThat(fetch(v1, "cache:8080/data/x")).isEqualTo("kept\n");
    List<String> appsBefore = ids(key);

    Environment v2 = p.apply(spec(key, "r2").build());

    assertThat(v2.revision()).isEqualTo("r2");
    assertThat(v2.url()).as("the URL survives the update").isEqualTo(v1.url());
    assertThat(ids(key)).as("r1 is kept, stopped, until the gate accepts r2").hasSize(2).containsAll(appsBefore);
    p.acceptRevision(key, "r2");
    assertThat(ids(key)).hasSize(1).doesNotContainAnyElementsOf(appsBefore);
    awaitAnswer(v2);
    assertThat(fetch(v2, "cache:8080/data/x")).isEqualTo("kept\n");
    assertThat(TestDocker.labelled(DockerEnvironmentProvider.SERVICE, "cache").stream()
        .filter(c -> key.id().equals(c.getLabels().get(Labels.KEY))).map(Container::getId))
        .containsExactly(cache.getId());
  }

  @Test
  void behindAProxyAnUpdateThatNeverComesUpLeavesTheRunningRevisionAlone() {
    DockerEnvironmentProvider p = provider(Map.of("publish", Map.of("enabled", false), "update", Map.of("timeout", "10s"),
        "traefik", Map.of("enabled", true)));
    PreviewKey key = key(15);
    p.apply(spec(key, "r1").hostname("pr-15.preview.example.com").build());
    List<String> before = ids(key);

    assertThatThrownBy(() -> p.apply(spec(key, "r2").hostname("pr-15.preview.example.com")
        .command(List.of("/bin/busybox", "sh", "-c", "echo boom; exit 3")).build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("did not come up").hasMessageContaining("previous revision keeps running")
        .hasMessageContaining("boom");

    assertThat(ids(key)).isEqualTo(before);
    assertThat(p.find(key)).get().satisfies(e -> {
      assertThat(e.revision()).isEqualTo("r1");
      assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
    });
  }

  @Test
  void companionDataIsResetOnAnUpdateWhenConfiguredSo() throws Exception {
    Map<String, Object> cfg = new LinkedHashMap<>(TestDocker.cacheService());
    cfg.put("update", Map.of("keepServiceData", false));
    DockerEnvironmentProvider p = provider(cfg);
    PreviewKey key = key(8);
    Environment v1 = p.apply(spec(key, "r1").build());
    Container cache = TestDocker.labelled(Labels.KEY, key.id()).stream()
        .filter(c -> "cache".equals(c.getLabels().get(DockerEnvironmentProvider.SERVICE))).findFirst().orElseThrow();
    exec(cache.getId(), "echo old > /www/data/x");
    awaitAnswer(v1);
    assertThat(fetch(v1, "cache:8080/data/x")).isEqualTo("old\n");
    Environment v2 = p.apply(spec(key, "r2").build());
    awaitAnswer(v2);
    await().atMost(Duration.ofSeconds(10)).until(() -> fetch(v2, "cache:8080/health").equals("ok\n"));
    assertThat(fetch(v2, "cache:8080/data/x")).contains("404").doesNotContain("old");
  }

  @Test
  void previewsCannotReachEachOtherByNameOrAddress() {
    DockerEnvironmentProvider p = provider(TestDocker.cacheService());
    PreviewKey a = key(1);
    PreviewKey b = key(2);
    Environment envA = p.apply(spec(a, "ra").build());
    Environment envB = p.apply(spec(b, "rb").build());
    awaitAnswer(envA);
    awaitAnswer(envB);
    // positive controls: each reaches its own companion by service name
    assertThat(fetch(envA, "cache:8080/health")).isEqualTo("ok\n");
    assertThat(fetch(envB, "cache:8080/health")).isEqualTo("ok\n");

    String bNetwork = Names.docker(b);
    for (Container c : TestDocker.labelled(Labels.KEY, b.id())) {
      String name = c.getNames()[0].substring(1);
      String ip = docker.inspectContainerCmd(c.getId()).exec().getNetworkSettings().getNetworks().get(bNetwork).getIpAddress();
      assertThat(fetch(envA, name + ":8080/health")).as("A -> B by name " + name).startsWith("UNRESOLVED");
      assertThat(fetch(envA, ip + ":8080/health")).as("A -> B by address " + ip).startsWith("UNREACHABLE");
    }
  }

  @Test
  void aCrashBetweenCreateAndStartIsRepairedByTheNextInstance() {
    DockerEnvironmentProvider crashing = provider(TestDocker.cacheService());
    crashing.checkpoint = step -> {
      if (step.equals("app-created")) {
        throw new IllegalStateException("simulated kill -9 after container create");
      }
    };
    PreviewKey key = key(3);
    EnvironmentSpec s = spec(key, "r1").build();
    assertThatThrownBy(() -> crashing.apply(s)).hasMessageContaining("simulated");
    assertThat(TestDocker.labelled(Labels.KEY, key.id())).filteredOn(c -> "app".equals(c.getLabels().get(DockerEnvironmentProvider.ROLE)))
        .singleElement().extracting(Container::getState).isEqualTo("created");
    // and a stale app of an older revision, created (never started) the way a killed older run leaves it
    Map<String, String> stale = new LinkedHashMap<>(dev.preview.spi.Installation.defaults().ownershipLabels(key, "r0"));
    stale.put(DockerEnvironmentProvider.ROLE, "app");
    stale.put(DockerEnvironmentProvider.SPEC_HASH, "0000");
    docker.createContainerCmd(IMAGE).withName(Names.docker(key, "app-stale")).withLabels(stale).exec();
    assertThat(provider(Map.of()).list()).filteredOn(e -> e.key().equals(key)).singleElement()
        .extracting(Environment::phase).isEqualTo(Environment.Phase.STARTING);

    DockerEnvironmentProvider restarted = provider(TestDocker.cacheService());
    Environment env = restarted.apply(s);

    awaitAnswer(env);
    List<Container> all = TestDocker.labelled(Labels.KEY, key.id());
    assertThat(all).extracting(c -> c.getLabels().get(DockerEnvironmentProvider.ROLE)).containsExactlyInAnyOrder("app", "service");
    assertThat(all).allMatch(c -> "running".equals(c.getState()));
    assertThat(all).filteredOn(c -> "app".equals(c.getLabels().get(DockerEnvironmentProvider.ROLE)))
        .singleElement().satisfies(c -> assertThat(c.getLabels()).containsEntry(Labels.REVISION, "r1"));
    assertThat(docker.listNetworksCmd().withFilter("label", List.of(Labels.KEY + "=" + key.id())).exec()).hasSize(1);
  }

  @Test
  void aCrashAfterTheNetworkIsListedAndDeleteRemovesEverythingLabelled() {
    DockerEnvironmentProvider crashing = provider(TestDocker.cacheService());
    crashing.checkpoint = step -> {
      if (step.equals("network")) {
        throw new IllegalStateException("simulated crash");
      }
    };
    PreviewKey half = key(4);
    assertThatThrownBy(() -> crashing.apply(spec(half, "r1").build())).hasMessageContaining("simulated");
    DockerEnvironmentProvider fresh = provider(TestDocker.cacheService());
    assertThat(fresh.list()).filteredOn(e -> e.key().equals(half)).singleElement()
        .satisfies(e -> assertThat(e.url()).isNull());
    fresh.delete(half);
    assertThat(TestDocker.leftovers(half.id())).isEmpty();

    PreviewKey full = key(5);
    fresh.apply(spec(full, "r1").build());
    fresh.suspend(full);
    assertThat(TestDocker.leftovers(full.id())).isNotEmpty();
    fresh.delete(full);
    assertThat(TestDocker.leftovers(full.id())).isEmpty();
    fresh.delete(full);
    assertThat(fresh.find(full)).isEmpty();
    assertThat(fresh.list()).noneMatch(e -> e.key().equals(full) || e.key().equals(half));
  }

  @Test
  void suspendStopsEverythingAndResumeBringsItBack() {
    DockerEnvironmentProvider p = provider(TestDocker.cacheService());
    PreviewKey key = key(6);
    Environment env = p.apply(spec(key, "r1").build());
    awaitAnswer(env);

    p.suspend(key);
    assertThat(TestDocker.labelled(Labels.KEY, key.id())).hasSize(2).noneMatch(c -> "running".equals(c.getState()));
    assertThat(provider(Map.of()).find(key)).get().extracting(Environment::phase).isEqualTo(Environment.Phase.SUSPENDED);
    assertThat(get(URI.create(env.url() + "/health")).status()).isEqualTo(-1);
    p.suspend(key);

    Environment resumed = provider(TestDocker.cacheService()).resume(key);
    assertThat(resumed.phase()).isEqualTo(Environment.Phase.RUNNING);
    awaitAnswer(resumed);
    assertThat(fetch(resumed, "cache:8080/health")).isEqualTo("ok\n");
  }

  @Test
  void logsGiveTheLastLinesOfTheApp() {
    DockerEnvironmentProvider p = provider(Map.of());
    PreviewKey key = key(9);
    Environment env = p.apply(spec(key, "r1").build());
    awaitAnswer(env);
    for (int i = 0; i < 5; i++) {
      get(URI.create(env.url() + "/page-" + i));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> String.join("\n", p.logs(key, 100)).contains("url:/page-4"));
    assertThat(p.logs(key, 100).get(0)).isEqualTo("app starting");
    assertThat(p.logs(key, 2)).hasSize(2).anySatisfy(l -> assertThat(l).contains("page-4"));
    assertThat(p.logs(key(10), 5)).isEmpty();
  }

  @Test
  void traefikLabelsAndTheProxyJoinsOnlyThePreviewNetwork() {
    String proxy = "preview-docker-it-proxy-" + UUID.randomUUID().toString().substring(0, 8);
    docker.createContainerCmd(IMAGE).withName(proxy).exec();
    docker.startContainerCmd(proxy).exec();
    try {
      DockerEnvironmentProvider p = provider(Map.of("publish", Map.of("enabled", false),
          "traefik", Map.of("enabled", true, "entrypoints", List.of("websecure"),
              "tls", true, "certResolver", "le", "container", proxy)));
      PreviewKey key = key(42);
      Environment env = p.apply(spec(key, "r1").hostname("pr-42.preview.example.com").build());
      assertThat(env.url()).hasToString("https://pr-42.preview.example.com");
      String router = Names.docker(key);
      assertThat(env.labels())
          .containsEntry("traefik.enable", "true")
          .containsEntry("traefik.http.routers." + router + ".rule", "Host(`pr-42.preview.example.com`)")
          .containsEntry("traefik.http.routers." + router + ".entrypoints", "websecure")
          .containsEntry("traefik.http.routers." + router + ".tls.certresolver", "le")
          .containsEntry("traefik.http.services." + router + ".loadbalancer.server.port", "8080")
          .containsEntry("traefik.docker.network", Names.docker(key));
      assertThat(docker.inspectNetworkCmd().withNetworkId(Names.docker(key)).exec().getContainers().values())
          .extracting(c -> c.getName()).contains(proxy);
      // the hostname is formed in one place (app.hostname, as EnvironmentSpec.hostname()): without one
      // there is no Traefik rule (traefik.domain, which made one up, is removed)
      PreviewKey other = key(43);
      Environment unnamed = p.apply(spec(other, "r1").build());
      assertThat(unnamed.url()).isNull();
      assertThat(unnamed.labels()).doesNotContainKey("traefik.enable");

      p.delete(key);
      assertThat(TestDocker.leftovers(key.id())).isEmpty();
      assertThat(docker.inspectContainerCmd(proxy).exec().getName()).as("the proxy itself is not ours").isEqualTo("/" + proxy);
    } finally {
      docker.removeContainerCmd(proxy).withForce(true).exec();
    }
  }

  @Test
  void aMissingImageIsReportedWithItsName() {
    DockerEnvironmentProvider p = provider(Map.of());
    PreviewKey key = key(11);
    assertThatThrownBy(() -> p.apply(spec(key, "r1").image("preview-docker-it/nope:404").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("preview-docker-it/nope:404").hasMessageContaining("not on the Docker host")
        .hasMessageContaining("environment.pull is never");
    DockerEnvironmentProvider pulling = provider(Map.of("pull", "missing"));
    assertThatThrownBy(() -> pulling.apply(spec(key, "r1").image("preview-docker-it/nope:404").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("image preview-docker-it/nope:404 is not on the Docker host and pulling it failed")
        .hasMessageContaining("environment.registry");
    assertThat(TestDocker.labelled(Labels.KEY, key.id())).as("no container for a missing image").isEmpty();
  }

  @Test
  void aTakenHostPortIsReportedClearly() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      DockerEnvironmentProvider p = provider(Map.of("publish", Map.of("ports", String.valueOf(taken.getLocalPort()))));
      PreviewKey key = key(12);
      assertThatThrownBy(() -> p.apply(spec(key, "r1").build()))
          .isInstanceOf(ProviderException.class)
          .hasMessageContaining("host port is taken").hasMessageContaining("environment.publish.ports");
      assertThat(ids(key)).as("the unstartable container is not left behind").isEmpty();
    }
  }

  /** A fork PR's Dockerfile gets none of environment.build.args (they may hold tokens); the team's PRs do. */
  @Test
  void aForkPrsBuildGetsNoBuildArgs() throws Exception {
    java.nio.file.Path ctx = java.nio.file.Files.createTempDirectory("preview-docker-build-args");
    try {
      TestDocker.writeContext(ctx, "ARG NPM_TOKEN\nLABEL token=\"t-${NPM_TOKEN}\"");
      DockerEnvironmentProvider p = provider(Map.of("build", Map.of("args", Map.of("NPM_TOKEN", "npm-secret-7"))));
      PreviewKey own = key(15);
      PreviewKey fork = key(16);
      p.apply(EnvironmentSpec.builder(own, "aaa111").buildContext(ctx).port(8080).build());
      p.apply(EnvironmentSpec.builder(fork, "bbb222").buildContext(ctx).port(8080).withholdSecrets().build());
      assertThat(docker.inspectImageCmd(Names.docker(own) + ":aaa111").exec().getConfig().getLabels())
          .containsEntry("token", "t-npm-secret-7");
      assertThat(docker.inspectImageCmd(Names.docker(fork) + ":bbb222").exec().getConfig().getLabels())
          .as("the fork's build saw no build arg").containsEntry("token", "t-");
    } finally {
      TestDocker.deleteTree(ctx);
    }
  }

  @Test
  void buildsFromAContextTaggedWithTheRevisionAndReportsBuildFailures() throws Exception {
    java.nio.file.Path ctx = java.nio.file.Files.createTempDirectory("preview-docker-build");
    java.nio.file.Path bad = java.nio.file.Files.createTempDirectory("preview-docker-bad");
    try {
      TestDocker.writeContext(ctx, "LABEL built=yes\nVOLUME /scratch");
      DockerEnvironmentProvider p = provider(Map.of());
      PreviewKey key = key(13);
      Environment env = p.apply(EnvironmentSpec.builder(key, "abc123").buildContext(ctx).port(8080).build());
      awaitAnswer(env);
      String tag = Names.docker(key) + ":abc123";
      assertThat(docker.inspectImageCmd(tag).exec().getConfig().getLabels()).containsEntry("built", "yes")
          .containsEntry(Labels.KEY, key.id());

      java.nio.file.Files.writeString(bad.resolve("Dockerfile"), "FROM scratch\nCOPY no-such-file /x\n");
      assertThatThrownBy(() -> p.apply(EnvironmentSpec.builder(key(14), "r1").buildContext(bad).build()))
          .isInstanceOf(ProviderException.class)
          .hasMessageContaining("failed").hasMessageContaining("the last lines of the build are below")
          .hasMessageContaining("no-such-file")
          .satisfies(e -> assertThat(((ProviderException) e).logTail()).as("the build's last lines").isNotEmpty());
      String anonymous = TestDocker.labelled(Labels.KEY, key.id()).get(0).getMounts().stream()
          .filter(m -> "/scratch".equals(m.getDestination())).findFirst().orElseThrow().getName();
      p.delete(key);
      assertThat(docker.listImagesCmd().withLabelFilter(Map.of(Labels.KEY, key.id())).exec()).isEmpty();
      assertThatThrownBy(() -> docker.inspectVolumeCmd(anonymous).exec()).as("the anonymous volume goes too")
          .isInstanceOf(com.github.dockerjava.api.exception.NotFoundException.class);
    } finally {
      TestDocker.deleteTree(ctx);
      TestDocker.deleteTree(bad);
    }
  }

  private void exec(String container, String shell) throws InterruptedException {
    String id = docker.execCreateCmd(container).withCmd("/bin/busybox", "sh", "-c", shell).exec().getId();
    assertThat(docker.execStartCmd(id).exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<>())
        .awaitCompletion(60, TimeUnit.SECONDS)).as("exec %s finished", shell).isTrue();
    // The attach stream may end before the engine records the exit: wait for it, and for success.
    var state = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> docker.inspectExecCmd(id).exec(), s -> !Boolean.TRUE.equals(s.isRunning()));
    assertThat(state.getExitCodeLong()).as("exit code of %s", shell).isZero();
  }
}
