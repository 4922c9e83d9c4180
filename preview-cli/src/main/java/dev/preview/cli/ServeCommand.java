package dev.preview.cli;

import dev.preview.core.assembly.PreviewAssembly;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderSection;
import dev.preview.k8s.LeaderElection;
import dev.preview.scm.WebhookSource;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.server.OperatorLog;
import dev.preview.server.PreviewMetrics;
import dev.preview.server.WebhookServer;
import dev.preview.server.ui.Dashboard;
import dev.preview.server.ui.DashboardSettings;
import dev.preview.server.ui.PreviewBoard;
import dev.preview.server.ui.PrCommands;
import dev.preview.core.PreviewActions;
import dev.preview.scm.CommandPermissions;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderContext;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code preview serve --config preview.yaml}: runs the webhook server. The {@code scm} section
 * names the SCM ({@code provider: github} or {@code gitlab}) and holds its token and
 * {@code webhookSecret}; the server answers on {@code POST /webhooks/<provider>} and reconciles
 * every {@code reconcile.interval}. Stops on SIGINT/SIGTERM, letting running deploys finish.
 *
 * <p>{@code --leader-election} runs several replicas safely: they elect a leader over a Kubernetes
 * Lease ({@code dev.preview.k8s.LeaderElection}) and only the leader handles webhooks and
 * reconciles; the others answer 503 (see {@link WebhookServer}) until they take over. The
 * Kubernetes client is configured like {@code kubectl}: {@code $KUBECONFIG}, {@code ~/.kube/config}
 * or the pod's service account.
 *
 * <p>Exit codes: 0 stopped cleanly; 1 could not listen; 2 the configuration is wrong (every problem printed).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Receive GitHub or GitLab webhooks and run a preview for every pull request.")
