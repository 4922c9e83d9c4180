package dev.preview.server;

// The webhook server as it was before Jetty (git show 1b7aa81:preview-server/src/main/java/dev/preview/server/WebhookServer.java),
// kept only as the baseline of WebhookServerBenchmark. Not used anywhere else.

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.preview.core.BuildEventResult;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.WebhookSource;
import dev.preview.spi.BuildEvent;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequestEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives GitHub and GitLab webhooks and hands the verified events to the orchestrator, on the
 * JDK's built-in HTTP server (no web framework).
 *
 * <ul>
 *   <li>{@code POST /webhooks/<source>} (one per {@link WebhookSource}, e.g. {@code /webhooks/github}):
 *       202 when an event was accepted (the deploy runs asynchronously), 200 for {@code ping} and
 *       ignored events; a CI report (check, workflow run, status, pipeline) is 202 when it moved a
 *       preview waiting for its image on, else 200 with the reason, 401 for a missing or wrong signature or token, 400 for a malformed body,
 *       413 above the body cap (read no further than the cap), 405 for other methods.</li>
 *   <li>A redelivered event (same delivery id) that already succeeded is answered 200 and not run
 *       again. Ids are remembered only after the run ended well, so a redelivery of a failed
 *       delivery runs again.</li>
 *   <li>{@code GET /healthz}: 200 with the number of events in flight and the last reconcile; 503
 *       {@code {"leader":false}} on a replica that does not lead (a readiness probe on it keeps the
 *       traffic on the leader). {@code GET /livez}: always 200 while the process serves (for a
 *       liveness probe, which must not restart a healthy standby).</li>
 *   <li>A periodic reconcile, if an interval is set.</li>
 * </ul>
 *
 * <h2>Leadership</h2>
 * With {@link Builder#leadership(BooleanSupplier, Duration)} several replicas may run behind one
 * address and only the one that leads acts: a replica that does not lead answers webhooks with 503
 * and {@code Retry-After}, without verifying or processing them, and skips its periodic reconcile.
 * Leadership is asked again right before each event is handed over and before each reconcile, so a
 * replica that loses it stops acting at once; work it handed over earlier finishes in the
 * orchestrator. (A Kubernetes Lease leaves {@code leaseDuration - renewDeadline} between the moment
 * a leader gives up and the moment another may start, which covers that window.)
 * 
 * Thread-safe; {@link #close()} stops accepting, stops the reconcile and waits briefly for the
 * request threads. It does not close the orchestrator, which the caller owns.
 */
final class JdkWebhookServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JdkWebhookServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** GitHub caps payloads at 25 MB; so do we by default. */
  public static final int DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
  static final int REMEMBERED_DELIVERIES = 10_000;

  static {
    // The JDK server leaves Nagle on by default, which can hold a small response back for a
    // delayed ACK (~40 ms); webhook senders time out, so answer at once. Read once, at class init.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer http;
  private final ExecutorService requestThreads;
  private final ScheduledExecutorService reconciler;
  private final Supplier<ReconcileReport> reconcile;
  private final Map<String, WebhookSource> sources;
  private final Function<PullRequestEvent, CompletableFuture<Preview>> handler;
  private final Function<BuildEvent, BuildEventResult> buildHandler;
  private final int maxBodyBytes;
  private final Map<String, Boolean> delivered;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicReference<String> lastReconcile = new AtomicReference<>("never");
  private final BooleanSupplier isLeader;
  private final long retryAfterSeconds;

  private JdkWebhookServer(Builder b) throws IOException {
    this.sources = Map.copyOf(b.sources);
    this.handler = b.handler;
    this.buildHandler = b.buildHandler;
    this.maxBodyBytes = b.maxBodyBytes;
    this.isLeader = b.isLeader;
    this.retryAfterSeconds = Math.max(1, (b.retryAfter.toMillis() + 999) / 1000);
    this.delivered = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, false) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > REMEMBERED_DELIVERIES;
      }
    });
    this.http = HttpServer.create(new InetSocketAddress(b.bind, b.port), 1024);
    AtomicInteger n = new AtomicInteger();
    this.requestThreads = Executors.newFixedThreadPool(b.threads, r -> {
      Thread t = new Thread(r, "webhook-http-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(requestThreads);
    http.createContext("/webhooks/", this::webhook);
    http.createContext("/healthz", this::health);
    http.createContext("/livez", this::live);
    http.createContext("/", ex -> respond(ex, 404, body("not_found", "no such endpoint: " + ex.getRequestURI().getPath())));
    this.reconcile = b.reconcile;
    if (b.reconcile != null && b.reconcileInterval != null && !b.reconcileInterval.isZero()) {
      this.reconciler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "preview-reconcile");
        t.setDaemon(true);
        return t;
      });
      long ms = b.reconcileInterval.toMillis();
      reconciler.scheduleWithFixedDelay(this::reconcileOnce, ms, ms, TimeUnit.MILLISECONDS);
    } else {
      this.reconciler = null;
    }
    http.start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The port it listens on (the free port chosen when built with port 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  /** {@code http://host:port}. */
  public URI url() {
    String host = http.getAddress().getAddress().isAnyLocalAddress() ? "127.0.0.1" : http.getAddress().getHostString();
    return URI.create("http://" + host + ":" + port());
  }

  /**
   * Runs the periodic reconcile once more, soon, on its own thread (never two at once), if this
   * replica leads then; a no-op when no periodic reconcile is set. Meant for a replica that has just
   * started leading: it repairs what happened while no replica acted (webhooks refused during the
   * handover).
   */
  public void reconcileSoon() {
    if (reconciler != null) {
      try {
        reconciler.execute(this::reconcileOnce);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closed: nothing to do
      }
    }
  }

  private void reconcileOnce() {
    if (!leads()) {
      return;
    }
    try {
      ReconcileReport r = reconcile.get();
      lastReconcile.set(Instant.now() + ": " + r.actions().size() + " actions, " + r.errors().size() + " errors"
          + (r.scmUnknown() ? ", SCM unknown for " + r.unknownRepositories() : ""));
    } catch (RuntimeException e) {
      lastReconcile.set(Instant.now() + ": failed: " + e.getMessage());
      LOG.warn("periodic reconcile failed: {}", e.toString());
    }
  }

  private void webhook(HttpExchange ex) throws IOException {
    try (ex) {
      String name = ex.getRequestURI().getPath().substring("/webhooks/".length());
      WebhookSource source = sources.get(name);
      if (source == null) {
        respond(ex, 404, body("not_found", "no webhook source \"" + name + "\" (configured: " + sources.keySet() + ")"));
        return;
      }
      if (!ex.getRequestMethod().equals("POST")) {
        ex.getResponseHeaders().set("Allow", "POST");
        respond(ex, 405, body("method_not_allowed", "webhooks are POSTed"));
        return;
      }
      if (!leads()) {
        notLeader(ex);
        return;
      }
      byte[] bytes = readCapped(ex);
      if (bytes == null) {
        ex.getResponseHeaders().set("Connection", "close");
        respond(ex, 413, body("too_large", "body above the cap of " + maxBodyBytes + " bytes"));
        return;
      }
      WebhookResult result = source.handle(WebhookRequest.fromMultiValued(ex.getRequestHeaders(), bytes));
      if (result instanceof WebhookResult.Accepted a) {
        accept(ex, name, a.event());
      } else if (result instanceof WebhookResult.Build b) {
        build(ex, name, b);
      } else if (result instanceof WebhookResult.Ignored i) {
        respond(ex, 200, body("ignored", i.reason()).put("delivery", i.deliveryId()));
      } else if (result instanceof WebhookResult.Rejected r) {
        LOG.warn("{} webhook rejected ({}): {}", name, r.httpStatus(), r.message());
        respond(ex, r.httpStatus(), body("rejected", r.message()).put("delivery", r.deliveryId()));
      }
    }
  }

  private void accept(HttpExchange ex, String source, PullRequestEvent event) throws IOException {
    String id = event.deliveryId() == null ? null : source + ":" + event.deliveryId();
    if (id != null && delivered.containsKey(id)) {
      respond(ex, 200, body("duplicate", "delivery " + event.deliveryId() + " was already handled").put("delivery", event.deliveryId()));
      return;
    }
    if (!leads()) {
      // lost the lease while the body was read and verified: the new leader must get it instead
      notLeader(ex);
      return;
    }
    CompletableFuture<Preview> run;
    try {
      run = handler.apply(event);
    } catch (RuntimeException e) {
      LOG.error("cannot hand {} of {} to the orchestrator: {}", event.action(), event.key(), e.toString());
      respond(ex, 503, body("unavailable", "the orchestrator refused the event: " + e.getMessage()));
      return;
    }
    inFlight.incrementAndGet();
    run.whenComplete((preview, failure) -> {
      inFlight.decrementAndGet();
      // Only a run that ended well makes a redelivery redundant; a failed one may be retried by redelivering.
      if (failure == null && id != null && preview != null && preview.state() != PreviewState.FAILED) {
        delivered.put(id, Boolean.TRUE);
      }
      if (failure != null) {
        LOG.warn("{} of {} failed: {}", event.action(), event.key(), failure.toString());
      }
    });
    respond(ex, 202, body("accepted", event.action() + " " + event.key().id() + " at " + event.headSha())
        .put("delivery", event.deliveryId()).put("key", event.key().id()).put("action", event.action().name()));
  }

  /**
   * Hands each CI report to the orchestrator, which matches it against the previews waiting for
   * their image: 202 if one moved a preview on, else 200 "ignored" with every event's reason.
   */
  private void build(HttpExchange ex, String source, WebhookResult.Build b) throws IOException {
    if (buildHandler == null) {
      respond(ex, 200, body("ignored", "CI events are not handled here").put("delivery", b.deliveryId()));
      return;
    }
    if (!leads()) {
      notLeader(ex);
      return;
    }
    List<String> messages = new ArrayList<>();
    boolean moved = false;
    for (BuildEvent e : b.events()) {
      BuildEventResult r;
      try {
        r = buildHandler.apply(e);
      } catch (RuntimeException failure) {
        LOG.error("cannot hand {} to the orchestrator: {}", e, failure.toString());
        respond(ex, 503, body("unavailable", "the orchestrator refused the event: " + failure.getMessage()));
        return;
      }
      moved |= !r.ignored();
      messages.add(r.message());
      r.runs().forEach((key, run) -> {
        inFlight.incrementAndGet();
        run.whenComplete((preview, failure) -> {
          inFlight.decrementAndGet();
          if (failure != null) {
            LOG.warn("{} of {} failed: {}", e, key, failure.toString());
          }
        });
      });
    }
    respond(ex, moved ? 202 : 200, body(moved ? "accepted" : "ignored", String.join("; ", messages))
        .put("delivery", b.deliveryId()));
  }

  /** The body, or null if it is larger than the cap (stops reading there). */
  private byte[] readCapped(HttpExchange ex) throws IOException {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > maxBodyBytes) {
          return null;
        }
      } catch (NumberFormatException e) {
        // let the read below decide
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(length == null ? 8192 : (int) Math.min(maxBodyBytes, Math.max(0, parse(length))));
      byte[] buf = new byte[16 * 1024];
      int total = 0;
      for (int r; (r = in.read(buf)) > 0; ) {
        total += r;
        if (total > maxBodyBytes) {
          return null;
        }
        out.write(buf, 0, r);
      }
      return out.toByteArray();
    }
  }

  private static long parse(String n) {
    try {
      return Long.parseLong(n.trim());
    } catch (NumberFormatException e) {
      return 8192;
    }
  }

  private void health(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
        respond(ex, 405, body("method_not_allowed", "GET /healthz"));
        return;
      }
      boolean leader = leads();
      respond(ex, leader ? 200 : 503, JSON.createObjectNode().put("status", leader ? "ok" : "standby").put("leader", leader)
          .put("inFlight", inFlight.get()).put("lastReconcile", lastReconcile.get()));
    }
  }

  private void live(HttpExchange ex) throws IOException {
    try (ex) {
      respond(ex, 200, JSON.createObjectNode().put("status", "ok"));
    }
  }

  /** Whether this replica may act now; a failing leadership check counts as "no" (never act twice). */
  private boolean leads() {
    try {
      return isLeader.getAsBoolean();
    } catch (RuntimeException e) {
      LOG.warn("leadership check failed, not acting: {}", e.toString());
      return false;
    }
  }

  private void notLeader(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Retry-After", Long.toString(retryAfterSeconds));
    ex.getResponseHeaders().set("Connection", "close");
    respond(ex, 503, body("not_leader", "this replica does not lead; another one handles webhooks").put("leader", false));
  }

  private static ObjectNode body(String status, String message) {
    return JSON.createObjectNode().put("status", status).put("message", message);
  }

  private static void respond(HttpExchange ex, int code, ObjectNode json) throws IOException {
    byte[] bytes = JSON.writeValueAsString(json).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(code, -1);
      return;
    }
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Events handed over whose run has not ended yet. */
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public void close() {
    if (reconciler != null) {
      reconciler.shutdownNow();
    }
    http.stop(0);
    requestThreads.shutdown();
    try {
      requestThreads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Options of a {@link JdkWebhookServer}. */
  public static final class Builder {
    private final Map<String, WebhookSource> sources = new LinkedHashMap<>();
    private Function<PullRequestEvent, CompletableFuture<Preview>> handler;
    private Function<BuildEvent, BuildEventResult> buildHandler;
    private Supplier<ReconcileReport> reconcile;
    private Duration reconcileInterval;
    private String bind = "0.0.0.0";
    private int port = 8080;
    private int threads = 8;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private BooleanSupplier isLeader = () -> true;
    private Duration retryAfter = Duration.ofSeconds(15);

    private Builder() {}

    /**
     * PR events go to {@code orchestrator.handle(PullRequestEvent)}, CI reports to
     * {@code orchestrator.handle(BuildEvent)}; the periodic reconcile calls {@code orchestrator.reconcile(false)}.
     */
    public Builder orchestrator(PreviewOrchestrator orchestrator) {
      Objects.requireNonNull(orchestrator, "orchestrator");
      this.handler = orchestrator::handle;
      this.buildHandler = orchestrator::handle;
      this.reconcile = () -> orchestrator.reconcile(false);
      return this;
    }

    /** Test seam: what an accepted event and a reconcile tick do (the orchestrator, wrapped to count calls). */
    Builder actions(Function<PullRequestEvent, CompletableFuture<Preview>> handler, Supplier<ReconcileReport> reconcile) {
      this.handler = Objects.requireNonNull(handler);
      this.reconcile = Objects.requireNonNull(reconcile);
      return this;
    }

    /** Serves {@code POST /webhooks/<source.name()>}. */
    public Builder source(WebhookSource source) {
      sources.put(source.name(), source);
      return this;
    }

    /** Port to listen on; 0 picks a free one (see {@link WebhookServer#port()}). Default 8080. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0-65535, got " + port);
      }
      this.port = port;
      return this;
    }

    public Builder bind(String address) {
      this.bind = Objects.requireNonNull(address);
      return this;
    }

    public Builder threads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("threads must be >= 1");
      }
      this.threads = n;
      return this;
    }

    /** Bodies above this are answered 413 without reading further. Default 25 MB. */
    public Builder maxBodyBytes(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxBodyBytes must be positive");
      }
      this.maxBodyBytes = max;
      return this;
    }

    /**
     * Acts only while {@code isLeader} answers true (e.g. {@code election::isLeader} of a
     * {@code dev.preview.k8s.LeaderElection}); otherwise webhooks get 503 with {@code Retry-After:
     * retryAfter} (rounded up to seconds), {@code /healthz} 503, and the periodic reconcile is
     * skipped. {@code isLeader} is called on every request and reconcile tick: it must be cheap and
     * thread-safe. Default: always leads (a single replica).
     */
    public Builder leadership(BooleanSupplier isLeader, Duration retryAfter) {
      this.isLeader = Objects.requireNonNull(isLeader, "isLeader");
      if (retryAfter.isNegative() || retryAfter.isZero()) {
        throw new IllegalArgumentException("retryAfter must be positive, got " + retryAfter);
      }
      this.retryAfter = retryAfter;
      return this;
    }

    /** How often the reconcile runs; null or zero: never. */
    public Builder reconcileInterval(Duration interval) {
      this.reconcileInterval = interval;
      return this;
    }

    /** Starts listening. */
    public JdkWebhookServer start() throws IOException {
      if (handler == null) {
        throw new IllegalStateException("an orchestrator is required");
      }
      if (sources.isEmpty()) {
        throw new IllegalStateException("at least one webhook source is required");
      }
      return new JdkWebhookServer(this);
    }
  }
}
