package dev.preview.docker;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Resources;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code environment} section of {@code preview.yaml} for {@code provider: docker}, read and
 * validated at once. Immutable. See the module README for every key.
 */
final class DockerSettings {
  static final String DEFAULT_HOST = "unix:///var/run/docker.sock";
  private static final Pattern PORT_RANGE = Pattern.compile("(\\d{1,5})(?:\\s*-\\s*(\\d{1,5}))?");
  private static final Pattern RESTART = Pattern.compile("no|always|unless-stopped|on-failure(:\\d+)?");
  private static final Pattern SERVICE_NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");
  private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_./-]*");

  enum Pull { MISSING, ALWAYS, NEVER }

  /** A companion container (database, cache) on the preview's network, reachable by its name. */
  record Service(String name, String image, List<String> command, Map<String, String> env,
      Map<String, Secret> secrets, List<String> volumes, Resources resources) {}

  record Healthcheck(List<String> command, Duration interval, Duration timeout, int retries, Duration startPeriod) {}

  record Build(String dockerfile, String repository, Map<String, String> args, boolean pull, boolean noCache,
      Duration timeout) {}

  record Traefik(boolean enabled, List<String> entrypoints, boolean tls, String certResolver,
      String container) {}

  record Registry(String server, String username, Secret password) {}

  final String host;
  /** Where {@link #host} came from, for error messages. */
  final String hostSource;
  final boolean tlsVerify;
  final String certPath;
  final Registry registry;
  final Pull pull;
  final Duration pullTimeout;
  final boolean publish;
  final String publishInterface;
  final int portLow;
  final int portHigh;
  final String publicHost;
  final Resources resources;
  final String restart;
  final Healthcheck healthcheck;
  final Duration stopTimeout;
  final Duration updateTimeout;
  final boolean keepServiceData;
  final Build build;
  final Map<String, Service> services;
  final Traefik traefik;
  final Map<String, String> labels;
  final HostFirewall.Settings hostFirewall;

  private DockerSettings(ProviderConfig c, Function<String, String> env) {
    c.ignore("provider");
    Optional<String> configured = c.string("host");
    String fromEnv = env.apply("DOCKER_HOST");
    if (configured.isPresent()) {
      host = configured.get();
      hostSource = c.path() + ".host in preview.yaml";
    } else if (fromEnv != null && !fromEnv.isBlank()) {
      host = fromEnv;
      hostSource = "the DOCKER_HOST environment variable";
    } else {
      host = DEFAULT_HOST;
      hostSource = "the default, as neither " + c.path() + ".host nor DOCKER_HOST is set";
    }
    if (!host.matches("(unix|tcp|npipe)://.+")) {
      c.problem("host", "must look like unix:///var/run/docker.sock or tcp://host:2376, got \"" + host + "\"");
    }
    tlsVerify = c.bool("tlsVerify", "1".equals(env.apply("DOCKER_TLS_VERIFY")));
    certPath = c.string("certPath").orElse(env.apply("DOCKER_CERT_PATH"));

    ProviderConfig r = c.section("registry");
    registry = r.keys().isEmpty() ? null
        : new Registry(r.string("server", null), r.requiredString("username"), r.requiredSecret("password"));
    pull = Pull.valueOf(c.choice("pull", "missing", "missing", "always", "never").toUpperCase(java.util.Locale.ROOT));
    pullTimeout = c.duration("pullTimeout", Duration.ofMinutes(5));

    ProviderConfig p = c.section("publish");
    publish = p.bool("enabled", true);
    publishInterface = p.string("interface", "127.0.0.1");
    int[] range = portRange(p);
    portLow = range[0];
    portHigh = range[1];
    publicHost = p.string("host").orElseGet(() -> defaultPublicHost(host, publishInterface));

    resources = resources(c.section("resources"));
    restart = c.string("restart", "unless-stopped");
    if (!RESTART.matcher(restart).matches()) {
      c.problem("restart", "must be no, always, unless-stopped, on-failure or on-failure:N, got \"" + restart + "\"");
    }
    ProviderConfig h = c.section("healthcheck");
    healthcheck = new Healthcheck(h.strings("command"), h.duration("interval", Duration.ofSeconds(5)),
        h.duration("timeout", Duration.ofSeconds(3)), h.integer("retries", 3, 1, 100),
        h.duration("startPeriod", Duration.ZERO));
    stopTimeout = c.duration("stopTimeout", Duration.ofSeconds(10));

    ProviderConfig u = c.section("update");
    updateTimeout = u.duration("timeout", Duration.ofSeconds(60));
    keepServiceData = u.bool("keepServiceData", true);

    ProviderConfig b = c.section("build");
    build = new Build(b.string("dockerfile", "Dockerfile"), b.string("repository", null), b.stringMap("args"),
        b.bool("pull", false), b.bool("noCache", false), b.duration("timeout", Duration.ofMinutes(15)));

    Map<String, Service> s = new LinkedHashMap<>();
    c.sections("services").forEach((name, sc) -> {
      if (!SERVICE_NAME.matcher(name).matches()) {
        c.problem("services." + name, "service names must match [a-z][a-z0-9-]{0,30} (they are host names)");
      }
      if ("app".equals(name)) {
        c.problem("services.app", "\"app\" is the name of the preview's own app; choose another");
      }
      List<String> volumes = sc.strings("volumes");
      for (String v : volumes) {
        if (!v.startsWith("/")) {
          sc.problem("volumes", "must be absolute paths inside the container, got \"" + v + "\"");
        }
      }
      s.put(name, new Service(name, sc.requiredString("image"), sc.strings("command"), sc.stringMap("env"),
          sc.secretMap("secrets"), volumes, resources(sc.section("resources"))));
    });
    services = Map.copyOf(s);

    ProviderConfig t = c.section("traefik");
    if (t.has("domain")) {
      t.ignore("domain");
      t.problem("domain", "removed: set app.hostname, e.g. pr-{number}.preview.example.com; the Traefik rule and"
          + " the DNS record both use it");
    }
    traefik = new Traefik(t.bool("enabled", false), t.strings("entrypoints"),
        t.bool("tls", false), t.string("certResolver", null), t.string("container", null));

    if (!publish && !traefik.enabled()) {
      c.problem("publish.enabled", "is false and traefik is not enabled, so previews would have no URL; "
          + "enable one of them");
    }

    hostFirewall = HostFirewall.Settings.from(c.section("hostFirewall"));

    labels = c.stringMap("labels");
    for (String name : labels.keySet()) {
      if (!LABEL_NAME.matcher(name).matches() || name.startsWith("preview.dev/")) {
        c.problem("labels." + name, "label names must match [A-Za-z0-9][A-Za-z0-9_./-]* and not use preview.dev/");
      }
    }
    c.validate();
  }

  /** Reads and validates {@code config}; throws {@link dev.preview.spi.ConfigurationException} listing every problem. */
  static DockerSettings from(ProviderConfig config) {
    return from(config, System::getenv);
  }

  static DockerSettings from(ProviderConfig config, Function<String, String> env) {
    return new DockerSettings(config, env);
  }

  private static int[] portRange(ProviderConfig p) {
    Optional<String> s = p.string("ports");
    if (s.isEmpty()) {
      return new int[] {0, 0};
    }
    Matcher m = PORT_RANGE.matcher(s.get().trim());
    if (m.matches()) {
      int low = Integer.parseInt(m.group(1));
      int high = m.group(2) == null ? low : Integer.parseInt(m.group(2));
      if (low >= 1 && high <= 65535 && low <= high) {
        return new int[] {low, high};
      }
    }
    p.problem("ports", "must be a port or a range like 20000-20999, got \"" + s.get() + "\"");
    return new int[] {0, 0};
  }

  private static Resources resources(ProviderConfig r) {
    long cpu = 0;
    long memory = 0;
    Optional<String> c = r.string("cpu");
    Optional<String> m = r.string("memory");
    try {
      cpu = c.map(Resources::parseCpu).orElse(0L);
    } catch (IllegalArgumentException e) {
      r.problem("cpu", e.getMessage());
    }
    try {
      memory = m.map(Resources::parseMemory).orElse(0L);
    } catch (IllegalArgumentException | ArithmeticException e) {
      r.problem("memory", e.getMessage());
    }
    long pids = r.longValue("pids", 0, 0, Long.MAX_VALUE);
    return new Resources(cpu, memory, pids);
  }

  /** A TCP engine's host name is where published ports live; a local socket means this machine. */
  private static String defaultPublicHost(String host, String iface) {
    if (host.startsWith("tcp://")) {
      String rest = host.substring("tcp://".length());
      int colon = rest.lastIndexOf(':');
      return colon > 0 ? rest.substring(0, colon) : rest;
    }
    return "0.0.0.0".equals(iface) || "::".equals(iface) ? "localhost" : iface;
  }

  /** The limits to apply: the spec's own where it sets one, else the configured default. */
  static Resources merge(Resources spec, Resources defaults) {
    return new Resources(spec.milliCpus() > 0 ? spec.milliCpus() : defaults.milliCpus(),
        spec.memoryBytes() > 0 ? spec.memoryBytes() : defaults.memoryBytes(),
        spec.pids() > 0 ? spec.pids() : defaults.pids());
  }
}
