package dev.preview.server.gateway;

import dev.preview.core.AppTemplate;
import dev.preview.core.HealthCheck;
import dev.preview.core.PreviewListener;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.ScmNotifier;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.eclipse.jetty.websocket.core.server.WebSocketUpgradeHandler;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One entry for every preview URL: a reverse proxy on Jetty's {@code ProxyHandler.Reverse} that routes
 * a request by its host ({@code pr-42.preview.example.com}, any hostname template) or its path prefix
 * ({@code /pr/42/}, stripped, with {@code X-Forwarded-Prefix}) to the environment's own URL, found in
 * the provider's {@code list()} (cached; refreshed on every state change through {@link #listener()}
 * and every {@code refreshInterval}). An unknown host gets a plain 404, never another preview.
 *
 * <p>On the way it records visits (written back to the environment's last-activity label at most once
 * per {@code visitFlushInterval}, see {@link #visitAware}), wakes a sleeping preview on a visit (one
 * resume however many requests arrive; API requests are held until the health check passes, browsers
 * get a "waking up" page that refreshes itself), and keeps strangers out ({@link GatewaySettings.Access}).
 * Every response carries {@code X-Robots-Tag: noindex}. WebSocket upgrades are bridged with Jetty's
 * WebSocket core server and client (the proxy does not tunnel them). Bodies stream both ways.
 *
 * <pre>{@code
 * PreviewGateway gateway = PreviewGateway.builder()
 *     .environment(provider)                       // the provider the orchestrator deploys with
 *     .settings(GatewaySettings.from(config.serverSection("gateway")))
 *     .app(config.app())                           // hostname rule and health path
 *     .metrics(metrics.registry())
 *     .build();
 * PreviewOrchestrator previews = PreviewOrchestrator.builder()
 *     .environment(gateway.visitAware(provider))   // the policy sees visits
 *     .notifier(gateway.notifier(notifier))        // PR links carry the access token
 *     .listener(gateway.listener())                // routes follow every state change
 *     ...build();
 * gateway.start();
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} stops listening and the background work; it closes neither the
 * provider nor the notifier.
 */
public final class PreviewGateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PreviewGateway.class);

  private final GatewaySettings settings;
  private final EnvironmentProvider provider;
  private final Clock clock;
  private final Routes routes;
  private final Visits visits;
  private final Waker waker;
  private final GatewayMetrics metrics;
  private final @Nullable AccessTokens tokens;
  private final String urlScheme;
  private final int threads;
  private final ScheduledExecutorService background;
  private final ExecutorService wakes;
  private final AtomicBoolean refreshQueued = new AtomicBoolean();
  private volatile long lastRefreshNanos;
  private @Nullable Server http;
  private @Nullable ServerConnector connector;
  private @Nullable WebSocketCoreClient wsClient;

  private PreviewGateway(Builder b) {
    this.settings = b.settings;
    this.provider = b.provider;
    this.clock = b.clock;
    this.threads = b.threads;
    Function<PreviewKey, Optional<String>> hostnames = b.hostnames;
    if (settings.hostname().isPresent()) {
      AppTemplate template = AppTemplate.builder().hostnameTemplate(settings.hostname().get()).build();
      hostnames = k -> Optional.ofNullable(template.hostname(k));
    }
    this.urlScheme = b.urlScheme;
    this.routes = new Routes(hostnames, settings.pathPrefix().orElse(null));
    this.metrics = new GatewayMetrics(b.registry);
    this.visits = new Visits(provider, clock);
    this.tokens = settings.access().signingKey().map(AccessTokens::new).orElse(null);
    this.background = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "preview-gateway-refresh");
      t.setDaemon(true);
      return t;
    });
    this.wakes = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "preview-gateway-wake");
      t.setDaemon(true);
      return t;
    });
    String healthPath = settings.healthPath().orElse(b.healthPath);
    this.waker = new Waker(provider, b.healthCheck, healthPath, settings.wakeTimeout(), wakes, metrics, routes::update);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Wakes sleeping previews through {@code orchestrator} (in order with each PR's other work, and the
   * PR shows READY again) instead of resuming them directly; on a provider that cannot resume, a visit
   * deploys the PR's head again ({@link dev.preview.core.PreviewOrchestrator#redeploy}), which is also how
   * such a preview is woken at all (the orchestrator's {@link dev.preview.core.PreviewOrchestrator#wake} does
   * it). {@code preview serve} calls it once the orchestrator is built.
   */
  public PreviewGateway wakeThrough(dev.preview.core.PreviewOrchestrator orchestrator) {
    Objects.requireNonNull(orchestrator, "orchestrator");
    waker.orchestrated(key -> orchestrator.wake(key, "a visit through the gateway"));
    return this;
  }

  /** Starts listening (and the periodic refresh and visit flush); routes are read once before it answers. */
  public synchronized PreviewGateway start() throws IOException {
    if (http != null) {
      throw new IllegalStateException("the gateway is already started");
    }
    refreshNow();
    QueuedThreadPool pool = new QueuedThreadPool(threads + 4, Math.min(4, threads + 4));
    pool.setName("preview-gateway");
    pool.setDaemon(true);
    Server server = new Server(pool);
    HttpConfiguration config = new HttpConfiguration();
    config.setSendServerVersion(false);
    config.setSendDateHeader(true);
    ServerConnector c = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config));
    c.setHost(settings.bind());
    c.setPort(settings.port());
    c.setIdleTimeout(settings.upstreamTimeout().toMillis());
    server.addConnector(c);

    WebSocketCoreClient client = new WebSocketCoreClient();
    GatewayProxy proxy = new GatewayProxy(settings, metrics);
    var components = WebSocketServerComponents.ensureWebSocketComponents(server);
    WebSocketUpgradeHandler ws = new WebSocketUpgradeHandler(components,
        h -> h.addMapping("/*", new GatewayHandler.Negotiator(client, settings)));
    ws.setHandler(proxy);
    GatewayHandler handler = new GatewayHandler(this, settings, routes, visits, waker, metrics, tokens, clock, wakes);
    handler.setHandler(ws);
    server.setHandler(handler);
    server.addBean(client);
    try {
      server.start();
    } catch (Exception e) {
      try {
        server.stop();
      } catch (Exception ignored) {
        // already failed
      }
      if (e instanceof IOException io) {
        throw io instanceof BindException ? new IOException("cannot listen on " + settings.bind() + ":" + settings.port()
            + ": " + e.getMessage() + " (set gateway.port or --gateway-port to a free port)", e) : io;
      }
      throw new IOException("cannot start the gateway: " + e.getMessage(), e);
    }
    this.http = server;
    this.connector = c;
    this.wsClient = client;
    long refresh = settings.refresh().toMillis();
    background.scheduleWithFixedDelay(this::refreshQuietly, refresh, refresh, TimeUnit.MILLISECONDS);
    long flush = settings.visitFlush().toMillis();
    background.scheduleWithFixedDelay(this::flushVisits, flush, flush, TimeUnit.MILLISECONDS);
    LOG.info("gateway: listening on {} ({} previews routed, access {})", url(), routes.size(), settings.access());
    return this;
  }

  /** The port it listens on (the one picked, with port 0). */
  public int port() {
    ServerConnector c = connector;
    if (c == null) {
      throw new IllegalStateException("the gateway is not started");
    }
    return c.getLocalPort();
  }

  /** Its own address, e.g. {@code http://127.0.0.1:8081/}. */
  public URI url() {
    String host = settings.bind().equals("0.0.0.0") || settings.bind().equals("::") ? "127.0.0.1" : settings.bind();
    return URI.create("http://" + host + ":" + port() + "/");
  }

  /**
   * Where users reach {@code key}'s preview through the gateway: its host by the hostname rule (with the
   * scheme and port of {@code publicUrl}, else the gateway's own), else {@code publicUrl} (or the gateway's
   * address) plus its path prefix; empty when neither routes it.
   */
  public Optional<URI> url(PreviewKey key) {
    URI base = settings.publicUrl().orElse(null);
    Optional<String> host = routes.host(key);
    if (host.isPresent()) {
      String scheme = base != null ? base.getScheme() : (connector == null ? urlScheme : "http");
      int port = base != null ? base.getPort() : (connector == null ? -1 : port());
      return Optional.of(URI.create(scheme + "://" + host.get() + (port > 0 ? ":" + port : "") + "/"));
    }
    Optional<String> prefix = routes.prefix(key);
    if (prefix.isPresent()) {
      URI root = base != null ? base : (connector == null ? null : url());
      if (root == null) {
        return Optional.empty();
      }
      String path = root.getRawPath() == null ? "" : root.getRawPath().replaceAll("/+$", "");
      return Optional.of(URI.create(root.getScheme() + "://" + root.getRawAuthority() + path + prefix.get()));
    }
    return Optional.empty();
  }

  /** A listener for the orchestrator: every state change re-reads the routes (coalesced, off its thread). */
  public PreviewListener listener() {
    return new PreviewListener() {
      @Override
      public void onTransition(PreviewKey key, PreviewState state, String message) {
        if (state == PreviewState.DELETED) {
          visits.forget(key);
        }
        refreshSoon();
      }
    };
  }

  /**
   * {@code notifier} with the gateway's URL in every status of a routed preview, and with
   * {@code access.mode: token} a signed link ({@code ?preview_token=..}, valid {@code tokenTtl}) in its URL
   * and links: what the sticky PR comment shows. The token never reaches a log: only the notifier sees it.
   */
  public ScmNotifier notifier(@Nullable ScmNotifier notifier) {
    return notifier == null ? null : new TokenLinkNotifier(notifier, this, tokens, settings.access().tokenTtl(), clock);
  }

  /**
   * {@code provider} as the orchestrator should see it: its environments' last activity includes the
   * visits this gateway saw (also those not yet written back, and on providers that cannot relabel).
   */
  public EnvironmentProvider visitAware(EnvironmentProvider provider) {
    return new VisitAwareEnvironmentProvider(Objects.requireNonNull(provider, "provider"), visits);
  }

  /** Re-reads the routes from the provider now. */
  public void refreshNow() {
    routes.replace(provider.list());
    lastRefreshNanos = System.nanoTime();
  }

  /** Writes the visits seen since the last flush to the environments' labels now; returns how many were written. */
  public int flushVisits() {
    try {
      return visits.flush();
    } catch (RuntimeException e) {
      LOG.warn("gateway: flushing visits failed: {}", e.getMessage());
      return 0;
    }
  }

  /** The last visit of {@code key} this gateway saw, if any. */
  public Optional<java.time.Instant> lastVisit(PreviewKey key) {
    return visits.last(key);
  }

  void refreshSoon() {
    if (refreshQueued.compareAndSet(false, true)) {
      try {
        background.execute(() -> {
          refreshQueued.set(false);
          refreshQuietly();
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        refreshQueued.set(false); // closed
      }
    }
  }

  /** After a miss: at most once a second, so that unknown hosts cannot make it list all the time. */
  boolean refreshAfterMiss() {
    if (System.nanoTime() - lastRefreshNanos < Duration.ofSeconds(1).toNanos()) {
      return false;
    }
    refreshQuietly();
    return true;
  }

  private void refreshQuietly() {
    try {
      refreshNow();
    } catch (RuntimeException e) {
      lastRefreshNanos = System.nanoTime();
      LOG.warn("gateway: could not list the environments of {} (keeping the routes known): {}", provider.name(), e.getMessage());
    }
  }

  @Override
  public synchronized void close() {
    background.shutdownNow();
    flushVisits();
    Server s = http;
    if (s != null) {
      try {
        s.stop();
      } catch (Exception e) {
        LOG.warn("gateway: stop failed: {}", e.getMessage());
      }
    }
    wakes.shutdownNow();
  }

  /** Builds a {@link PreviewGateway}. */
  public static final class Builder {
    private EnvironmentProvider provider;
    private GatewaySettings settings = GatewaySettings.builder().build();
    private Function<PreviewKey, Optional<String>> hostnames = k -> Optional.empty();
    private String healthPath = "/health";
    private String urlScheme = "https";
    private Clock clock = Clock.systemUTC();
    private HealthCheck healthCheck = HealthCheck.http(Duration.ofSeconds(2));
    private MeterRegistry registry;
    private int threads = 32;

    private Builder() {}

    /** The provider whose environments it routes to, resumes and relabels (the raw one, not {@link #visitAware}). */
    public Builder environment(EnvironmentProvider p) { this.provider = Objects.requireNonNull(p, "environment"); return this; }
    public Builder settings(GatewaySettings s) { this.settings = Objects.requireNonNull(s, "settings"); return this; }

    /** The hostname rule ({@code app.hostname}) and the health path of the app; {@code gateway.hostname}/{@code healthPath} win. */
    public Builder app(AppTemplate app) {
      if (app.hostnameTemplate() != null) {
        hostnames = k -> Optional.ofNullable(app.hostname(k));
      }
      healthPath = app.healthPath();
      urlScheme = app.urlScheme();
      return this;
    }

    public Builder hostnames(Function<PreviewKey, Optional<String>> rule) { this.hostnames = Objects.requireNonNull(rule); return this; }
    public Builder healthPath(String path) { this.healthPath = Objects.requireNonNull(path); return this; }
    /** Visits are timestamped with it (a test's {@code MutableClock}); the orchestrator's clock. */
    public Builder clock(Clock c) { this.clock = Objects.requireNonNull(c, "clock"); return this; }
    public Builder healthCheck(HealthCheck h) { this.healthCheck = Objects.requireNonNull(h, "healthCheck"); return this; }
    /** Where its meters go, e.g. {@code PreviewMetrics.registry()} so that {@code /metrics} shows them; none by default. */
    public Builder metrics(MeterRegistry r) { this.registry = r; return this; }
    public Builder threads(int n) { this.threads = n; return this; }

    public PreviewGateway build() {
      if (provider == null) {
        throw new IllegalStateException("PreviewGateway.builder().environment(provider) is required");
      }
      if (threads < 1) {
        throw new IllegalArgumentException("threads: must be at least 1, got " + threads);
      }
      return new PreviewGateway(this);
    }
  }

  /** Whether the routes know {@code key} now (for tests: without a request, which could refresh them on a miss). */
  boolean routed(PreviewKey key) {
    return routes.byKey(key).isPresent();
  }

  Optional<Environment> find(PreviewKey key) {
    return provider.find(key);
  }
}