public final class ServeCommand implements Callable<Integer> {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kb|k|mb|m)?");

  @Spec CommandSpec spec;

  @Option(names = {"-c", "--config"}, defaultValue = "preview.yaml", description = "The configuration file (default: ${DEFAULT-VALUE}).")
  Path config;

  @Option(names = "--port", defaultValue = "8080", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--max-body-size", defaultValue = "25MB", description = "Larger deliveries are refused with 413 (default: ${DEFAULT-VALUE}).")
  String maxBodySize;

  @Option(names = "--threads", defaultValue = "16", description = "Request threads; slow senders never hold one (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--max-connections", defaultValue = "1024", description = "Open connections at most; more wait to be accepted (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(names = "--idle-timeout", defaultValue = "30s", description = "A connection on which nothing arrives for this long is closed (default: ${DEFAULT-VALUE}).")
  String idleTimeout;

  @Option(names = "--request-timeout", defaultValue = "20s", description = "A webhook body must arrive within this, or 408 (default: ${DEFAULT-VALUE}).")
  String requestTimeout;

  @Option(names = "--forwarded-headers", description = "Trust Forwarded / X-Forwarded-* from a reverse proxy in front (only if every request comes through it).")
  boolean forwardedHeaders;

  @Option(names = "--log-format", defaultValue = "text", description = "text (SLF4J lines) or json (one object per line on stdout, for log collectors) (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Option(names = "--no-metrics", negatable = false, description = "Do not serve GET /metrics (Prometheus).")
  boolean noMetrics;

  @Option(names = "--reconcile-interval", description = "Overrides reconcile.interval of the configuration, e.g. 5m; 0 turns it off.")
  String reconcileInterval;

  @Option(names = "--leader-election", description = "Act only while holding a Kubernetes Lease, so that several replicas never act at once.")
  boolean leaderElection;

  @Option(names = "--lease-name", description = "Name of the Lease; the same for every replica (default: preview-serve).")
  String leaseName;

  @Option(names = "--lease-namespace", description = "Namespace of the Lease (default: the client's namespace; in a pod, its own).")
  String leaseNamespace;

  @Option(names = "--identity", description = "This replica's identity in the Lease; unique per replica (default: host name + random suffix).")
  String identity;

  @Option(names = "--lease-duration", description = "How long a lease lasts without renewal, e.g. 15s: a crashed leader is replaced after it"
      + " (default: 15s; renewal deadline 2/3 of it, retries every 2/15 of it).")
  String leaseDuration;

  // ---------------------------------------------------------------- the gateway (preview-server's PreviewGateway)

  @Option(names = "--gateway-port", description = "Start the gateway (one entry for every preview URL: routing, visits, wake on visit,"
      + " access) on this port, overriding gateway.port; 0 picks a free one. Without it the gateway starts when preview.yaml has a gateway: section.")
  Integer gatewayPort;

  @Option(names = "--gateway-bind", description = "Address the gateway listens on, overriding gateway.bind (default 0.0.0.0).")
  String gatewayBind;

  @Option(names = "--no-gateway", negatable = false, description = "Do not start the gateway, even if preview.yaml has a gateway: section.")
  boolean noGateway;

  /** The gateway settings of {@code cfg} and the options, or null when no gateway runs; problems are added. */
  private dev.preview.server.gateway.GatewaySettings gatewaySettings(PreviewConfig cfg, List<String> problems) {
    dev.preview.spi.ProviderConfig section = cfg.serverSection("gateway");
    if (noGateway) {
      if (gatewayPort != null || gatewayBind != null) {
        problems.add("--no-gateway: cannot be used with --gateway-port or --gateway-bind (remove one of them)");
      }
      return null;
    }
    if (section.keys().isEmpty() && gatewayPort == null && gatewayBind == null) {
      return null;
    }
    try {
      dev.preview.server.gateway.GatewaySettings s = dev.preview.server.gateway.GatewaySettings.from(section);
      if (gatewayPort == null && gatewayBind == null) {
        return s;
      }
      return dev.preview.server.gateway.GatewaySettings.builder().port(gatewayPort != null ? gatewayPort : s.port())
          .bind(gatewayBind != null ? gatewayBind : s.bind()).hostname(s.hostname().orElse(null)).pathPrefix(s.pathPrefix().orElse(null))
          .publicUrl(s.publicUrl().orElse(null)).healthPath(s.healthPath().orElse(null)).access(s.access()).wakeHold(s.wakeHold())
          .wakeMaxHeld(s.wakeMaxHeld()).wakeTimeout(s.wakeTimeout()).retryAfter(s.retryAfter()).visitFlush(s.visitFlush())
          .refresh(s.refresh()).upstreamTimeout(s.upstreamTimeout()).build();
    } catch (ConfigurationException e) {
      for (String p : e.problems()) {
        problems.add(gatewayPort != null && p.startsWith("port:") ? "--gateway-port: " + p.substring(5).trim() : p);
      }
      return null;
    }
  }

  @Option(names = "--no-dashboard", negatable = false, description = "Do not serve the dashboard (/ui/) and its JSON API (/api/), even with a dashboard section.")
  boolean noDashboard;

  @Option(names = "--no-commands", negatable = false, description = "Ignore /preview commands in PR comments.")
  boolean noCommands;

  /** Where the election's builder comes from: {@link LeaderElection#builder()} (kubectl's configuration); tests use a mock server's client. */
  Supplier<LeaderElection.Builder> elections = LeaderElection::builder;

  /** A started server with its orchestrator (and its leader election); closing it stops them all. */
  public static final class Running implements AutoCloseable {
    private final WebhookServer server;
    private final PreviewOrchestrator orchestrator;
    private final String path;
    private final LeaderElection election;
    private final PreviewMetrics metrics;
    private final AtomicBoolean closed = new AtomicBoolean();
    private dev.preview.server.gateway.PreviewGateway gateway;
    private PrCommands commands;
    private boolean dashboard;

    Running(WebhookServer server, PreviewOrchestrator orchestrator, String path, LeaderElection election, PreviewMetrics metrics) {
      this.server = server;
      this.orchestrator = orchestrator;
      this.path = path;
      this.election = election;
      this.metrics = metrics;
    }

    Running withGateway(dev.preview.server.gateway.PreviewGateway g) {
      this.gateway = g;
      return this;
    }

    /** The gateway, when one runs ({@code gateway:} in preview.yaml, or {@code --gateway-port}). */
    public Optional<dev.preview.server.gateway.PreviewGateway> gateway() {
      return Optional.ofNullable(gateway);
    }

    /** Whether this replica acts now: always without leader election, else while it holds the Lease. */
    public boolean leads() {
      return election == null || election.isLeader();
    }

    /** This replica's identity in the Lease, or empty without leader election. */
    public Optional<String> election() {
      return Optional.ofNullable(election).map(LeaderElection::identity);
    }

    public WebhookServer server() {
      return server;
    }

    /** Whether the dashboard ({@code /ui/}) and its API ({@code /api/}) are served. */
    public boolean dashboard() {
      return dashboard;
    }

    /** Whether {@code /preview} PR comment commands are carried out. */
    public boolean commands() {
      return commands != null;
    }

    /** Where the SCM must send its webhooks, e.g. {@code /webhooks/github}. */
    public String webhookPath() {
      return path;
    }

    /**
     * Stops accepting, lets running deploys finish, then releases the Lease: the lease is held until
     * this replica has stopped acting, so that a standby never acts alongside it. Idempotent.
     */
    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      try {
        if (gateway != null) {
          gateway.close(); // stops routing and writes the last visits back
        }
        server.close();
        if (commands != null) {
          commands.close();
        }
        orchestrator.close(); // lets running deploys finish and flushes the statuses being sent
      } finally {
        if (metrics != null) {
          metrics.close();
        }
        if (election != null) {
          election.close();
        }
      }
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Running running;
    try {
      running = start();
    } catch (ConfigurationException e) {
      err.println(e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("cannot listen on " + bind + ":" + port + ": " + e.getMessage());
      return 1;
    }
    if (logFormat.trim().equalsIgnoreCase("json")) {
      // stdout carries only JSON lines then, so that a log collector can parse every one
      out.println(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("ts", java.time.Instant.now().toString())
          .put("level", "INFO").put("msg", "listening").put("url", running.server().url() + running.webhookPath())
          .put("metrics", !noMetrics).put("leaderElection", running.election().isPresent())
          .put("gateway", running.gateway().map(g -> g.url().toString()).orElse(null)));
    } else {
      out.println("preview serve: listening on " + running.server().url() + running.webhookPath() + " (health: /healthz"
          + (noMetrics ? "" : ", metrics: /metrics") + (running.dashboard() ? ", dashboard: /ui/" : "")
          + (running.commands() ? ", /preview commands on" : "") + ")");
      running.gateway().ifPresent(g -> out.println("preview serve: gateway on " + g.url() + " (every preview URL goes through it)"));
    }
    if (!logFormat.trim().equalsIgnoreCase("json")) {
      running.election().ifPresent(id -> out.println("preview serve: leader election as " + id
          + "; webhooks are answered 503 until this replica leads"));
    }
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running.close();
      stopped.countDown();
    }, "preview-serve-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.close();
    }
    return 0;
  }

  /** Reads the configuration, builds the orchestrator and the webhook source, and starts listening. */
  public Running start() throws IOException {
    PreviewConfig cfg = PreviewConfig.load(config);
    List<String> problems = new ArrayList<>();
    int maxBytes = size(maxBodySize, problems);
    Duration interval = cfg.reconcileInterval();
    if (reconcileInterval != null) {
      try {
        interval = dev.preview.spi.ProviderConfig.parseDuration(reconcileInterval);
      } catch (IllegalArgumentException e) {
        problems.add("--reconcile-interval: " + e.getMessage());
      }
    }
    WebhookSource source = null;
    try {
      source = webhookSource(cfg.scm());
    } catch (ConfigurationException e) {
      problems.addAll(e.problems());
    }
    Duration lease = leaseDuration(problems);
    Duration idle = duration("--idle-timeout", idleTimeout, problems);
    Duration request = duration("--request-timeout", requestTimeout, problems);
    OperatorLog log = switch (logFormat.trim().toLowerCase(Locale.ROOT)) {
      case "text" -> OperatorLog.text();
      case "json" -> OperatorLog.json(System.out);
      default -> {
        problems.add("--log-format: must be text or json, got \"" + logFormat + "\"");
        yield OperatorLog.text();
      }
    };
    if (threads < 1) {
      problems.add("--threads: must be at least 1, got " + threads);
    }
    DashboardSettings dashboard = null;
    dev.preview.spi.ProviderConfig dashboardSection = cfg.serverSection("dashboard");
    if (!noDashboard && DashboardSettings.present(dashboardSection)) {
      try {
        dashboard = DashboardSettings.read(dashboardSection);
      } catch (ConfigurationException e) {
        problems.addAll(e.problems());
      }
    }
    CommandPermissions permissions = null;
    if (!noCommands && source != null) {
      try {
        permissions = permissions(cfg.scm());
      } catch (ConfigurationException e) {
        problems.addAll(e.problems());
      }
    }
    if (maxConnections < 1) {
      problems.add("--max-connections: must be at least 1, got " + maxConnections);
    }
    dev.preview.server.gateway.GatewaySettings gatewaySettings = gatewaySettings(cfg, problems);
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    PreviewMetrics metrics = noMetrics ? null : PreviewMetrics.prometheus();
    java.time.Clock clock = cfg.installation().clock();
    PreviewBoard board = new PreviewBoard(clock);
    PreviewOrchestrator orchestrator;
    AtomicReference<dev.preview.server.gateway.PreviewGateway> gateway = new AtomicReference<>();
    try {
      // statuses off the deploy's thread: a slow or rate-limited SCM never delays a deploy
      orchestrator = PreviewAssembly.orchestrator(cfg, ProviderRegistry.defaultRegistry(), b -> {
        b.asyncStatus(true).listener(log).listener(board);
        if (metrics != null) {
          b.listener(metrics);
        }
        if (gatewaySettings != null) {
          // the gateway routes to, wakes and relabels the provider's environments; the orchestrator sees the
          // visits (policy.idleTimeout/sleepAfter), and the PR's links go through the gateway (with its token)
          var env = b.environment();
          var g = dev.preview.server.gateway.PreviewGateway.builder().environment(env).settings(gatewaySettings)
              .app(cfg.app()).clock(cfg.installation().clock()).metrics(metrics == null ? null : metrics.registry()).build();
          gateway.set(g);
          b.environment(g.visitAware(env)).notifier(g.notifier(b.notifier())).listener(g.listener())
              .redactor(gatewaySettings.redactor());
        }
      });
    } catch (RuntimeException e) {
      if (metrics != null) {
        metrics.close();
      }
      throw e;
    }
    if (gateway.get() != null) {
      gateway.get().wakeThrough(orchestrator); // a wake runs in order with the PR's deploys
    }
    LeaderElection election = null;
    AtomicReference<WebhookServer> started = new AtomicReference<>();
    try {
      WebhookServer.Builder server = WebhookServer.builder().orchestrator(orchestrator).source(source)
          .port(port).bind(bind).threads(threads).maxBodyBytes(maxBytes).reconcileInterval(interval)
          .maxConnections(maxConnections).idleTimeout(idle).requestTimeout(request).forwardedHeaders(forwardedHeaders).log(log);
      if (metrics != null) {
        server.metrics(metrics);
      }
      board.orchestrator(orchestrator).pullRequestLinks(pullRequestLinks(dashboard, cfg.scm()));
      PreviewActions actions = PreviewActions.of(orchestrator, cfg.policy(), clock);
      if (leaderElection) {
        election = election(lease, started);
        server.leadership(election::isLeader, lease).leader(election::leader);
      }
      // dashboard actions and PR commands only on the leader; the others show and name it
      dev.preview.server.ui.Leadership leads = election == null ? dev.preview.server.ui.Leadership.always()
          : dev.preview.server.ui.Leadership.of(election::isLeader, election::leader);
      if (dashboard != null) {
        server.mount(Dashboard.create(board, actions, dashboard, log, clock).leadership(leads).compressed(), Dashboard.prefixes());
      }
      PrCommands commands = permissions == null ? null : new PrCommands(actions, permissions, log).leadership(leads);
      if (commands != null) {
        server.commands(commands);
      }
      started.set(server.start());
      if (gateway.get() != null) {
        gateway.get().start();
      }
      if (election != null) {
        election.start();
      }
      Running r = new Running(started.get(), orchestrator, "/webhooks/" + source.name(), election, metrics)
          .withGateway(gateway.get());
      r.commands = commands;
      r.dashboard = dashboard != null;
      return r;
    } catch (IOException | RuntimeException e) {
      if (gateway.get() != null) {
        gateway.get().close();
      }
      if (started.get() != null) {
        started.get().close();
      }
      if (election != null) {
        election.close();
      }
      orchestrator.close();
      if (metrics != null) {
        metrics.close();
      }
      throw e;
    }
  }

  private static Duration duration(String option, String text, List<String> problems) {
    try {
      Duration d = dev.preview.spi.ProviderConfig.parseDuration(text);
      if (d.isNegative() || d.isZero()) {
        problems.add(option + ": must be longer than zero, e.g. 30s, got \"" + text + "\"");
        return Duration.ofSeconds(30);
      }
      return d;
    } catch (IllegalArgumentException e) {
      problems.add(option + ": " + e.getMessage());
      return Duration.ofSeconds(30);
    }
  }

  private LeaderElection election(Duration lease, AtomicReference<WebhookServer> server) {
    LeaderElection.Builder b;
    try {
      b = elections.get();
    } catch (RuntimeException e) {
      throw new ConfigurationException("--leader-election: cannot configure the Kubernetes client ($KUBECONFIG, ~/.kube/config"
          + " or the pod's service account): " + e.getMessage());
    }
    b.name(leaseName == null ? "preview-serve" : leaseName)
        .leaseDuration(lease)
        .renewDeadline(lease.multipliedBy(2).dividedBy(3))
        .retryPeriod(lease.multipliedBy(2).dividedBy(15))
        // a new leader first repairs what no replica did during the handover
        .onStartLeading(() -> {
          WebhookServer s = server.get();
          if (s != null) {
            s.reconcileSoon();
          }
        });
    if (leaseNamespace != null) {
      b.namespace(leaseNamespace);
    }
    if (identity != null) {
      b.identity(identity);
    }
    return b.build();
  }

  /** {@code --lease-duration}, checked with the other lease options (which need {@code --leader-election}). */
  private Duration leaseDuration(List<String> problems) {
    if (!leaderElection) {
      for (String[] o : new String[][] {{"--lease-name", leaseName}, {"--lease-namespace", leaseNamespace},
          {"--identity", identity}, {"--lease-duration", leaseDuration}}) {
        if (o[1] != null) {
          problems.add(o[0] + ": only used with --leader-election (add it, or remove " + o[0] + ")");
        }
      }
    }
    if (leaseDuration == null) {
      return Duration.ofSeconds(15);
    }
    try {
      Duration d = dev.preview.spi.ProviderConfig.parseDuration(leaseDuration);
      if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofMinutes(10)) > 0) {
        problems.add("--lease-duration: must be between 1s and 10m, got \"" + leaseDuration + "\"");
        return Duration.ofSeconds(15);
      }
      return d;
    } catch (IllegalArgumentException e) {
      problems.add("--lease-duration: " + e.getMessage());
      return Duration.ofSeconds(15);
    }
  }

  /** The webhook source named like {@code scm.provider}, built from the same section. */
  static WebhookSource webhookSource(ProviderSection scm) {
    List<String> found = new ArrayList<>();
    for (var it = ServiceLoader.load(WebhookSource.Factory.class).iterator(); it.hasNext(); ) {
      WebhookSource.Factory f;
      try {
        f = it.next();
      } catch (ServiceConfigurationError e) {
        continue;
      }
      found.add(f.name());
      if (f.name().equals(scm.provider())) {
        return f.create(ProviderContext.of(scm.config()));
      }
    }
    throw new ConfigurationException(scm.path() + ".provider: preview serve receives webhooks from " + String.join(" or ", found)
        + ", but the scm provider is \"" + scm.provider() + "\" (set scm.provider: github or gitlab, with webhookSecret)");
  }

  private static int size(String text, List<String> problems) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      problems.add("--max-body-size: must be a size such as 25MB or 512KB, got \"" + text + "\"");
      return WebhookServer.DEFAULT_MAX_BODY_BYTES;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    long bytes = unit.startsWith("k") ? n * 1024 : unit.startsWith("m") ? n * 1024 * 1024 : n;
    if (bytes < 1 || bytes > Integer.MAX_VALUE - 16) {
      problems.add("--max-body-size: must be between 1 byte and 2GB, got \"" + text + "\"");
      return WebhookServer.DEFAULT_MAX_BODY_BYTES;
    }
    return (int) bytes;
  }

  /** The permission check of {@code scm.provider} for PR comment commands; null for an SCM without one (console). */
  static CommandPermissions permissions(ProviderSection scm) {
    for (var it = ServiceLoader.load(CommandPermissions.Factory.class).iterator(); it.hasNext(); ) {
      CommandPermissions.Factory f;
      try {
        f = it.next();
      } catch (ServiceConfigurationError e) {
        continue;
      }
      if (f.name().equals(scm.provider())) {
        return f.create(ProviderContext.of(scm.config()));
      }
    }
    return null;
  }

  /** {@code dashboard.pullRequestUrl}, else github.com / the GitLab base URL of the scm section. */
  static java.util.function.Function<dev.preview.spi.PreviewKey, java.net.URI> pullRequestLinks(DashboardSettings d,
      ProviderSection scm) {
    String template;
    if (d != null && d.pullRequestUrl().isPresent()) {
      template = d.pullRequestUrl().get();
    } else if (scm.provider().equals("github")) {
      String base = scm.config().string("baseUrl", "https://api.github.com");
      String web = base.contains("api.github.com") ? "https://github.com" : base.replaceAll("/api/v3/?$", "");
      template = web + "/{repository}/pull/{number}";
    } else if (scm.provider().equals("gitlab")) {
      String base = scm.config().string("baseUrl", "https://gitlab.com").replaceAll("/api/v4/?$", "").replaceAll("/$", "");
      template = base + "/{repository}/-/merge_requests/{number}";
    } else {
      return k -> null;
    }
    String t = template;
    return k -> {
      try {
        return java.net.URI.create(t.replace("{repository}", k.repository()).replace("{number}", Integer.toString(k.number())));
      } catch (IllegalArgumentException e) {
        return null;
      }
    };
  }
}
