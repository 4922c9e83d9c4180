package dev.preview.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.BuildImageCmd;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.AuthConfigurations;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerPort;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.api.model.Volume;
import dev.preview.spi.AppExit;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Resources;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each preview on a plain Docker host: its own user-defined bridge network, the app container
 * (from an image, or built from the spec's build context and tagged with the revision), and the
 * configured companion services on that network only, reachable by their service name.
 *
 * <p>Every container, network, volume and built image carries the ownership labels of
 * {@link Labels}, including the {@linkplain Installation#instance() instance} of the installation;
 * {@link #list()}, {@link #find} and {@link #delete} select with the engine's label filter on
 * {@code preview.dev/managed=true} and {@code preview.dev/instance=<instance>}, so several
 * installations share one engine without seeing each other's previews. Names of containers,
 * networks and volumes are {@link Names#docker} for instance {@code default} and include the
 * instance for any other, so two installations previewing the same key never meet. An update to a new
 * revision replaces only the app container (the companions and their volumes stay): with host-port
 * publishing the new container takes over the old one's port (downtime: one container start), the
 * old one stopped; without it the new container is started beside the old one, which keeps serving.
 * Either way the old container stays until the readiness gate ends: {@link #acceptRevision} removes
 * it, {@link #rejectRevision} rolls back to it.
 *
 * <p>Thread-safe for different keys, as the SPI requires. Build it with {@link #create(ProviderContext)}
 * or through {@code environment.provider: docker} in {@code preview.yaml} ({@link Factory}).
 */
public final class DockerEnvironmentProvider implements EnvironmentProvider {
  /** The name in {@code environment.provider}. */
  public static final String NAME = "docker";
  /** How long a new app container without a health check must keep running to count as up. */
  static final java.time.Duration SETTLE = java.time.Duration.ofSeconds(1);
  /** What a resource is to its preview: {@code app}, {@code service}, {@code network}, {@code volume}, {@code build}, {@code suspended}. */
  public static final String ROLE = Labels.PREFIX + "role";
  /** On a companion container or volume: the service name. */
  public static final String SERVICE = Labels.PREFIX + "service";
  /** A hash of everything that makes up a container (never of secret values), to tell whether it is up to date. */
  public static final String SPEC_HASH = Labels.PREFIX + "spec-hash";
  /** On the app container: the port the app listens on inside it. */
  public static final String PORT = Labels.PREFIX + "port";
  /**
   * On the app container: when it was created (epoch nanoseconds, zero-padded), so that of two app
   * containers of one preview the newer is known even within one second (the engine's own
   * {@code Created} counts seconds). Not part of the spec hash.
   */
  static final String ORDER = Labels.PREFIX + "order";
  /** Role of the marker volume that records the revision a readiness gate rejected ({@link Labels#FAILED_REVISION}). */
  static final String FAILED = "failed";
  /**
   * Role of the marker volumes that hold a preview's lifecycle labels as {@link #relabel} last wrote them
   * (a container's labels cannot change): the newest one by {@link #ORDER} wins over the app container's
   * own; a value of {@code ""} means removed. An apply writes the labels into the new container and
   * removes them.
   */
  static final String LIFECYCLE = "lifecycle";

  private static final Logger log = LoggerFactory.getLogger(DockerEnvironmentProvider.class);
  /**
   * Restart policy {@code no} spelled out: docker-java's {@code noRestart()} sends an empty name,
   * which an update takes for "unchanged".
   */
  private static final RestartPolicy NO_RESTART = noRestartPolicy();
  private static final int BUILD_TAIL = 20;

  private final DockerSettings settings;
  private final dev.preview.spi.RegistryManifests registryProbe;
  /** Built on first use: {@code validate} and {@code --help} never pay for docker-java's start-up. */
  private final LazyClient docker;
  private final Engine engine;
  /** Keeps PR containers off the host's services and the metadata addresses; checked before each start. */
  private final HostFirewall firewall;
  private final Installation installation;
  /** Added to generated names for an instance other than {@code default}; null for it. */
  /** Test seam: called at named points of {@link #apply}; throwing there simulates a crash. */
  volatile Consumer<String> checkpoint = step -> {};

  DockerEnvironmentProvider(DockerSettings settings, DockerClient docker, Installation installation) {
    this(settings, new LazyClient(() -> docker), installation);
  }

  private DockerEnvironmentProvider(DockerSettings settings, LazyClient docker, Installation installation) {
    this.settings = settings;
    this.registryProbe = registryManifests(settings.registry);
    this.docker = docker;
    this.engine = new Engine(settings.host, settings.hostSource);
    this.firewall = HostFirewall.of(settings.hostFirewall, settings.host);
    this.installation = Objects.requireNonNull(installation, "installation");
  }

  /**
   * Builds the provider from the {@code environment} section of {@code preview.yaml} and the
   * installation of {@code context}. Validates every key at once (throws
   * {@link dev.preview.spi.ConfigurationException}); does not contact the engine.
   */
  public static DockerEnvironmentProvider create(ProviderContext context) {
    Objects.requireNonNull(context, "context");
    DockerSettings s = DockerSettings.from(context.config());
    refuseLeakyLoggers(dev.preview.spi.LeakyLoggers::atDebug);
    return new DockerEnvironmentProvider(s, new LazyClient(() -> EngineClient.build(s)), context.installation());
  }

  /**
   * Vendor loggers that, at DEBUG, write what goes to the engine: docker-java logs every command
   * object ({@code Cmd: CreateContainerCmdImpl[... env=[STRIPE_KEY=...]]}), Apache HttpClient 5 logs
   * the request bodies ({@code wire}: the container's env) and headers ({@code headers}:
   * {@code X-Registry-Auth}, the registry password). The Docker API takes the env in the create
   * request, so the secrets cannot be kept out of it: these loggers must stay above DEBUG.
   */
  static final List<String> LEAKY_LOGGERS = List.of(
      "com.github.dockerjava.core.command.AbstrDockerCmd",
      "org.apache.hc.client5.http.wire",
      "org.apache.hc.client5.http.headers");

  /**
   * Refuses to build the provider while one of {@link #LEAKY_LOGGERS} logs at DEBUG: it would write
   * every preview's secrets to the log. {@code atDebug} is {@link dev.preview.spi.LeakyLoggers#atDebug}
   * (slf4j, whatever the binding, and java.util.logging) outside tests.
   *
   * @throws dev.preview.spi.ConfigurationException naming the loggers and how to turn them down
   */
  static void refuseLeakyLoggers(java.util.function.Predicate<String> atDebug) {
    dev.preview.spi.LeakyLoggers.refuse("environment", LEAKY_LOGGERS,
        "they write every container's create request (its env: every secret) or the"
        + " registry credentials; set com.github.dockerjava and org.apache.hc to INFO or above in"
        + " the logging config (slf4j-simple: -Dorg.slf4j.simpleLogger.log.com.github.dockerjava=info"
        + " -Dorg.slf4j.simpleLogger.log.org.apache.hc=info; logback: <logger name=\"com.github.dockerjava\""
        + " level=\"INFO\"/> and <logger name=\"org.apache.hc\" level=\"INFO\"/>)", atDebug);
  }

  /** The installation whose previews this provider runs and sees. */
  public Installation installation() {
    return installation;
  }

  /** The preview's network (and Traefik router, and default build repository) name. */
  String dockerName(PreviewKey key) {
    return Names.docker(installation, key);
  }

  /** The name of a part (container, volume) of the preview. */
  String dockerName(PreviewKey key, String part) {
    return Names.docker(installation, key, part);
  }

  /** The registry client with the configured credentials, for {@code settings.registry}'s server only. */
  static dev.preview.spi.RegistryManifests registryManifests(DockerSettings.Registry registry) {
    java.util.Map<String, String> auth = new java.util.LinkedHashMap<>();
    if (registry != null && registry.username() != null && registry.password() != null) {
      String pair = registry.username() + ":" + registry.password().reveal();
      auth.put(dev.preview.spi.RegistryManifests.host(registry.server() == null ? "docker.io" : registry.server()),
          "Basic " + java.util.Base64.getEncoder().encodeToString(pair.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    java.util.Map<String, String> fixed = java.util.Map.copyOf(auth);
    return dev.preview.spi.RegistryManifests.lazy(java.time.Duration.ofSeconds(5), () -> fixed);
  }

  /** Label filters ({@code name=value}) selecting this installation's resources of {@code key}, plus {@code extra}. */
  private List<String> filter(PreviewKey key, String... extra) {
    List<String> out = new ArrayList<>();
    labelFilter(key).forEach((k, v) -> out.add(k + "=" + v));
    out.addAll(List.of(extra));
    return out;
  }

  /** The same as a map, for the commands that take one; {@code key} null for every preview. */
  private Map<String, String> labelFilter(PreviewKey key) {
    Map<String, String> m = new LinkedHashMap<>(installation.selector());
    if (key != null) {
      m.put(Labels.KEY, key.id());
    }
    return m;
  }

  @Override
  public String name() {
    return NAME;
  }

  // ---------------------------------------------------------------------------------------- apply

  @Override
  public Environment apply(EnvironmentSpec spec) {
    PreviewKey key = spec.key();
    log.info("docker: applying {} at revision {}", key, spec.revision());
    String image = resolveImage(spec);
    firewall.ensure();
    String network = ensureNetwork(spec);
    checkpoint.accept("network");
    removeVolumes(key, "suspended");
    connectProxy(network);
    ensureServices(spec, network);
    checkpoint.accept("services");
    Container kept = ensureApp(spec, network, image);
    Map<String, String> wanted = lifecycle(spec.labels());
    if (kept != null && !lifecycle(kept.getLabels()).equals(wanted)) {
      // the same app (lifecycle labels are not in its spec hash) keeps running, and a container's labels
      // cannot change: the spec's lifecycle labels go to a marker, as a relabel writes them
      Map<String, String> changes = new TreeMap<>();
      Labels.LIFECYCLE.forEach(label -> changes.put(label, wanted.getOrDefault(label, "")));
      relabel(key, changes);
    } else {
      // the app container carries the spec's lifecycle labels now (the orchestrator read them through
      // find, markers included): older relabels are no longer the news
      removeVolumes(key, LIFECYCLE);
    }
    return find(key).orElseThrow(() -> new ProviderException(NAME,
        "the app container of " + key + " vanished right after it was started", true));
  }

  private String ensureNetwork(EnvironmentSpec spec) {
    String name = dockerName(spec.key());
    List<Network> found = engine.call("listing networks of " + spec.key(), () -> docker.get().listNetworksCmd()
        .withFilter("label", filter(spec.key(), ROLE + "=network")).exec());
    for (Network n : found) {
      if (n.getName().equals(name)) {
        return name;
      }
    }
    try {
      engine.call("creating network " + name, () -> docker.get().createNetworkCmd().withName(name).withDriver("bridge")
          .withOptions(Map.of(BRIDGE_NAME_OPTION, bridgeName(name)))
          .withCheckDuplicate(true).withLabels(labels(spec, "network", false)).exec());
    } catch (ProviderException e) {
      // Two runs for one key are never concurrent, so a conflict is a leftover of an earlier crash,
      // unless the name is another preview's (then joining it would let this PR reach that one's services).
      if (e.httpStatus().orElse(0) != 409) {
        throw e;
      }
      Network existing = engine.call("inspecting network " + name, () -> docker.get().inspectNetworkCmd().withNetworkId(name).exec());
      requireOwn(spec.key(), "network", name, existing.getLabels());
    }
    return name;
  }

  /** The engine's option that names a bridge network's interface on the host. */
  static final String BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";

  /**
   * The host interface of a preview network: {@code pv-} and 12 hex digits of the network name's hash
   * (15 characters, Linux's limit), so that one firewall rule on {@code pv-+} covers every preview
   * bridge and nothing else (see the README: what a PR's container can reach).
   */
  static String bridgeName(String network) {
    return "pv-" + hash(network).substring(0, 12);
  }

  private void connectProxy(String network) {
    String proxy = settings.traefik.container();
    if (!settings.traefik.enabled() || proxy == null) {
      return;
    }
    try {
      docker.get().connectToNetworkCmd().withNetworkId(network).withContainerId(proxy).exec();
    } catch (DockerException e) {
      // 403/409: already connected; that is the state we want.
      if (e.getHttpStatus() != 403 && e.getHttpStatus() != 409 && !Engine.message(e).contains("already exists")) {
        throw engine.failure("connecting the proxy container " + proxy + " to " + network, e);
      }
    }
  }

  private void ensureServices(EnvironmentSpec spec, String network) {
    PreviewKey key = spec.key();
    List<Container> existing = containers(key, "service");
    for (Container c : existing) {
      String svc = c.getLabels().get(SERVICE);
      if (!settings.services.containsKey(svc)) {
        remove(c.getId());
      }
    }
    for (DockerSettings.Service svc : settings.services.values()) {
      String image = ensureImage(svc.image());
      String hash = hash("service", svc.name(), imageId(image), svc.command().toString(), new TreeMap<>(svc.env()).toString(),
          new TreeMap<>(svc.secrets()).keySet().toString(), String.valueOf(spec.secretsWithheld()), svc.volumes().toString(),
          DockerSettings.merge(svc.resources(), settings.resources).toString(), settings.restart, network);
      List<Container> mine = existing.stream().filter(c -> svc.name().equals(c.getLabels().get(SERVICE))).toList();
      Container current = mine.isEmpty() ? null : mine.get(0);
      // more than one only after a crash mid-replacement: keep one
      mine.stream().skip(1).forEach(c -> remove(c.getId()));
      boolean resetData = current != null && !settings.keepServiceData
          && !spec.revision().equals(current.getLabels().get(Labels.REVISION));
      if (current != null && hash.equals(current.getLabels().get(SPEC_HASH)) && !resetData
          && envMatches(current.getId(), serviceEnv(svc, spec))) {
        startIfStopped(current);
        continue;
      }
      if (current != null) {
        remove(current.getId());
      }
      if (resetData) {
        removeVolumes(key, svc.name());
      }
      createService(spec, svc, image, hash, network);
    }
  }

  private void createService(EnvironmentSpec spec, DockerSettings.Service svc, String image, String hash, String network) {
    PreviewKey key = spec.key();
    String name = dockerName(key, "svc-" + svc.name());
    List<Bind> binds = new ArrayList<>();
    for (int i = 0; i < svc.volumes().size(); i++) {
      String volume = dockerName(key, svc.name() + "-data" + i);
      Map<String, String> labels = labels(spec, "volume", false);
      labels.put(SERVICE, svc.name());
      // Creating a volume whose name exists returns the existing one: it must be this preview's own.
      var made = engine.call("creating volume " + volume, () -> docker.get().createVolumeCmd().withName(volume).withLabels(labels).exec());
      requireOwn(key, "volume", volume, made.getLabels());
      binds.add(new Bind(volume, new Volume(svc.volumes().get(i))));
    }
    Map<String, String> labels = labels(spec, "service", true);
    labels.put(SERVICE, svc.name());
    labels.put(SPEC_HASH, hash);
    HostConfig host = hostConfig(DockerSettings.merge(svc.resources(), settings.resources))
        .withNetworkMode(network).withBinds(binds);
    CreateContainerCmd cmd = docker.get().createContainerCmd(image).withName(name).withHostName(svc.name())
        .withAliases(svc.name()).withLabels(labels).withEnv(serviceEnv(svc, spec)).withHostConfig(host);
    if (!svc.command().isEmpty()) {
      cmd.withCmd(svc.command());
    }
    String id = createContainer(key, name, cmd);
    start(id, "service " + svc.name() + " of " + key);
  }

  /** A companion's env: its secrets only when the policy gives this preview secrets (never to a fork PR's). */
  private static List<String> serviceEnv(DockerSettings.Service svc, EnvironmentSpec spec) {
    List<String> env = new ArrayList<>();
    svc.env().forEach((k, v) -> env.add(k + "=" + v));
    if (!spec.secretsWithheld()) {
      svc.secrets().forEach((k, v) -> env.add(k + "=" + v.reveal()));
    }
    return env;
  }

  /** The {@link Labels#LIFECYCLE} labels among {@code labels}. */
  private static Map<String, String> lifecycle(Map<String, String> labels) {
    Map<String, String> out = new TreeMap<>();
    labels.forEach((k, v) -> {
      if (Labels.LIFECYCLE.contains(k)) {
        out.put(k, v);
      }
    });
    return out;
  }

  /**
   * Creates (or adopts) the app container of {@code spec}; returns the existing container it kept (the
   * same spec hash), or null when it created one. Lifecycle labels (expiry, last activity, last visit...)
   * are left out of the hash: a re-apply that only carries them over or moves them keeps the container.
   */
  private Container ensureApp(EnvironmentSpec spec, String network, String image) {
    PreviewKey key = spec.key();
    List<String> env = appEnv(spec);
    Map<String, String> labels = appLabels(spec, network);
    Map<String, String> hashed = new TreeMap<>(labels);
    hashed.keySet().removeAll(Labels.LIFECYCLE);
    String hash = hash("app", imageId(image), image, spec.command().toString(), String.valueOf(spec.port()),
        new TreeMap<>(spec.env()).toString(), new TreeMap<>(spec.secrets()).keySet().toString(),
        hashed.toString(), DockerSettings.merge(spec.resources(), settings.resources).toString(),
        settings.restart, String.valueOf(healthcheck(spec).getTest()), settings.healthcheck.toString(),
        String.valueOf(settings.publish), settings.publishInterface,
        settings.portLow + "-" + settings.portHigh, network);
    labels.put(SPEC_HASH, hash);

    List<Container> apps = byAge(containers(key, "app"));
    String failed = markers(key).failedRevision();
    Container keep = apps.stream()
        .filter(c -> hash.equals(c.getLabels().get(SPEC_HASH)) && envMatches(c.getId(), env))
        .reduce((a, b) -> b).orElse(null);
    // The previous healthy revision stays until the readiness gate accepts this one (acceptRevision),
    // so that rejectRevision can switch back to it; everything else of the key's apps goes now.
    Container fallback = fallback(apps, keep, failed);
    Integer hostPort = hostPort(apps, spec.port());
    for (Container c : apps) {
      if (c != keep && c != fallback) {
        remove(c.getId());
      }
    }
    if (failed != null) {
      removeVolumes(key, FAILED); // a new apply starts afresh: the rejected revision is no longer the news
    }
    checkpoint.accept("pruned");
    if (keep != null) {
      // Already created by an earlier (maybe interrupted) run: adopt it.
      if (!"running".equals(keep.getState())) {
        // a revision stopped by rejectRevision lost its restart policy: give it back before it runs again
        engine.run("restoring the restart policy of " + name(keep), () -> docker.get().updateContainerCmd(keep.getId())
            .withRestartPolicy(RestartPolicy.parse(settings.restart)).exec());
        if (fallback != null && settings.publish) {
          kill(fallback); // it holds the host port this one is bound to
        }
        startOrFallBack(keep.getId(), key, fallback);
      }
      return keep;
    }
    long order = epochNanos();
    String name = dockerName(key, "app-" + hash.substring(0, 12));
    if (fallback != null && name.equals(name(fallback))) {
      // the same spec with another secret value: both are kept until the gate decides, so another name
      name = dockerName(key, "app-" + hash.substring(0, 12) + "-" + Long.toHexString(order & 0xffffffL));
    }
    labels.put(ORDER, String.format(Locale.ROOT, "%020d", order));
    CreateContainerCmd cmd = docker.get().createContainerCmd(image).withName(name).withAliases("app")
        .withLabels(labels).withEnv(env).withExposedPorts(ExposedPort.tcp(spec.port()))
        .withHostConfig(hostConfig(DockerSettings.merge(spec.resources(), settings.resources))
            .withNetworkMode(network).withPortBindings(portBindings(spec.port(), hostPort)));
    HealthCheck health = healthcheck(spec);
    if (health.getTest() != null) {
      cmd.withHealthcheck(health);
    }
    if (!spec.command().isEmpty()) {
      cmd.withEntrypoint(spec.command().get(0));
      cmd.withCmd(spec.command().subList(1, spec.command().size()));
    }
    String id = createContainer(key, name, cmd);
    checkpoint.accept("app-created");
    if (fallback == null) {
      start(id, "app of " + key);
    } else if (settings.publish) {
      // The new container needs the old one's host port (the preview's URL stays the same), so the old
      // one lets go of it: stopped (quicker than removed: the gap is a stop and a start), not removed,
      // so that a failed readiness gate can start it again (rejectRevision).
      kill(fallback);
      checkpoint.accept("previous-stopped");
      startOrFallBack(id, key, fallback);
    } else {
      // Behind a proxy both run at once: the old one keeps serving while the new one comes up and
      // until the readiness gate accepts it (acceptRevision removes the old one).
      start(id, "app of " + key);
      try {
        awaitUp(id, key);
      } catch (ProviderException e) {
        markFailed(key, spec.revision(), null); // so list() tells that the running revision is not the one pushed
        throw e;
      }
    }
    if (spec.buildContext() != null && fallback == null) {
      removeOldBuilds(key, image);
    }
    return null;
  }

  private static long epochNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /**
   * The app container to keep beside {@code keep} (the one this apply runs) as the revision to roll
   * back to: the one that serves now. With a {@code failed} mark, the newest running container of
   * another revision (the one rejectRevision went back to). Without it, of two or more app containers
   * the newest is a revision whose gate never ended (superseded, or the orchestrator stopped): the one
   * before it is the fallback; a single one is, if it runs (a stopped or unhealthy one is no healthy
   * revision). Null when there is none, or when {@code keep} is that one.
   */
  private static Container fallback(List<Container> apps, Container keep, String failed) {
    Container f = null;
    if (failed != null) {
      for (Container c : apps) {
        if (!failed.equals(c.getLabels().get(Labels.REVISION)) && "running".equals(c.getState())) {
          f = c;
        }
      }
    } else if (apps.size() >= 2) {
      Container unaccepted = apps.get(apps.size() - 1);
      f = keep == unaccepted || keep == null ? apps.get(apps.size() - 2) : null;
      if (f != null && ("created".equals(f.getState()) || "dead".equals(f.getState()))) {
        f = null; // never started (a killed run's leftover), or broken: no revision to go back to
      }
    } else if (apps.size() == 1) {
      Container only = apps.get(0);
      boolean healthy = "running".equals(only.getState()) && (only.getStatus() == null
          || !only.getStatus().contains("(unhealthy)"));
      f = healthy ? only : null;
    }
    return f == keep ? null : f;
  }

  /** The host port the preview's app is published on: a running container's, else a fixed binding of one. */
  private Integer hostPort(List<Container> apps, int port) {
    for (Container c : apps) {
      Integer p = publishedPort(c, port);
      if (p != null) {
        return p;
      }
    }
    for (int i = apps.size() - 1; i >= 0; i--) {
      Integer fixed = fixedHostPort(apps.get(i).getId(), port);
      if (fixed != null) {
        return fixed;
      }
    }
    return null;
  }

  /** Starts the app container {@code id}; if that fails, starts {@code fallback} again (it had let go of the port). */
  private void startOrFallBack(String id, PreviewKey key, Container fallback) {
    try {
      start(id, "app of " + key);
    } catch (RuntimeException e) {
      if (fallback != null) {
        try {
          docker.get().startContainerCmd(fallback.getId()).exec();
        } catch (NotModifiedException | NotFoundException again) {
          // running, or gone
        } catch (RuntimeException again) {
          e.addSuppressed(again);
        }
      }
      throw e;
    }
  }

  private static List<String> appEnv(EnvironmentSpec spec) {
    List<String> env = new ArrayList<>();
    spec.env().forEach((k, v) -> env.add(k + "=" + v));
    spec.secrets().forEach((k, v) -> env.add(k + "=" + v.reveal()));
    return env;
  }

  private Map<String, String> appLabels(EnvironmentSpec spec, String network) {
    Map<String, String> labels = labels(spec, "app", true);
    labels.put(PORT, String.valueOf(spec.port()));
    // The one hostname rule (app.hostname) formed it; without one, the URL is the published port.
    String host = spec.hostname();
    if (settings.traefik.enabled() && host != null) {
      String router = dockerName(spec.key());
      String p = "traefik.http.routers." + router;
      labels.put("traefik.enable", "true");
      labels.put(p + ".rule", "Host(`" + host + "`)");
      if (!settings.traefik.entrypoints().isEmpty()) {
        labels.put(p + ".entrypoints", String.join(",", settings.traefik.entrypoints()));
      }
      if (settings.traefik.tls()) {
        labels.put(p + ".tls", "true");
        if (settings.traefik.certResolver() != null) {
          labels.put(p + ".tls.certresolver", settings.traefik.certResolver());
        }
      }
      labels.put(p + ".service", router);
      labels.put("traefik.http.services." + router + ".loadbalancer.server.port", String.valueOf(spec.port()));
      labels.put("traefik.docker.network", network);
      labels.put(Labels.PREFIX + "hostname", host);
    }
    return labels;
  }

  /** Ownership labels: configured ones, then the spec's, then ours (the installation's, which win). */
  private Map<String, String> labels(EnvironmentSpec spec, String role, boolean withRevision) {
    Map<String, String> labels = new LinkedHashMap<>(settings.labels);
    labels.putAll(spec.labels());
    if (!withRevision) {
      labels.remove(Labels.REVISION);
    }
    labels.putAll(installation.ownershipLabels(spec.key(), withRevision ? spec.revision() : null));
    labels.put(ROLE, role);
    return labels;
  }

  private HostConfig hostConfig(Resources r) {
    HostConfig h = HostConfig.newHostConfig().withRestartPolicy(RestartPolicy.parse(settings.restart));
    if (r.memoryBytes() > 0) {
      h.withMemory(r.memoryBytes()).withMemorySwap(r.memoryBytes());
    }
    if (r.milliCpus() > 0) {
      h.withNanoCPUs(r.milliCpus() * 1_000_000L);
    }
    if (r.pids() > 0) {
      h.withPidsLimit(r.pids());
    }
    return h;
  }

  private Ports portBindings(int port, Integer hostPort) {
    Ports ports = new Ports();
    if (!settings.publish) {
      return ports;
    }
    Ports.Binding binding;
    if (hostPort != null) {
      binding = Ports.Binding.bindIpAndPort(settings.publishInterface, hostPort);
    } else if (settings.portLow > 0) {
      binding = settings.portLow == settings.portHigh
          ? Ports.Binding.bindIpAndPort(settings.publishInterface, settings.portLow)
          : Ports.Binding.bindIpAndPortRange(settings.publishInterface, settings.portLow, settings.portHigh);
    } else {
      binding = Ports.Binding.bindIp(settings.publishInterface);
    }
    ports.bind(ExposedPort.tcp(port), binding);
    return ports;
  }

  private HealthCheck healthcheck(EnvironmentSpec spec) {
    DockerSettings.Healthcheck h = settings.healthcheck;
    if (h.command().isEmpty()) {
      return new HealthCheck();
    }
    List<String> test = new ArrayList<>();
    test.add("CMD");
    for (String part : h.command()) {
      test.add(part.replace("{port}", String.valueOf(spec.port())).replace("{path}", spec.healthPath()));
    }
    return new HealthCheck().withTest(test).withInterval(h.interval().toNanos()).withTimeout(h.timeout().toNanos())
        .withRetries(h.retries()).withStartPeriod(h.startPeriod().toNanos());
  }

  private String createContainer(PreviewKey key, String name, CreateContainerCmd cmd) {
    try {
      return cmd.exec().getId();
    } catch (ConflictException e) {
      // A container of that name is left over from an interrupted run and was not adopted: replace it,
      // if it is this preview's (never another preview's whose name met ours).
      InspectContainerResponse existing;
      try {
        existing = docker.get().inspectContainerCmd(name).exec();
      } catch (NotFoundException gone) {
        existing = null;
      }
      if (existing != null) {
        requireOwn(key, "container", name, existing.getConfig() == null ? null : existing.getConfig().getLabels());
      }
      remove(name);
      return engine.call("creating container " + name, () -> cmd.exec().getId());
    } catch (NotFoundException e) {
      throw new ProviderException(NAME, "creating container " + name + " failed: image " + cmd.getImage()
          + " is not on the Docker host: " + Engine.message(e), false, 404, e);
    } catch (DockerException e) {
      throw engine.failure("creating container " + name, e);
    } catch (RuntimeException e) {
      return engine.call("creating container " + name, () -> {
        throw e;
      });
    }
  }

  private void start(String id, String what) {
    try {
      docker.get().startContainerCmd(id).exec();
    } catch (NotModifiedException e) {
      // already running
    } catch (DockerException e) {
      String m = Engine.message(e);
      if (m.contains("port is already allocated") || m.contains("address already in use")) {
        remove(id);
        throw new ProviderException(NAME, "starting the " + what + " failed: its host port is taken (" + m
            + "). Free that port, or set environment.publish.ports to a free range (e.g. 20000-20999) "
            + "or leave it unset so Docker picks a free port.", false, e.getHttpStatus(), e);
      }
      throw engine.failure("starting the " + what, e);
    } catch (RuntimeException e) {
      engine.run("starting the " + what, () -> {
        throw e;
      });
    }
  }

  private void kill(Container c) {
    if (!"running".equals(c.getState()) && !"restarting".equals(c.getState())) {
      return;
    }
    try {
      docker.get().stopContainerCmd(c.getId()).withTimeout(0).exec();
    } catch (NotModifiedException | NotFoundException e) {
      // already stopped or gone
    } catch (DockerException e) {
      throw engine.failure("stopping the previous app container " + name(c), e);
    }
  }

  private void startIfStopped(Container c) {
    if (!"running".equals(c.getState())) {
      start(c.getId(), "container " + name(c));
    }
  }

  /**
   * Waits until the new app container is healthy (with a health check) or has kept running for
   * {@link #SETTLE} (without one): a process that crashes at once is often seen "running" by the
   * first inspection, and must not replace a working revision.
   */
  private void awaitUp(String id, PreviewKey key) {
    long deadline = System.nanoTime() + settings.updateTimeout.toNanos();
    long runningSince = -1;
    while (true) {
      InspectContainerResponse c = engine.call("inspecting the new app container of " + key,
          () -> docker.get().inspectContainerCmd(id).exec());
      InspectContainerResponse.ContainerState s = c.getState();
      String health = s.getHealth() == null ? null : s.getHealth().getStatus();
      boolean crashed = c.getRestartCount() != null && c.getRestartCount() > 0
          || !Boolean.TRUE.equals(s.getRunning()) && !Boolean.TRUE.equals(s.getRestarting());
      boolean running = !crashed && Boolean.TRUE.equals(s.getRunning());
      if (running && runningSince < 0) {
        runningSince = System.nanoTime();
      }
      if (running && ("healthy".equals(health)
          || health == null && System.nanoTime() - runningSince >= SETTLE.toNanos())) {
        return;
      }
      if (crashed || "unhealthy".equals(health) || System.nanoTime() > deadline) {
        List<String> lines = containerLogs(id, 20);
        remove(id);
        throw new ProviderException(NAME, "the new app container of " + key + " did not come up (state "
            + s.getStatus() + (health == null ? "" : ", health " + health) + "); the previous revision keeps running. "
            + "Last log lines:\n" + String.join("\n", lines), false);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ProviderException(NAME, "interrupted while waiting for the new app container of " + key, true, e);
      }
    }
  }

  private boolean envMatches(String id, List<String> env) {
    // Secret values are not in the spec hash (a label); compare them with what the container got.
    return engine.call("inspecting container " + id, () -> {
      try {
        String[] actual = docker.get().inspectContainerCmd(id).exec().getConfig().getEnv();
        return actual != null && Set.of(actual).containsAll(env);
      } catch (NotFoundException e) {
        return false;
      }
    });
  }

  // --------------------------------------------------------------------------------------- images

  private String resolveImage(EnvironmentSpec spec) {
    if (spec.buildContext() != null) {
      return build(spec);
    }
    if (spec.image() == null || spec.image().isBlank()) {
      throw new ProviderException(NAME, "the spec of " + spec.key() + " has neither an image nor a build context; "
          + "set app.image (or a build context) in preview.yaml", false);
    }
    return ensureImage(spec.image());
  }

  private String ensureImage(String image) {
    boolean present = imagePresent(image);
    if (present && settings.pull != DockerSettings.Pull.ALWAYS) {
      return image;
    }
    if (settings.pull == DockerSettings.Pull.NEVER) {
      throw new ProviderException(NAME, "image " + image + " is not on the Docker host at " + settings.host
          + " and environment.pull is never; build or load it there first (docker build / docker load), "
          + "or set environment.pull: missing", false, 404, null);
    }
    try {
      var cmd = docker.get().pullImageCmd(image);
      if (settings.registry != null) {
        cmd.withAuthConfig(authConfig());
      }
      PullOutput out = cmd.exec(new PullOutput());
      if (!out.awaitCompletion(settings.pullTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        out.close();
        throw new ProviderException(NAME, "pulling image " + image + " took longer than environment.pullTimeout ("
            + settings.pullTimeout + ")", true);
      }
      out.rethrow();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException(NAME, "interrupted while pulling " + image, true, e);
    } catch (DockerException e) {
      if (present) {
        log.warn("docker: pulling {} failed ({}); using the local copy", image, Engine.message(e));
        return image;
      }
      throw new ProviderException(NAME, "image " + image + " is not on the Docker host and pulling it failed: "
          + Engine.message(e) + ". Check the image reference and tag, the registry credentials "
          + "(environment.registry), or build the image on the host.", false, e.getHttpStatus(), e);
    } catch (ProviderException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      if (Engine.unreachable(e) && !present) {
        throw engine.unreachableException(e);
      }
      if (present) {
        log.warn("docker: pulling {} failed ({}); using the local copy", image, e.getMessage());
        return image;
      }
      throw new ProviderException(NAME, "image " + image + " is not on the Docker host and pulling it failed: "
          + e.getMessage() + ". Check the image reference and tag, the registry credentials "
          + "(environment.registry), or build the image on the host.", false, e);
    }
    return image;
  }

  /**
   * A pull's progress stream. Failures are kept for {@link #rethrow} instead of being logged at
   * ERROR by docker-java, since the caller reports them (with what to do) in its exception.
   */
  private static final class PullOutput extends QuietCallback<PullResponseItem> {
    private volatile String error;

    @Override
    public void onNext(PullResponseItem item) {
      if (item.isErrorIndicated()) {
        error = item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null
            ? item.getErrorDetail().getMessage() : BuildCmdOutput.legacyError(item);
      }
    }

    void rethrow() {
      rethrowFailure();
      if (error != null) {
        throw new DockerClientException(error);
      }
    }
  }

  /** Keeps a stream's failure for the caller instead of docker-java's ERROR log line. */
  private abstract static class QuietCallback<T> extends ResultCallback.Adapter<T> {
    private volatile Throwable failure;

    @Override
    public void onError(Throwable t) {
      if (failure == null) {
        failure = t;
      }
      try {
        close();
      } catch (IOException e) {
        log.debug("docker: closing a stream failed", e);
      }
    }

    void rethrowFailure() {
      Throwable f = failure;
      if (f instanceof RuntimeException r) {
        throw r;
      }
      if (f != null) {
        throw new IllegalStateException(f.getMessage(), f);
      }
    }
  }

  /**
   * The image is PRESENT if the engine has it; otherwise the registry is asked for its manifest
   * (with {@code environment.registry}'s credentials), which is what a pull would fetch.
   */
  @Override
  public ImageAvailability imageAvailable(String image) {
    try {
      if (imagePresent(image)) {
        return ImageAvailability.PRESENT;
      }
    } catch (RuntimeException e) {
      // the engine could not tell: the registry may
    }
    return registryProbe.manifestExists(image);
  }

  private boolean imagePresent(String image) {
    try {
      docker.get().inspectImageCmd(image).exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    } catch (DockerException e) {
      throw engine.failure("inspecting image " + image, e);
    } catch (RuntimeException e) {
      if (Engine.unreachable(e)) {
        throw engine.unreachableException(e);
      }
      throw e;
    }
  }

  private String imageId(String image) {
    return engine.call("inspecting image " + image, () -> docker.get().inspectImageCmd(image).exec().getId());
  }

  private AuthConfig authConfig() {
    DockerSettings.Registry r = settings.registry;
    AuthConfig a = new AuthConfig().withUsername(r.username()).withPassword(r.password().reveal());
    if (r.server() != null) {
      a.withRegistryAddress(r.server());
    }
    return a;
  }

  @Override
  public Optional<String> buildImage(EnvironmentSpec spec, Runnable checkpoint) {
    Objects.requireNonNull(checkpoint, "checkpoint");
    if (spec.buildContext() == null) {
      return Optional.empty();
    }
    return Optional.of(build(spec, checkpoint));
  }

  /** Builds the spec's context and tags it {@code <repository>:<revision>}; a tag already there is reused. */
  private String build(EnvironmentSpec spec) {
    return build(spec, () -> {});
  }

  /**
   * {@link #build(EnvironmentSpec)}, calling {@code checkpoint} about every second while the engine
   * builds; when it throws, the build is stopped (its stream closed, so the engine cancels it) and the
   * exception goes to the caller as it is.
   */
  private String build(EnvironmentSpec spec, Runnable checkpoint) {
    Path dir = spec.buildContext();
    Path dockerfile = dir.resolve(settings.build.dockerfile());
    if (!Files.isDirectory(dir) || !Files.isRegularFile(dockerfile)) {
      throw new ProviderException(NAME, "cannot build " + spec.key() + ": " + (Files.isDirectory(dir)
          ? "no " + settings.build.dockerfile() + " in " + dir + " (environment.build.dockerfile)"
          : "build context " + dir + " is not a directory"), false);
    }
    String repository = settings.build.repository() != null ? settings.build.repository() : dockerName(spec.key());
    String tag = repository + ":" + tagOf(spec.revision());
    if (imagePresent(tag)) {
      return tag;
    }
    Map<String, String> labels = labels(spec, "build", true);
    BuildCmdOutput out = new BuildCmdOutput();
    BuildImageCmd cmd = docker.get().buildImageCmd().withBaseDirectory(dir.toFile()).withDockerfile(dockerfile.toFile())
        .withTags(Set.of(tag)).withLabels(labels).withPull(settings.build.pull()).withNoCache(settings.build.noCache())
        .withRemove(true).withForcerm(true);
    if (spec.secretsWithheld()) {
      // A fork PR's Dockerfile is anyone's: no build arg of ours (they may carry tokens) and no registry
      // credentials (its FROM could pull, and its app then show, the team's private images).
      if (!settings.build.args().isEmpty() || settings.registry != null) {
        log.info("docker: building {} of a fork PR without environment.build.args and registry credentials", tag);
      }
    } else {
      settings.build.args().forEach(cmd::withBuildArg);
    }
    if (settings.registry != null && !spec.secretsWithheld()) {
      AuthConfigurations auths = new AuthConfigurations();
      auths.addConfig(authConfig().withRegistryAddress(
          settings.registry.server() == null ? AuthConfig.DEFAULT_SERVER_ADDRESS : settings.registry.server()));
      cmd.withBuildAuthConfigs(auths);
    }
    log.info("docker: building {} from {}", tag, dir);
    try {
      cmd.exec(out);
      long deadline = System.nanoTime() + settings.build.timeout().toNanos();
      boolean done = false;
      while (!done) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          break;
        }
        done = out.awaitEnd(Math.min(left, 1000));
        if (!done) {
          try {
            checkpoint.run();
          } catch (RuntimeException stop) {
            log.info("docker: stopping the build of {}: {}", tag, stop.toString());
            out.close();
            throw new StopBuild(stop);
          }
        }
      }
      if (!done) {
        out.close();
        throw new ProviderException(NAME, "building " + tag + " took longer than environment.build.timeout ("
            + settings.build.timeout() + "). Last lines:\n" + out.tail(), true);
      }
      out.rethrowFailure();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException(NAME, "interrupted while building " + tag, true, e);
    } catch (IOException e) {
      throw new ProviderException(NAME, "building " + tag + " failed: " + e.getMessage(), true, e);
    } catch (DockerException e) {
      throw new ProviderException(NAME, "building " + tag + " from " + dir + " failed: " + Engine.message(e)
          + " (the last lines of the build are below)", false, e, out.lines());
    } catch (ProviderException e) {
      throw e;
    } catch (StopBuild e) {
      throw e.reason;
    } catch (RuntimeException e) {
      if (Engine.unreachable(e)) {
        throw engine.unreachableException(e);
      }
      throw new ProviderException(NAME, "building " + tag + " from " + dir + " failed: " + e.getMessage()
          + " (the last lines of the build are below)", false, e, out.lines());
    }
    if (out.error != null || !imagePresent(tag)) {
      throw new ProviderException(NAME, "building " + tag + " from " + dir + " failed: "
          + (out.error == null ? "no image was produced" : out.error.trim()) + " (the last lines of the build are below)",
          false, null, out.lines());
    }
    return tag;
  }

  static String tagOf(String revision) {
    String t = revision.replaceAll("[^A-Za-z0-9_.-]", "-");
    if (!Character.isLetterOrDigit(t.charAt(0)) && t.charAt(0) != '_') {
      t = "r" + t;
    }
    return t.length() > 128 ? t.substring(0, 128) : t;
  }

  /** Built images of earlier revisions of this preview are not needed any more once the new one runs. */
  private void removeOldBuilds(PreviewKey key, String current) {
    try {
      Map<String, String> filter = labelFilter(key);
      filter.put(ROLE, "build");
      for (var img : docker.get().listImagesCmd().withLabelFilter(filter).exec()) {
        String[] tags = img.getRepoTags() == null ? new String[0] : img.getRepoTags();
        if (!Arrays.asList(tags).contains(current)) {
          removeImage(img.getId());
        }
      }
    } catch (DockerException e) {
      log.warn("docker: could not clean up old images of {}: {}", key, Engine.message(e));
    }
  }

  private void removeImage(String id) {
    try {
      docker.get().removeImageCmd(id).withForce(true).exec();
    } catch (NotFoundException | ConflictException e) {
      // gone, or still used by a container: both fine
    }
  }

  /** Carries the checkpoint's exception past the build's own error handling. */
  private static final class StopBuild extends RuntimeException {
    final RuntimeException reason;

    StopBuild(RuntimeException reason) {
      super(reason.getMessage(), reason, false, false);
      this.reason = reason;
    }
  }

  /** Collects a build's output, keeping its last lines for error messages. */
  private static final class BuildCmdOutput extends QuietCallback<BuildResponseItem> {
    private final Deque<String> lines = new ArrayDeque<>();
    /** Counted down when the stream ends (complete, failed or closed): docker-java's own timed wait closes it. */
    private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
    volatile String error;

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        ended.countDown();
      }
    }

    /** Waits up to {@code millis} for the stream's end, leaving it open when it has not ended. */
    boolean awaitEnd(long millis) throws InterruptedException {
      return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onNext(BuildResponseItem item) {
      if (item.getStream() != null) {
        for (String l : item.getStream().split("\n")) {
          if (!l.isBlank()) {
            add(l);
          }
        }
      }
      if (item.isErrorIndicated()) {
        error = item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null
            ? item.getErrorDetail().getMessage() : legacyError(item);
        add(error);
      }
    }

    @SuppressWarnings("deprecation") // old engines send only the plain "error" field
    static String legacyError(com.github.dockerjava.api.model.ResponseItem item) {
      return item.getError();
    }

    private synchronized void add(String line) {
      lines.addLast(line);
      while (lines.size() > BUILD_TAIL) {
        lines.removeFirst();
      }
    }

    synchronized String tail() {
      return String.join("\n", lines);
    }

    synchronized List<String> lines() {
      return List.copyOf(lines);
    }
  }

  // ----------------------------------------------------------------------------------- find, list

  @Override
  public Optional<Environment> find(PreviewKey key) {
    List<Container> apps = containers(key, "app");
    if (!apps.isEmpty()) {
      Markers m = markers(key);
      return Optional.of(environment(current(apps, m.failedRevision()), m));
    }
    List<Network> networks = engine.call("listing networks of " + key, () -> docker.get().listNetworksCmd()
        .withFilter("label", filter(key, ROLE + "=network")).exec());
    return networks.stream().filter(n -> installation.owns(labelsOf(n.getLabels()))).findFirst()
        .map(n -> halfMade(key, n.getLabels()));
  }

  @Override
  public List<Environment> list() {
    Map<String, String> appFilter = labelFilter(null);
    appFilter.put(ROLE, "app");
    // The engine filters; owns() checks again, so a filter an engine ignored never lets another's in.
    List<Container> apps = engine.call("listing preview containers", () -> docker.get().listContainersCmd().withShowAll(true)
        .withLabelFilter(appFilter).exec()).stream().filter(c -> installation.owns(labelsOf(c.getLabels()))).toList();
    Map<PreviewKey, Markers> markers = new java.util.HashMap<>();
    for (String role : List.of("suspended", FAILED, LIFECYCLE)) {
      var volumes = engine.call("listing preview volumes", () -> docker.get().listVolumesCmd()
          .withFilter("label", filter(null, ROLE + "=" + role)).exec().getVolumes());
      for (var v : volumes == null ? List.<com.github.dockerjava.api.command.InspectVolumeResponse>of() : volumes) {
        Map<String, String> l = labelsOf(v.getLabels());
        if (installation.owns(l)) {
          Labels.key(l).ifPresent(k -> markers.merge(k, Markers.of(l), Markers::and));
        }
      }
    }
    Map<PreviewKey, List<Container>> byKey = new TreeMap<>();
    for (Container c : apps) {
      Labels.key(c.getLabels()).ifPresent(k -> byKey.computeIfAbsent(k, x -> new ArrayList<>()).add(c));
    }
    List<Environment> out = new ArrayList<>();
    byKey.forEach((k, cs) -> {
      Markers m = markers.getOrDefault(k, Markers.NONE);
      out.add(environment(current(cs, m.failedRevision()), m));
    });
    // A network without an app container is a half-made (or half-deleted) preview: report it so a
    // reconcile can finish or remove it.
    List<Network> networks = engine.call("listing preview networks", () -> docker.get().listNetworksCmd()
        .withFilter("label", filter(null, ROLE + "=network")).exec());
    for (Network n : networks) {
      if (!installation.owns(labelsOf(n.getLabels()))) {
        continue;
      }
      Labels.key(n.getLabels()).filter(k -> !byKey.containsKey(k)).ifPresent(k -> out.add(halfMade(k, n.getLabels())));
    }
    return out;
  }

  /**
   * What the marker volumes of a preview say: suspended, the revision a readiness gate rejected, and
   * the lifecycle labels of the newest {@link #LIFECYCLE} marker (with its {@link #ORDER}).
   */
  record Markers(boolean suspended, String failedRevision, Map<String, String> lifecycle, String lifecycleOrder) {
    static final Markers NONE = new Markers(false, null, Map.of(), null);

    static Markers of(Map<String, String> volumeLabels) {
      String role = volumeLabels.get(ROLE);
      Map<String, String> lifecycle = Map.of();
      String order = null;
      if (LIFECYCLE.equals(role)) {
        lifecycle = new TreeMap<>();
        for (String label : Labels.LIFECYCLE) {
          String v = volumeLabels.get(label);
          if (v != null) {
            lifecycle.put(label, v);
          }
        }
        order = volumeLabels.getOrDefault(ORDER, "");
      }
      return new Markers("suspended".equals(role), FAILED.equals(role) ? volumeLabels.get(Labels.FAILED_REVISION) : null,
          lifecycle, order);
    }

    Markers and(Markers o) {
      boolean mine = lifecycleOrder != null && (o.lifecycleOrder == null || lifecycleOrder.compareTo(o.lifecycleOrder) >= 0);
      return new Markers(suspended || o.suspended, failedRevision != null ? failedRevision : o.failedRevision,
          mine ? lifecycle : o.lifecycle, mine ? lifecycleOrder : o.lifecycleOrder);
    }

    /** {@code labels} with the lifecycle labels of the newest marker over them. */
    Map<String, String> over(Map<String, String> labels) {
      if (lifecycle.isEmpty()) {
        return labels;
      }
      Map<String, String> out = new LinkedHashMap<>(labels);
      lifecycle.forEach((k, v) -> {
        if (v.isEmpty()) {
          out.remove(k);
        } else {
          out.put(k, v);
        }
      });
      return out;
    }
  }

  /** One volume listing of the key: its marker volumes say what {@link Markers} holds. */
  private Markers markers(PreviewKey key) {
    var volumes = engine.call("listing volumes of " + key, () -> docker.get().listVolumesCmd()
        .withFilter("label", filter(key)).exec().getVolumes());
    Markers m = Markers.NONE;
    for (var v : volumes == null ? List.<com.github.dockerjava.api.command.InspectVolumeResponse>of() : volumes) {
      if (installation.owns(labelsOf(v.getLabels()))) {
        m = m.and(Markers.of(labelsOf(v.getLabels())));
      }
    }
    return m;
  }

  private static Map<String, String> labelsOf(Map<String, String> labels) {
    return labels == null ? Map.of() : labels;
  }

  private static Environment halfMade(PreviewKey key, Map<String, String> labels) {
    return new Environment(key, labels.get(Labels.REVISION), null, Environment.Phase.STARTING, labels);
  }

  /** App containers oldest first: by {@link #ORDER} where both have it, else by the engine's creation second. */
  static List<Container> byAge(List<Container> cs) {
    List<Container> out = new ArrayList<>(cs);
    out.sort((a, b) -> {
      String x = a.getLabels() == null ? null : a.getLabels().get(ORDER);
      String y = b.getLabels() == null ? null : b.getLabels().get(ORDER);
      if (x != null && y != null) {
        return x.compareTo(y);
      }
      return Long.compare(a.getCreated() == null ? 0L : a.getCreated(), b.getCreated() == null ? 0L : b.getCreated());
    });
    return out;
  }

  /**
   * The app container that stands for the preview: after a rollback (a {@code failed} mark), the
   * newest running one of another revision; else the newest, which is the revision being deployed
   * (the previous one may still run beside it until the gate accepts it).
   */
  static Container current(List<Container> apps, String failed) {
    List<Container> aged = byAge(apps);
    if (failed != null) {
      for (int i = aged.size() - 1; i >= 0; i--) {
        Container c = aged.get(i);
        if (!failed.equals(c.getLabels().get(Labels.REVISION)) && "running".equals(c.getState())) {
          return c;
        }
      }
    }
    return aged.get(aged.size() - 1);
  }

  private Environment environment(Container c, Markers m) {
    Map<String, String> labels = m.over(c.getLabels());
    PreviewKey key = Labels.key(labels).orElseThrow();
    if (m.failedRevision() != null) {
      labels = new LinkedHashMap<>(labels);
      labels.put(Labels.FAILED_REVISION, m.failedRevision());
    }
    return new Environment(key, labels.get(Labels.REVISION), url(c), phase(c, m.suspended()), labels);
  }

  private static Environment.Phase phase(Container c, boolean suspended) {
    String state = c.getState() == null ? "" : c.getState();
    String status = c.getStatus() == null ? "" : c.getStatus();
    switch (state) {
      case "running":
        if (status.contains("(unhealthy)")) {
          return Environment.Phase.FAILED;
        }
        return status.contains("(health: starting)") ? Environment.Phase.STARTING : Environment.Phase.RUNNING;
      case "created":
        return suspended ? Environment.Phase.SUSPENDED : Environment.Phase.STARTING;
      case "restarting":
        return Environment.Phase.STARTING;
      case "paused":
        return Environment.Phase.SUSPENDED;
      default:
        return suspended ? Environment.Phase.SUSPENDED : Environment.Phase.FAILED;
    }
  }

  private URI url(Container c) {
    Map<String, String> labels = c.getLabels();
    String host = labels.get(Labels.PREFIX + "hostname");
    if (settings.traefik.enabled() && host != null) {
      return URI.create((settings.traefik.tls() ? "https://" : "http://") + host);
    }
    Integer port = publishedPort(c, parsePort(labels.get(PORT)));
    return port == null ? null : URI.create("http://" + hostForUrl() + ":" + port);
  }

  private String hostForUrl() {
    String h = settings.publicHost;
    return h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h;
  }

  private static int parsePort(String s) {
    try {
      return s == null ? -1 : Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Integer publishedPort(Container c, int privatePort) {
    if (c.getPorts() == null) {
      return null;
    }
    for (ContainerPort p : c.getPorts()) {
      if (p.getPrivatePort() != null && p.getPrivatePort() == privatePort && p.getPublicPort() != null) {
        return p.getPublicPort();
      }
    }
    return null;
  }

  /** This installation's containers of {@code key}, of one role or (null) all. */
  private List<Container> containers(PreviewKey key, String role) {
    Map<String, String> filter = labelFilter(key);
    if (role != null) {
      filter.put(ROLE, role);
    }
    List<Container> found = engine.call("listing containers of " + key,
        () -> docker.get().listContainersCmd().withShowAll(true).withLabelFilter(filter).exec());
    return new ArrayList<>(found.stream().filter(c -> installation.owns(labelsOf(c.getLabels()))).toList());
  }

  private static String name(Container c) {
    return c.getNames() == null || c.getNames().length == 0 ? c.getId() : c.getNames()[0].replaceFirst("^/", "");
  }

  // ------------------------------------------------------------------------------- delete, suspend

  @Override
  public void delete(PreviewKey key) {
    log.info("docker: deleting {}", key);
    for (Container c : containers(key, null)) {
      remove(c.getId());
    }
    removeVolumes(key, null);
    Map<String, String> builds = labelFilter(key);
    builds.put(ROLE, "build");
    for (var img : engine.call("listing images of " + key, () -> docker.get().listImagesCmd()
        .withLabelFilter(builds).exec())) {
      removeImage(img.getId());
    }
    // The network goes last: while it exists, list() still reports the preview, so a crash here is
    // finished by the next delete or reconcile.
    List<Network> networks = engine.call("listing networks of " + key, () -> docker.get().listNetworksCmd()
        .withFilter("label", filter(key)).exec());
    for (Network n : networks) {
      if (installation.owns(labelsOf(n.getLabels()))) {
        removeNetwork(n.getId());
      }
    }
  }

  private void removeNetwork(String id) {
    try {
      Network n = docker.get().inspectNetworkCmd().withNetworkId(id).exec();
      if (n.getContainers() != null) {
        for (String container : n.getContainers().keySet()) {
          // e.g. a reverse proxy we connected, which we must not remove
          try {
            docker.get().disconnectFromNetworkCmd().withNetworkId(id).withContainerId(container).withForce(true).exec();
          } catch (NotFoundException e) {
            // already gone
          }
        }
      }
      docker.get().removeNetworkCmd(id).exec();
    } catch (NotFoundException e) {
      // already gone
    } catch (DockerException e) {
      throw engine.failure("removing network " + id, e);
    } catch (RuntimeException e) {
      engine.run("removing network " + id, () -> {
        throw e;
      });
    }
  }

  /** Removes the preview's volumes; {@code service} null for all of them, else one service's (or the suspend marker). */
  private void removeVolumes(PreviewKey key, String service) {
    List<String> filter = filter(key);
    if ("suspended".equals(service) || FAILED.equals(service) || LIFECYCLE.equals(service)) {
      filter.add(ROLE + "=" + service);
    } else if (service != null) {
      filter.add(SERVICE + "=" + service);
    }
    var volumes = engine.call("listing volumes of " + key,
        () -> docker.get().listVolumesCmd().withFilter("label", filter).exec().getVolumes());
    if (volumes == null) {
      return;
    }
    for (var v : volumes) {
      if (!installation.owns(labelsOf(v.getLabels()))) {
        continue;
      }
      try {
        docker.get().removeVolumeCmd(v.getName()).exec();
      } catch (NotFoundException e) {
        // already gone
      } catch (DockerException e) {
        throw engine.failure("removing volume " + v.getName(), e);
      }
    }
  }

  /**
   * Refuses to use (join, mount, replace) a resource that is not {@code key}'s own in this
   * installation: a name shared with another preview (two keys whose names met, by a hash collision
   * or a name made by hand) must never let one preview reach another's network, data or companions.
   */
  private void requireOwn(PreviewKey key, String kind, String name, Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    if (installation.owns(l) && key.id().equals(l.get(Labels.KEY))) {
      return;
    }
    String owner = !Labels.isManaged(l) ? "is not managed by preview"
        : "belongs to preview " + l.getOrDefault(Labels.KEY, "(no key)") + " of instance "
            + l.getOrDefault(Labels.INSTANCE, "(none)");
    throw new ProviderException(NAME, "the " + kind + " " + name + " that " + key.id() + " would use already exists and "
        + owner + " (this is " + key.id() + " of instance " + installation.instance() + "); refusing to use it."
        + " Two names met: remove that " + kind + " if it is a leftover, or give one of the installations another"
        + " instance", false, 409, null);
  }

  /** Force removal: no stop grace period (busybox httpd as PID 1, for one, ignores SIGTERM). */
  private void remove(String idOrName) {
    try {
      docker.get().removeContainerCmd(idOrName).withForce(true).withRemoveVolumes(true).exec();
    } catch (NotFoundException e) {
      // already gone
    } catch (ConflictException e) {
      if (!Engine.message(e).contains("already in progress")) {
        throw engine.failure("removing container " + idOrName, e);
      }
    } catch (DockerException e) {
      throw engine.failure("removing container " + idOrName, e);
    } catch (RuntimeException e) {
      engine.run("removing container " + idOrName, () -> {
        throw e;
      });
    }
  }

  @Override
  public boolean supportsSuspend() {
    return true;
  }

  @Override
  public boolean supportsRelabel() {
    return true;
  }

  /**
   * A container's labels cannot change, so the lifecycle labels go to a new {@link #LIFECYCLE} marker
   * volume of the preview (its older ones are removed), which {@link #find} and {@link #list} lay over the
   * app container's labels: a gateway's visits and an operator's extend or pin survive a restart, on the
   * engine. Writes nothing when nothing changes.
   */
  @Override
  public Optional<Environment> relabel(PreviewKey key, Map<String, String> changes) {
    Labels.requireLifecycle(changes);
    List<Container> apps = containers(key, "app");
    if (apps.isEmpty()) {
      return Optional.empty();
    }
    Markers m = markers(key);
    Map<String, String> own = current(apps, m.failedRevision()).getLabels();
    Map<String, String> values = new TreeMap<>();
    for (String label : Labels.LIFECYCLE) {
      String v = own.get(label);
      if (v != null) {
        values.put(label, v);
      }
    }
    values.putAll(m.lifecycle());
    Map<String, String> before = new TreeMap<>(values);
    values.putAll(changes);
    if (effective(values).equals(effective(before))) {
      return find(key);
    }
    String order = String.format(Locale.ROOT, "%020d", epochNanos());
    Map<String, String> labels = new LinkedHashMap<>(installation.ownershipLabels(key, null));
    labels.put(ROLE, LIFECYCLE);
    labels.put(ORDER, order);
    labels.putAll(values);
    engine.call("recording the lifecycle labels of " + key, () -> docker.get().createVolumeCmd()
        .withName(dockerName(key, LIFECYCLE + "-" + order)).withLabels(labels).exec());
    List<String> filter = filter(key);
    filter.add(ROLE + "=" + LIFECYCLE);
    var volumes = engine.call("listing volumes of " + key, () -> docker.get().listVolumesCmd().withFilter("label", filter).exec().getVolumes());
    for (var v : volumes == null ? List.<com.github.dockerjava.api.command.InspectVolumeResponse>of() : volumes) {
      Map<String, String> l = labelsOf(v.getLabels());
      if (installation.owns(l) && l.getOrDefault(ORDER, "").compareTo(order) < 0) {
        try {
          docker.get().removeVolumeCmd(v.getName()).exec();
        } catch (NotFoundException e) {
          // already gone
        } catch (DockerException e) {
          log.warn("docker: could not remove the older lifecycle marker {} of {}: {}", v.getName(), key, e.getMessage());
        }
      }
    }
    return find(key);
  }

  private static Map<String, String> effective(Map<String, String> values) {
    Map<String, String> out = new TreeMap<>(values);
    out.values().removeIf(String::isEmpty);
    return out;
  }

  @Override
  public void suspend(PreviewKey key) {
    List<Container> all = containers(key, null);
    if (all.isEmpty()) {
      return;
    }
    // A stopped container looks the same whether it crashed or was suspended; this labelled marker
    // volume tells them apart, on the engine, so a new provider instance sees it too.
    Map<String, String> labels = new LinkedHashMap<>(installation.ownershipLabels(key, null));
    labels.put(ROLE, "suspended");
    engine.call("marking " + key + " suspended", () -> docker.get().createVolumeCmd()
        .withName(dockerName(key, "suspended")).withLabels(labels).exec());
    int timeout = (int) Math.min(Integer.MAX_VALUE, settings.stopTimeout.toSeconds());
    // Only the app container that stands for the preview is kept (a resume starts every container):
    // a previous revision still kept to roll back to, or a rejected one, goes now.
    List<Container> apps = all.stream().filter(c -> "app".equals(c.getLabels().get(ROLE))).toList();
    if (apps.size() > 1) {
      Container keep = current(apps, markers(key).failedRevision());
      for (Container c : apps) {
        if (c != keep) {
          remove(c.getId());
        }
      }
      all = new ArrayList<>(all.stream().filter(c -> !"app".equals(c.getLabels().get(ROLE)) || c == keep).toList());
    }
    // the app first, so it never runs without its companions
    all.sort(Comparator.comparing((Container c) -> !"app".equals(c.getLabels().get(ROLE))));
    for (Container c : all) {
      if ("running".equals(c.getState()) || "restarting".equals(c.getState())) {
        try {
          docker.get().stopContainerCmd(c.getId()).withTimeout(timeout).exec();
        } catch (NotModifiedException | NotFoundException e) {
          // already stopped or gone
        } catch (DockerException e) {
          throw engine.failure("stopping " + name(c), e);
        }
      }
    }
  }

  @Override
  public Environment resume(PreviewKey key) {
    List<Container> all = containers(key, null);
    if (all.isEmpty()) {
      throw new ProviderException(NAME, "cannot resume " + key + ": it has no containers on " + settings.host
          + " (deleted?); apply it again", false);
    }
    all.sort(Comparator.comparing((Container c) -> "app".equals(c.getLabels().get(ROLE))));
    firewall.ensure();
    for (Container c : all) {
      startIfStopped(c);
    }
    removeVolumes(key, "suspended");
    return find(key).orElseThrow();
  }

  // ------------------------------------------------------------------------- readiness: exit, reject

  /** Stops a container, taking an already stopped one as stopped. */
  private void stopQuietly(String id, int timeoutSeconds) {
    try {
      docker.get().stopContainerCmd(id).withTimeout(timeoutSeconds).exec();
    } catch (NotModifiedException e) {
      // already stopped
    }
  }

  private static RestartPolicy noRestartPolicy() {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue("{\"Name\":\"no\"}", RestartPolicy.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The app container's end, from the engine ({@code docker inspect}: {@code State.ExitCode},
   * {@code RestartCount}, {@code OOMKilled}): present once it exited (and is not suspended), or once
   * the restart policy restarted it; empty while it runs as started, or before it is started.
   */
  @Override
  public Optional<AppExit> exitStatus(PreviewKey key) {
    List<Container> apps = containers(key, "app");
    if (apps.isEmpty()) {
      return Optional.empty();
    }
    // cheap while one app container runs (the gate asks often): the marks matter only with two
    Markers marks = apps.size() > 1 ? markers(key) : null;
    InspectContainerResponse c;
    try {
      c = docker.get().inspectContainerCmd(current(apps, marks == null ? null : marks.failedRevision()).getId()).exec();
    } catch (NotFoundException e) {
      return Optional.empty(); // replaced meanwhile
    } catch (DockerException e) {
      throw engine.failure("inspecting the app container of " + key, e);
    }
    InspectContainerResponse.ContainerState s = c.getState();
    if (s == null) {
      return Optional.empty();
    }
    int restarts = c.getRestartCount() == null ? 0 : c.getRestartCount();
    boolean running = Boolean.TRUE.equals(s.getRunning()) || Boolean.TRUE.equals(s.getRestarting());
    String status = s.getStatus() == null ? "" : s.getStatus();
    boolean ended = !running && ("exited".equals(status) || "dead".equals(status));
    if (!ended && restarts == 0) {
      return Optional.empty();
    }
    if (ended && (marks != null ? marks : markers(key)).suspended()) {
      return Optional.empty();
    }
    Long code = s.getExitCodeLong();
    // the engine resets the code to 0 when it starts the container again: then it is not known
    Integer exitCode = code == null || (running && code == 0) ? null : (int) (long) code;
    String detail = Boolean.TRUE.equals(s.getOOMKilled()) ? "OOMKilled: over its memory limit"
        : s.getError() == null || s.getError().isBlank() ? null : s.getError();
    return Optional.of(new AppExit(exitCode, restarts, running, detail));
  }

  /**
   * Takes the failed revision out of service. When the previous revision's app container was kept
   * (every update keeps it until {@link #acceptRevision}: behind a proxy it still serves; with
   * host-port publishing it was stopped to free the port), it rolls back to it: the failed one is
   * stopped and that one started again if it was stopped, and {@link #find} reports it RUNNING.
   * Else the failed revision's container is stopped and {@link #find} reports it
   * {@link Environment.Phase#FAILED}. Either way the failed container keeps its logs
   * ({@code docker logs}), loses its restart policy (an engine restart must not bring it back), and
   * a labelled marker volume records {@link Labels#FAILED_REVISION} (Docker labels cannot be changed),
   * so every {@code find}/{@code list}, of any instance, tells. The marker is written first: a crash
   * in between is seen (and the next {@link #apply} removes the failed container and the marker).
   * Idempotent; nothing when the preview runs another revision.
   */
  @Override
  public Optional<Environment> rejectRevision(PreviewKey key, String revision) {
    List<Container> apps = byAge(containers(key, "app"));
    if (apps.isEmpty()) {
      return find(key);
    }
    String marked = markers(key).failedRevision();
    Container cur = current(apps, marked);
    if (!revision.equals(cur.getLabels().get(Labels.REVISION)) && !revision.equals(marked)) {
      return find(key);
    }
    Container back = null;
    for (Container c : apps) {
      if (!revision.equals(c.getLabels().get(Labels.REVISION))) {
        back = c; // the newest of another revision
      }
    }
    markFailed(key, revision, marked);
    int timeout = (int) Math.min(Integer.MAX_VALUE, settings.stopTimeout.toSeconds());
    for (Container c : apps) {
      if (!revision.equals(c.getLabels().get(Labels.REVISION))) {
        continue;
      }
      try {
        // stopped first (a stop also ends a restart loop), then no restart policy any more: an engine
        // restart must not bring the failed revision back
        if ("running".equals(c.getState()) || "restarting".equals(c.getState())) {
          stopQuietly(c.getId(), timeout);
        }
        try {
          docker.get().updateContainerCmd(c.getId()).withRestartPolicy(NO_RESTART).exec();
        } catch (DockerException e) {
          if (e instanceof NotModifiedException || e instanceof NotFoundException
              || e.getMessage() == null || !e.getMessage().contains("stopped container")) {
            throw e;
          }
          // the engine still held the task of an app that had just exited (a crash loop): once it is
          // stopped for sure, the update only changes the stored configuration
          stopQuietly(c.getId(), timeout);
          docker.get().updateContainerCmd(c.getId()).withRestartPolicy(NO_RESTART).exec();
        }
      } catch (NotModifiedException | NotFoundException e) {
        // already stopped or gone
      } catch (DockerException e) {
        throw engine.failure("stopping the failed app container " + name(c), e);
      }
      log.info("docker: stopped {} of {} at revision {}: it failed its readiness gate", name(c), key, revision);
    }
    if (back != null) {
      if (!"running".equals(back.getState())) {
        String id = back.getId();
        int port = parsePort(back.getLabels().get(PORT));
        Integer taken = null;
        for (Container c : apps) {
          if (revision.equals(c.getLabels().get(Labels.REVISION))) {
            taken = fixedHostPort(c.getId(), port);
          }
        }
        if (settings.publish && port > 0 && taken != null && fixedHostPort(id, port) == null) {
          // A preview's first container was bound to "any free port": started again, Docker would give
          // it another one, and the preview's URL would move. A copy bound to the preview's port instead.
          id = copyOnPort(key, back, port, taken);
        }
        start(id, "previous app container " + name(back) + " of " + key);
        if (!id.equals(back.getId())) {
          remove(back.getId());
        }
      }
      log.info("docker: {} rolled back to revision {} ({}): {} failed its readiness gate", key,
          back.getLabels().get(Labels.REVISION), name(back), revision);
    }
    return find(key);
  }

  /** The host port a container is bound to by its own config (not "any free port"), or null. */
  private Integer fixedHostPort(String id, int port) {
    try {
      HostConfig h = docker.get().inspectContainerCmd(id).exec().getHostConfig();
      Ports.Binding[] b = h == null || h.getPortBindings() == null ? null
          : h.getPortBindings().getBindings().get(ExposedPort.tcp(port));
      if (b != null) {
        for (Ports.Binding x : b) {
          String spec = x.getHostPortSpec();
          if (spec != null && spec.matches("\\d+")) {
            return Integer.parseInt(spec);
          }
        }
      }
      return null;
    } catch (NotFoundException e) {
      return null;
    }
  }

  /**
   * A created (not started) copy of the app container {@code c} (image, command, env, labels,
   * health check, limits, network and alias) bound to {@code hostPort}: the engine keeps the rest
   * of its config, so nothing is read back from a spec.
   */
  private String copyOnPort(PreviewKey key, Container c, int port, int hostPort) {
    InspectContainerResponse in = engine.call("inspecting " + name(c), () -> docker.get().inspectContainerCmd(c.getId()).exec());
    var cfg = in.getConfig();
    Ports ports = new Ports();
    ports.bind(ExposedPort.tcp(port), Ports.Binding.bindIpAndPort(settings.publishInterface, hostPort));
    HostConfig host = in.getHostConfig().withPortBindings(ports);
    String name = dockerName(key, "app-" + Long.toHexString(epochNanos() & 0xffffffffL));
    CreateContainerCmd cmd = docker.get().createContainerCmd(cfg.getImage()).withName(name).withAliases("app")
        .withLabels(cfg.getLabels()).withEnv(cfg.getEnv()).withExposedPorts(ExposedPort.tcp(port)).withHostConfig(host);
    if (cfg.getEntrypoint() != null) {
      cmd.withEntrypoint(cfg.getEntrypoint());
    }
    if (cfg.getCmd() != null) {
      cmd.withCmd(cfg.getCmd());
    }
    if (cfg.getHealthcheck() != null && cfg.getHealthcheck().getTest() != null) {
      cmd.withHealthcheck(cfg.getHealthcheck());
    }
    return createContainer(key, name, cmd);
  }

  /** Writes the marker volume of a rejected revision (replacing one of another revision). */
  private void markFailed(PreviewKey key, String revision, String marked) {
    if (revision.equals(marked)) {
      return;
    }
    if (marked != null) {
      removeVolumes(key, FAILED);
    }
    Map<String, String> labels = new LinkedHashMap<>(installation.ownershipLabels(key, null));
    labels.put(ROLE, FAILED);
    labels.put(Labels.FAILED_REVISION, revision);
    String volume = dockerName(key, FAILED);
    var made = engine.call("marking revision " + revision + " of " + key + " failed",
        () -> docker.get().createVolumeCmd().withName(volume).withLabels(labels).exec());
    requireOwn(key, "volume", volume, made.getLabels());
  }

  /**
   * {@code revision} passed the readiness gate: the previous revision's app container, kept to roll
   * back to, is removed now (and built images of older revisions). Idempotent; nothing when the
   * preview runs another revision or was rolled back.
   */
  @Override
  public void acceptRevision(PreviewKey key, String revision) {
    List<Container> apps = byAge(containers(key, "app"));
    if (apps.size() < 2 || markers(key).failedRevision() != null) {
      return;
    }
    Container cur = apps.get(apps.size() - 1);
    if (!revision.equals(cur.getLabels().get(Labels.REVISION))) {
      return;
    }
    for (Container c : apps) {
      if (c != cur) {
        remove(c.getId());
        log.info("docker: removed {} of {}: revision {} passed its readiness gate", name(c), key, revision);
      }
    }
    if (cur.getImage() != null) {
      removeOldBuilds(key, cur.getImage());
    }
  }

  // ---------------------------------------------------------------------------------------- logs

  @Override
  public List<String> logs(PreviewKey key, int lines) {
    if (lines <= 0) {
      return List.of();
    }
    List<Container> apps = containers(key, "app");
    if (apps.isEmpty()) {
      return List.of();
    }
    return containerLogs(current(apps, apps.size() > 1 ? markers(key).failedRevision() : null).getId(), lines);
  }

  private List<String> containerLogs(String id, int lines) {
    StringBuilder sb = new StringBuilder();
    ResultCallback.Adapter<Frame> cb = new ResultCallback.Adapter<>() {
      @Override
      public void onNext(Frame frame) {
        synchronized (sb) {
          sb.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
        }
      }
    };
    try {
      docker.get().logContainerCmd(id).withStdOut(true).withStdErr(true).withTail(lines).exec(cb)
          .awaitCompletion(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (NotFoundException e) {
      return List.of();
    } catch (DockerException e) {
      throw engine.failure("reading logs of " + id, e);
    }
    List<String> out;
    synchronized (sb) {
      out = sb.toString().lines().collect(Collectors.toList());
    }
    return out.size() > lines ? List.copyOf(out.subList(out.size() - lines, out.size())) : List.copyOf(out);
  }

  @Override
  public void close() {
    try {
      docker.closeIfBuilt();
    } catch (IOException e) {
      log.debug("docker: closing the client failed", e);
    }
  }

  // ------------------------------------------------------------------------------------- helpers

  private static String hash(String... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        md.update(String.valueOf(p).getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 32);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Makes {@code environment.provider: docker} work: registered in
   * {@code META-INF/services/dev.preview.spi.EnvironmentProvider$Factory}. Cheap to construct; the
   * docker-java client is built on the provider's first engine call.
   */
  public static final class Factory implements EnvironmentProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public EnvironmentProvider create(ProviderContext context) {
      return DockerEnvironmentProvider.create(context);
    }
  }
}
