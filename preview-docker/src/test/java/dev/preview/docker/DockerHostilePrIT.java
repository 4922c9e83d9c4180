package dev.preview.docker;

import static dev.preview.docker.TestDocker.IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a hostile PR would try next on a Docker host: make its names meet another preview's (it must
 * be refused, never adopt that one's network, companion or volume), a fork PR's companions, and the
 * way out of its network to the host (default bridge, gateway, engine socket and API, capabilities).
 * Writes the attacks tried, how many were denied, the ones that are not (documented), and the run
 * time to {@code target/attack-suite-docker.txt}.
 */
class DockerHostilePrIT {
  private static final List<String> denied = new ArrayList<>();
  private static final List<String> open = new ArrayList<>();
  private static long suiteStart;
  private final List<PreviewKey> made = new ArrayList<>();
  private final List<Runnable> cleanup = new ArrayList<>();
  private final List<DockerEnvironmentProvider> providers = new ArrayList<>();
  private DockerClient docker;

  @BeforeAll
  static void start() {
    suiteStart = System.nanoTime();
  }

  @AfterAll
  static void report() throws IOException {
    long ms = (System.nanoTime() - suiteStart) / 1_000_000;
    int tried = denied.size() + open.size();
    String text = "docker attack suite: " + tried + " attacks tried as a hostile preview, " + denied.size() + " denied, "
        + open.size() + " not deniable by the provider (documented in the README); " + ms
        + " ms (setup, attacks and checks)\n" + String.join("\n", denied)
        + (open.isEmpty() ? "" : "\nNOT denied: " + String.join("\nNOT denied: ", open)) + "\n";
    Path out = Path.of("target", "attack-suite-docker.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, text);
    System.out.println(text);
  }

  /** Counted once its assertions passed: an attack whose test fails is not in the tally. */
  private static synchronized void denied(String attack) {
    denied.add(attack);
  }

  @BeforeEach
  void engine() {
    docker = TestDocker.engine();
  }

  @AfterEach
  void cleanUp() {
    cleanup.forEach(r -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        // already gone
      }
    });
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
    PreviewKey k = PreviewKey.pr("it/hostile-" + UUID.randomUUID().toString().substring(0, 8), pr);
    made.add(k);
    return k;
  }

  private static EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).image(IMAGE).port(8080).healthPath("/health")
        .labels(Labels.ownership(key, revision));
  }

  /** K1's labels on a resource named as K2's would be: what a collision of their names gives. */
  private Map<String, String> victimLabels(PreviewKey victim) {
    return docker.inspectNetworkCmd().withNetworkId(Names.docker(victim)).exec().getLabels();
  }

  @Test
  void aNetworkNamedLikeOursButAnotherPreviewsIsRefused() {
    DockerEnvironmentProvider p = provider(TestDocker.cacheService());
    PreviewKey victim = key(1);
    PreviewKey attacker = key(2);
    p.apply(spec(victim, "r1").build());
    String name = Names.docker(attacker);
    docker.createNetworkCmd().withName(name).withDriver("bridge").withLabels(victimLabels(victim)).exec();
    cleanup.add(() -> docker.removeNetworkCmd(name).exec());

    assertThatThrownBy(() -> p.apply(spec(attacker, "r2").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("the network " + name + " that " + attacker.id() + " would use already exists")
        .hasMessageContaining("belongs to preview " + victim.id())
        .hasMessageContaining("refusing to use it");
    assertThat(TestDocker.leftovers(attacker.id())).as("nothing of the attacker was created").isEmpty();
    denied("join another preview's network through a name that meets its name (labels of that preview)");
  }

  @Test
  void aVolumeNamedLikeOursButAnotherPreviewsIsNeverMounted() {
    DockerEnvironmentProvider p = provider(TestDocker.cacheService());
    PreviewKey victim = key(1);
    PreviewKey attacker = key(2);
    p.apply(spec(victim, "r1").build());
    String volume = p.dockerName(attacker, "cache-data0");
    Map<String, String> labels = new java.util.LinkedHashMap<>(victimLabels(victim));
    labels.put(DockerEnvironmentProvider.ROLE, "volume");
    docker.createVolumeCmd().withName(volume).withLabels(labels).exec();
    cleanup.add(() -> docker.removeVolumeCmd(volume).exec());

    assertThatThrownBy(() -> p.apply(spec(attacker, "r2").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("the volume " + volume).hasMessageContaining("belongs to preview " + victim.id());
    List<Container> mounting = docker.listContainersCmd().withShowAll(true)
        .withVolumeFilter(List.of(volume)).exec();
    assertThat(mounting).as("no container mounts the victim's volume").isEmpty();
    denied("mount another preview's volume through a name that meets its name");
  }

  @Test
  void aContainerNamedLikeOursButAnotherPreviewsIsNotReplaced() {
    DockerEnvironmentProvider p = provider(TestDocker.cacheService());
    PreviewKey victim = key(1);
    PreviewKey attacker = key(2);
    p.apply(spec(victim, "r1").build());
    String name = p.dockerName(attacker, "svc-cache");
    Map<String, String> labels = new java.util.LinkedHashMap<>(victimLabels(victim));
    labels.put(DockerEnvironmentProvider.ROLE, "service");
    String planted = docker.createContainerCmd(IMAGE).withName(name).withLabels(labels).exec().getId();
    cleanup.add(() -> docker.removeContainerCmd(planted).withForce(true).exec());

    assertThatThrownBy(() -> p.apply(spec(attacker, "r2").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("the container " + name).hasMessageContaining("belongs to preview " + victim.id());
    assertThat(docker.inspectContainerCmd(name).exec().getId()).as("the victim's container is still there").isEqualTo(planted);
    denied("replace another preview's companion through a name that meets its name");
  }

  @Test
  void aForkPrsCompanionsGetNoSecretsEither() {
    DockerEnvironmentProvider p = provider(Map.of("services", Map.of("cache", Map.of("image", IMAGE,
        "env", Map.of("MODE", "cache"), "secrets", Map.of("CACHE_PASSWORD", "svc-secret-123456")))));
    PreviewKey key = key(1);

    p.apply(spec(key, "r1").withholdSecrets().build());
    assertThat(companionEnv(p, key)).contains("MODE=cache").noneMatch(e -> e.startsWith("CACHE_PASSWORD="));

    // positive control: a trusted PR's companion has it; a later fork-like spec takes it away again
    p.apply(spec(key, "r1").build());
    assertThat(companionEnv(p, key)).contains("CACHE_PASSWORD=svc-secret-123456");
    p.apply(spec(key, "r1").withholdSecrets().build());
    assertThat(companionEnv(p, key)).noneMatch(e -> e.startsWith("CACHE_PASSWORD="));
    denied("a fork PR's companion reads the installation's services.*.secrets");
  }

  private List<String> companionEnv(DockerEnvironmentProvider p, PreviewKey key) {
    return Arrays.asList(docker.inspectContainerCmd(p.dockerName(key, "svc-cache")).exec().getConfig().getEnv());
  }

  /**
   * The network attacks a reviewer tries next. Denied: another preview's network (see
   * {@code DockerProviderIT.previewsCannotReachEachOtherByNameOrAddress}) and a container on the
   * default bridge (Docker's isolation between bridge networks). NOT denied, and documented in the
   * README: a host service listening on 0.0.0.0 answers on the preview network's gateway address (the
   * engine routes a container to its host; an {@code internal} network does too, tried here on
   * Docker 28). A host service bound to 127.0.0.1 (MariaDB here) is not reachable.
   */
  @Test
  void theDefaultBridgeIsUnreachableAndTheHostGatewayOnlyReachesWhatListensOnEveryAddress() throws Exception {
    DockerEnvironmentProvider p = provider(Map.of());
    PreviewKey key = key(1);
    var env = p.apply(spec(key, "r1").build());
    await().atMost(java.time.Duration.ofSeconds(15)).until(() -> TestDocker.get(java.net.URI.create(env.url() + "/health")).status() == 200);
    String bridged = docker.createContainerCmd(IMAGE).withName("preview-it-default-bridge-" + UUID.randomUUID().toString().substring(0, 6))
        .exec().getId();
    cleanup.add(() -> docker.removeContainerCmd(bridged).withForce(true).exec());
    docker.startContainerCmd(bridged).exec();
    String bridgeIp = docker.inspectContainerCmd(bridged).exec().getNetworkSettings().getIpAddress();
    String gateway = docker.inspectNetworkCmd().withNetworkId(Names.docker(key)).exec().getIpam().getConfig().get(0).getGateway();
    com.sun.net.httpserver.HttpServer host = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("0.0.0.0", 0), 0);
    host.createContext("/", x -> {
      byte[] b = "host service\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      x.sendResponseHeaders(200, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    host.start();
    try {
      // positive control: the container on the default bridge serves (the host reaches it)
      await().atMost(java.time.Duration.ofSeconds(10)).until(() -> TestDocker.get(java.net.URI.create(
          "http://" + bridgeIp + ":8080/health")).status() == 200);
      assertThat(fetch(env, bridgeIp + ":8080/health")).as("default bridge " + bridgeIp).startsWith("UNREACHABLE");
      denied("reach a container on Docker's default bridge (" + bridgeIp + ")");
      assertThat(fetch(env, gateway + ":3306/")).as("loopback-only MariaDB via the gateway").startsWith("UNREACHABLE");
      denied("reach a host service bound to 127.0.0.1 (MariaDB :3306) through the preview network's gateway");
      assertThat(fetch(env, gateway + ":2375/version")).as("the engine API over TCP on the gateway").startsWith("UNREACHABLE");
      denied("call the Docker engine API over TCP (:2375) on the gateway");
      assertThat(fetch(env, "host.docker.internal:80/")).as("the host's name").startsWith("UNRESOLVED");
      denied("resolve host.docker.internal (no host-gateway entry is added)");
      assertThat(fetch(env, gateway + ":" + host.getAddress().getPort() + "/"))
          .as("a host service on 0.0.0.0 answers on the gateway: not deniable by the provider (see README)")
          .isEqualTo("host service\n");
      open.add("a host service listening on 0.0.0.0 answers on the preview network's gateway " + gateway
          + " (the engine routes containers to their host; bind host services to 127.0.0.1 or firewall the bridge)");

      // The README's rule: every preview bridge is pv-<hash>, so one INPUT rule denies it, while the
      // preview's own URL (a published port: replies) keeps answering.
      String bridge = docker.inspectNetworkCmd().withNetworkId(Names.docker(key)).exec().getOptions()
          .get(DockerEnvironmentProvider.BRIDGE_NAME_OPTION);
      assertThat(bridge).isEqualTo(DockerEnvironmentProvider.bridgeName(Names.docker(key))).matches("pv-[0-9a-f]{12}");
      List<String> rule = List.of("INPUT", "-i", "pv-+", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP");
      dev.preview.testkit.Servers.require("iptables (root)", iptables("-I", rule) == 0,
          "run the suite as root with iptables (the CI does)");
      try {
        assertThat(fetch(env, gateway + ":" + host.getAddress().getPort() + "/"))
            .as("the host service behind the README's INPUT rule on pv-+").startsWith("UNREACHABLE");
        assertThat(TestDocker.get(java.net.URI.create(env.url() + "/health")).status())
            .as("the preview's URL still answers").isEqualTo(200);
        denied("reach a host service on 0.0.0.0 through the gateway once the README's rule (INPUT -i pv-+ NEW DROP) is set");
      } finally {
        iptables("-D", rule);
      }
    } finally {
      host.stop(0);
    }
  }

  /** Runs {@code iptables <op> <rule>} (op -I or -D); its exit code (-1 when iptables cannot be run). */
  private static int iptables(String op, List<String> rule) {
    List<String> cmd = new java.util.ArrayList<>(List.of("iptables", "-w", op));
    cmd.addAll(rule);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      int code = p.waitFor();
      if (code != 0) {
        System.err.println(String.join(" ", cmd) + ": " + out);
      }
      return code;
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /**
   * From inside the app container, as the PR's code runs: the engine's socket is not there, and the
   * container lacks the capabilities to mount, to change its network or to reach the host's devices.
   */
  @Test
  void theAppCannotReachTheEngineSocketNorMountNorReconfigureItsNetwork() throws Exception {
    DockerEnvironmentProvider p = provider(Map.of());
    PreviewKey key = key(1);
    p.apply(spec(key, "r1").build());
    String app = docker.listContainersCmd().withLabelFilter(Map.of(Labels.KEY, key.id(), DockerEnvironmentProvider.ROLE, "app"))
        .exec().get(0).getId();
    assertThat(exitCode(app, "/bin/busybox ls /www/health")).as("positive control: the shell runs in the app").isZero();

    assertThat(exitCode(app, "/bin/busybox test -e /var/run/docker.sock || /bin/busybox test -e /run/docker.sock"))
        .as("the engine socket is not in the container").isNotZero();
    denied("drive the Docker engine through its socket from inside the app container");
    assertThat(exitCode(app, "/bin/busybox mount -t tmpfs none /www/data")).as("mount (CAP_SYS_ADMIN)").isNotZero();
    denied("mount a filesystem from inside the app container (no CAP_SYS_ADMIN)");
    assertThat(exitCode(app, "/bin/busybox ip link set lo down")).as("reconfigure its network (CAP_NET_ADMIN)").isNotZero();
    denied("reconfigure the container's network (no CAP_NET_ADMIN)");
    assertThat(exitCode(app, "/bin/busybox mknod /www/data/sda b 8 0 && /bin/busybox head -c 1 /www/data/sda"))
        .as("read the host's disk through a device node").isNotZero();
    denied("read the host's disk through a device node made in the container");
  }

  private int exitCode(String container, String shell) throws InterruptedException {
    String id = docker.execCreateCmd(container).withCmd("/bin/busybox", "sh", "-c", shell)
        .withAttachStdout(true).withAttachStderr(true).exec().getId();
    assertThat(docker.execStartCmd(id).exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<>())
        .awaitCompletion(60, TimeUnit.SECONDS)).as("exec %s finished", shell).isTrue();
    // the attach stream may end before the engine records the exit: wait for it
    await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> !Boolean.TRUE.equals(docker.inspectExecCmd(id).exec().isRunning()));
    return docker.inspectExecCmd(id).exec().getExitCodeLong().intValue();
  }

  private static String fetch(dev.preview.spi.Environment env, String target) {
    return TestDocker.get(java.net.URI.create(env.url() + "/cgi-bin/fetch?" + target)).body();
  }
}
