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
 * way out of its network to the host (default bridge, gateway, the host's addresses, the cloud metadata
 * address, engine socket and API, capabilities).
 * Writes the attacks denied and the run time to {@code target/attack-suite-docker.txt}.
 */
class DockerHostilePrIT {
  private static final List<String> denied = new ArrayList<>();
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
    String text = "docker attack suite: " + denied.size() + " attacks tried as a hostile preview and denied (one whose"
        + " assertions failed is not counted: see the test report); " + ms + " ms (setup, attacks and checks)\n"
        + String.join("\n", denied) + "\n";
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
   * The network attacks a reviewer tries next, with the provider's default host firewall: another
   * preview's network (see {@code DockerProviderIT.previewsCannotReachEachOtherByNameOrAddress}), a
   * container on the default bridge (Docker's isolation between bridge networks), host services on
   * loopback, the engine's TCP API, the host's name.
   */
  @Test
  void theDefaultBridgeTheEngineApiAndTheHostsLoopbackServicesAreUnreachable() throws Exception {
    DockerEnvironmentProvider p = provider(Map.of());
    PreviewKey key = key(1);
    var env = p.apply(spec(key, "r1").build());
    await().atMost(java.time.Duration.ofSeconds(15)).until(() -> TestDocker.get(java.net.URI.create(env.url() + "/health")).status() == 200);
    String bridged = docker.createContainerCmd(IMAGE).withName("preview-it-default-bridge-" + UUID.randomUUID().toString().substring(0, 6))
        .exec().getId();
    cleanup.add(() -> docker.removeContainerCmd(bridged).withForce(true).exec());
    docker.startContainerCmd(bridged).exec();
    String bridgeIp = docker.inspectContainerCmd(bridged).exec().getNetworkSettings().getIpAddress();
    String gateway = gateway(key);
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
  }

  /**
   * A host service listening on every address answers a container on its network's gateway and on
   * the host's other addresses (the engine routes containers to their host): with
   * {@code hostFirewall.mode: off} it does (the control: the attack is real), with the default the
   * provider sets its chains before the container starts and it does not, while the preview's URL
   * (a published port: replies) and an {@code allow} port keep answering.
   */
  @Test
  void hostServicesOnEveryAddressAreDeniedByTheFirewallTheProviderSets() throws Exception {
    resetFirewall();
    PreviewKey key = key(1);
    var env = provider(Map.of("hostFirewall", Map.of("mode", "off"))).apply(spec(key, "r1").build());
    await().atMost(java.time.Duration.ofSeconds(15)).until(() -> TestDocker.get(java.net.URI.create(env.url() + "/health")).status() == 200);
    String gateway = gateway(key);
    String hostAddress = hostAddress();
    com.sun.net.httpserver.HttpServer denied = hostService("host service\n");
    com.sun.net.httpserver.HttpServer allowed = hostService("allowed service\n");
    cleanup.add(() -> denied.stop(0));
    cleanup.add(() -> allowed.stop(0));
    int port = denied.getAddress().getPort();
    assertThat(fetch(env, gateway + ":" + port + "/")).as("control: with mode off the host service answers").isEqualTo("host service\n");
    assertThat(fetch(env, hostAddress + ":" + port + "/")).as("control: on the host's address " + hostAddress).isEqualTo("host service\n");
    assertThat(iptablesRules("iptables")).doesNotContain("PREVIEW-HOST");

    DockerEnvironmentProvider p = provider(Map.of("hostFirewall", Map.of("allow", List.of(String.valueOf(allowed.getAddress().getPort())))));
    p.apply(spec(key, "r1").build());
    assertThat(iptablesRules("iptables")).contains("-A INPUT -i pv-+ -j PREVIEW-HOST", "-A FORWARD -i pv-+ -j PREVIEW-EGRESS");
    assertThat(fetch(env, gateway + ":" + port + "/")).as("behind the provider's firewall, on the gateway").startsWith("UNREACHABLE");
    denied("reach a host service listening on 0.0.0.0 through the preview network's gateway " + gateway);
    assertThat(fetch(env, hostAddress + ":" + port + "/")).as("on the host's address").startsWith("UNREACHABLE");
    denied("reach a host service listening on 0.0.0.0 through another of the host's addresses (" + hostAddress + ")");
    assertThat(fetch(env, gateway + ":" + allowed.getAddress().getPort() + "/")).as("an allow port").isEqualTo("allowed service\n");
    assertThat(TestDocker.get(java.net.URI.create(env.url() + "/health")).status()).as("the preview's URL").isEqualTo(200);

    String before = iptablesRules("iptables");
    p.apply(spec(key, "r1").build());
    assertThat(iptablesRules("iptables")).as("a second apply changes nothing (no second jump)").isEqualTo(before);
    long rejected = rejectedConnections();
    assertThat(rejected).as("the denied fetches were counted by our reset rule").isPositive();
    provider(Map.of("hostFirewall", Map.of("allow", List.of(String.valueOf(allowed.getAddress().getPort())))))
        .apply(spec(key, "r1").build());
    assertThat(rejectedConnections()).as("a new provider finds the rules in place and does not write them again"
        + " (a rewrite would reset the counters)").isGreaterThanOrEqualTo(rejected);
  }

  /**
   * The cloud metadata service (169.254.169.254: a VM's IAM credentials), played by a network
   * namespace routed from the host: reachable with the firewall off, rejected by the default
   * {@code denyEgress}.
   */
  @Test
  void theCloudMetadataAddressIsDeniedByDefault() throws Exception {
    dev.preview.testkit.Servers.require("ip (iproute2) as root", sh("ip netns list") == 0, "run the suite as root (the CI does)");
    resetFirewall();
    Path www = Files.createTempDirectory("metadata");
    Files.writeString(www.resolve("index.html"), "AKIA-instance-credentials\n");
    sh("ip netns del pvit-meta; ip link del pvit-meta0");
    assertThat(sh("ip netns add pvit-meta && ip link add pvit-meta0 type veth peer name pvit-meta1"
        + " && ip link set pvit-meta1 netns pvit-meta && ip addr add 169.254.169.253/30 dev pvit-meta0"
        + " && ip link set pvit-meta0 up && ip netns exec pvit-meta ip addr add 169.254.169.254/30 dev pvit-meta1"
        + " && ip netns exec pvit-meta ip link set pvit-meta1 up"
        + " && ip netns exec pvit-meta ip route add default via 169.254.169.253"
        + " && ip netns exec pvit-meta /bin/busybox httpd -p 80 -h " + www)).as("the metadata namespace").isZero();
    cleanup.add(() -> sh("ip netns pids pvit-meta | xargs -r kill; ip netns del pvit-meta; ip link del pvit-meta0"));
    PreviewKey key = key(1);
    var env = provider(Map.of("hostFirewall", Map.of("mode", "off"))).apply(spec(key, "r1").build());
    await().atMost(java.time.Duration.ofSeconds(15)).until(() -> TestDocker.get(java.net.URI.create(env.url() + "/health")).status() == 200);
    assertThat(fetch(env, "169.254.169.254:80/")).as("control: with mode off").isEqualTo("AKIA-instance-credentials\n");

    provider(Map.of()).apply(spec(key, "r1").build());
    assertThat(fetch(env, "169.254.169.254:80/")).as("with the default denyEgress").startsWith("UNREACHABLE");
    assertThat(fetch(env, "app:8080/health")).as("the preview's own network still answers").isEqualTo("ok\n");
    denied("read the cloud metadata service (169.254.169.254) from a PR container");
  }

  private String gateway(PreviewKey key) {
    return docker.inspectNetworkCmd().withNetworkId(Names.docker(key)).exec().getIpam().getConfig().get(0).getGateway();
  }

  private static com.sun.net.httpserver.HttpServer hostService(String body) throws IOException {
    com.sun.net.httpserver.HttpServer host = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("0.0.0.0", 0), 0);
    host.createContext("/", x -> {
      byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      x.sendResponseHeaders(200, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    host.start();
    return host;
  }

  /** An IPv4 address of the host that is not loopback and not a Docker bridge's. */
  private static String hostAddress() throws IOException {
    for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      String n = nic.getName();
      if (nic.isUp() && !nic.isLoopback() && !n.startsWith("docker") && !n.startsWith("br-") && !n.startsWith("pv")
          && !n.startsWith("veth")) {
        for (var a : java.util.Collections.list(nic.getInetAddresses())) {
          if (a instanceof java.net.Inet4Address) {
            return a.getHostAddress();
          }
        }
      }
    }
    throw new IllegalStateException("this host has no IPv4 address besides loopback and bridges");
  }

  /** Removes the provider's chains and their jumps (IPv4 and IPv6), so a test sees what the provider sets. */
  private static void resetFirewall() {
    dev.preview.testkit.Servers.require("iptables (root)", sh("iptables -w -S INPUT") == 0,
        "run the suite as root with iptables (the CI does)");
    for (String t : List.of("iptables", "ip6tables")) {
      sh("while " + t + " -w -D INPUT -i pv-+ -j PREVIEW-HOST 2>/dev/null; do :; done;"
          + " while " + t + " -w -D FORWARD -i pv-+ -j PREVIEW-EGRESS 2>/dev/null; do :; done;"
          + " " + t + " -w -F PREVIEW-HOST; " + t + " -w -X PREVIEW-HOST; " + t + " -w -F PREVIEW-EGRESS; " + t + " -w -X PREVIEW-EGRESS");
    }
    assertThat(iptablesRules("iptables")).doesNotContain("PREVIEW-");
  }

  /** The packets PREVIEW-HOST's tcp-reset rule rejected (its counter, which a rewrite of the chain resets). */
  private static long rejectedConnections() {
    String out = output("iptables", "-w", "-L", "PREVIEW-HOST", "-v", "-x", "-n");
    return out.lines().filter(l -> l.contains("reject-with tcp-reset")).mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[0]))
        .findFirst().orElseThrow(() -> new AssertionError("no tcp-reset rule in\n" + out));
  }

  private static String iptablesRules(String tool) {
    return output(tool, "-w", "-S");
  }

  /** What {@code command} printed; it must succeed. */
  private static String output(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Runs a shell line; its exit code (-1 when it cannot be run). */
  private static int sh(String line) {
    try {
      Process p = new ProcessBuilder("sh", "-c", line).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor();
    } catch (IOException e) {
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
