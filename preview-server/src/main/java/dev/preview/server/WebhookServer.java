package dev.preview.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives GitHub and GitLab webhooks and hands the verified events to the orchestrator, on Jetty 12
 * (its core {@link Handler} API, no servlets).
 *
 * <ul>
 *   <li>{@code POST /webhooks/<source>} (one per {@link WebhookSource}, e.g. {@code /webhooks/github}):
 *       202 when an event was accepted (the deploy runs asynchronously), 200 for {@code ping} and
 *       ignored events; a CI report (check, workflow run, status, pipeline) is 202 when it moved a
 *       preview waiting for its image on, else 200 with the reason, 401 for a missing or wrong
 *       signature or token, 400 for a malformed body, 413 above the body cap (read no further than
 *       the cap), 408 for a body not received within the request timeout, 405 for other methods.</li>
 *   <li>A delivery id is run at most once at a time and, once its run ended well, never again: a
 *       copy that arrives while the first one runs, or after it succeeded, is answered 200
 *       {@code duplicate}. A redelivery of a failed run runs again.</li>
 *   <li>{@code GET /healthz}: 200 with the number of events in flight and the last reconcile; 503
 *       {@code {"leader":false}} on a replica that does not lead. {@code GET /livez}: always 200
 *       while the process serves. {@code GET /metrics}: Prometheus text, if the {@link PreviewMetrics}
 *       given to {@link Builder#metrics} are backed by a Prometheus registry.</li>
 *   <li>A periodic reconcile, if an interval is set.</li>
 * </ul>
 *
 * <h2>Slow and hostile clients</h2>
 * Request headers are parsed without holding a request thread, and capped ({@link Builder#maxHeaderBytes});
 * bodies are read asynchronously, capped while reading, and must arrive within
 * {@link Builder#requestTimeout}; a connection idle for {@link Builder#idleTimeout} is closed; at most
 * {@link Builder#maxConnections} are open at once (further ones wait in the accept queue). So
 * stalled or trickling senders hold a socket, never a thread, and {@code /livez}, {@code /healthz} and
 * well-behaved deliveries keep being answered.
 *
 * <h2>Leadership</h2>
 * With {@link Builder#leadership(BooleanSupplier, Duration)} several replicas may run behind one
 * address and only the one that leads acts: a replica that does not lead answers webhooks with 503
 * and {@code Retry-After}, without verifying or processing them, and skips its periodic reconcile.
 * Leadership is asked again right before each event is handed over and before each reconcile.
 *
 * <p>Thread-safe; {@link #close()} refuses new connections at once, stops the reconcile, lets the
 * requests in flight finish within {@link Builder#stopTimeout}, then stops Jetty. It does not close
 * the orchestrator, which the caller owns.
 */
public final class WebhookServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** GitHub caps payloads at 25 MB; so do we by default. */
  public static final int DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
  static final int REMEMBERED_DELIVERIES = 10_000;

  private final Server http;
  private final ServerConnector connector;
  private final GracefulHandler graceful;
  /** Connections with a request being handled (its body still arriving, or its delivery being handled). */
  private final Set<EndPoint> busy = ConcurrentHashMap.newKeySet();
  private final long idleTimeoutMs;
  private final ScheduledExecutorService timers;
  private final ScheduledExecutorService reconciler;
  private final Supplier<ReconcileReport> reconcile;
  private final Map<String, WebhookSource> sources;
  private final Function<PullRequestEvent, CompletableFuture<Preview>> handler;
  private final Function<BuildEvent, BuildEventResult> buildHandler;
  private final int maxBodyBytes;
  private final long requestTimeoutMs;
  /** Delivery ids whose run ended well, at most {@link #REMEMBERED_DELIVERIES} (the oldest go first). */
  private final Set<String> delivered = ConcurrentHashMap.newKeySet();
  private final java.util.Queue<String> deliveredOrder = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Delivery ids whose run is in progress: a concurrent copy is a duplicate. */
  private final Map<String, Boolean> running = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicReference<String> lastReconcile = new AtomicReference<>("never");
  private final BooleanSupplier isLeader;
  private final Supplier<java.util.Optional<String>> leaderName;
  private final long retryAfterSeconds;
  private final PreviewMetrics metrics;
  private final OperatorLog log;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final List<Map.Entry<String, Handler>> mounts;
  private final Function<WebhookResult.Command, String> commands;
  private final HandOver handOver;

  private WebhookServer(Builder b) throws IOException {
    this.handOver = new HandOver(b.threads);
    this.mounts = List.copyOf(b.mounts);
    this.commands = b.commands;
    this.sources = Map.copyOf(b.sources);
    this.handler = b.handler;
    this.buildHandler = b.buildHandler;
    this.maxBodyBytes = b.maxBodyBytes;
    this.requestTimeoutMs = b.requestTimeout.toMillis();
    this.isLeader = b.isLeader;
    this.leaderName = b.leaderName;
    this.retryAfterSeconds = Math.max(1, (b.retryAfter.toMillis() + 999) / 1000);
    this.metrics = b.metrics;
    if (metrics != null && b.orchestrator != null) {
      metrics.queueOf(b.orchestrator); // the queue gauge counts the orchestrator's own queue
    }
    this.log = b.log;
    java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, daemon("webhook-timeouts"));
    t.setRemoveOnCancelPolicy(true); // one deadline per request, nearly always cancelled: do not keep them queued
    this.timers = t;

    // Jetty needs a few threads of its own (acceptor, selector) on top of the request threads.
    QueuedThreadPool pool = new QueuedThreadPool(b.threads + 4, Math.min(4, b.threads + 4));
    pool.setName("webhook-http");
    pool.setDaemon(true);
    this.http = new Server(pool);
    HttpConfiguration config = new HttpConfiguration();
    config.setRequestHeaderSize(b.maxHeaderBytes);
    config.setSendServerVersion(false);
    config.setSendXPoweredBy(false);
    config.setIdleTimeout(b.idleTimeout.toMillis());
    if (b.forwardedHeaders) {
      config.addCustomizer(new ForwardedRequestCustomizer());
    }
    this.connector = new ServerConnector(http, 1, 1, new HttpConnectionFactory(config));
    connector.setHost(b.bind);
    connector.setPort(b.port);
    connector.setIdleTimeout(b.idleTimeout.toMillis());
    connector.setAcceptQueueSize(1024);
    http.addConnector(connector);
    http.addBean(new NetworkConnectionLimit(b.maxConnections, connector));
    for (Map.Entry<String, Handler> m : mounts) {
      m.getValue().setServer(http);
      http.addBean(m.getValue());
    }
    this.idleTimeoutMs = b.idleTimeout.toMillis();
    // Jetty's graceful shutdown sets every connection's idle timeout to 1 s, which cuts a request
    // whose body is still arriving, or whose delivery is quiet for a second. close() does it instead,
    // for the idle connections only (see there).
    connector.setShutdownIdleTimeout(-1);
    this.graceful = new Tracking(new Routes());
    http.setHandler(graceful);
    http.setStopTimeout(b.stopTimeout.toMillis());
    http.setStopAtShutdown(false);

    this.reconcile = b.reconcile;
    if (b.reconcile != null && b.reconcileInterval != null && !b.reconcileInterval.isZero()) {
      this.reconciler = Executors.newSingleThreadScheduledExecutor(daemon("preview-reconcile"));
      long ms = b.reconcileInterval.toMillis();
      reconciler.scheduleWithFixedDelay(this::reconcileOnce, ms, ms, TimeUnit.MILLISECONDS);
    } else {
      this.reconciler = null;
    }
    try {
      http.start();
    } catch (Exception e) {
      close();
      if (e instanceof IOException io) {
        throw io;
      }
      throw new IOException("cannot start the HTTP server on " + b.bind + ":" + b.port + ": " + e.getMessage(), e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The port it listens on (the free port chosen when built with port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** {@code http://host:port}. */
  public URI url() {
    String host = connector.getHost() == null || new InetSocketAddress(connector.getHost(), 0).getAddress().isAnyLocalAddress()
        ? "127.0.0.1" : connector.getHost();
    return URI.create("http://" + host + ":" + port());
  }

  /**
   * Runs the periodic reconcile once more, soon, on its own thread (never two at once), if this
   * replica leads then; a no-op when no periodic reconcile is set.
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
    long start = System.nanoTime();
    try {
      ReconcileReport r = reconcile.get();
      lastReconcile.set(Instant.now() + ": " + r.actions().size() + " actions, " + r.errors().size() + " errors"
          + (r.scmUnknown() ? ", SCM unknown for " + r.unknownRepositories() : ""));
      if (metrics != null) {
        metrics.reconciled(r, Duration.ofNanos(System.nanoTime() - start));
      }
      log.reconciled(r, Duration.ofNanos(System.nanoTime() - start));
    } catch (RuntimeException e) {
      lastReconcile.set(Instant.now() + ": failed: " + e.getMessage());
      if (metrics != null) {
        metrics.reconcileFailed();
      }
      LOG.warn("periodic reconcile failed: {}", e.toString());
    }
  }

  // ---------------------------------------------------------------- routing

  /** One answer: status and JSON body, plus headers. */
  private record Answer(int status, ObjectNode body, Map<String, String> headers, String outcome, String key) {
    Answer(int status, ObjectNode body) {
      this(status, body, Map.of(), body.path("status").asText(), null);
    }

    Answer with(String header, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(header, value);
      return new Answer(status, body, h, outcome, key);
    }

    Answer key(String k) {
      return new Answer(status, body, headers, outcome, k);
    }
  }

  private final class Routes extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      String path = Request.getPathInContext(request);
      switch (path) {
        case "/livez" -> send(request, response, callback, get(request, "/livez")
            ? new Answer(200, JSON.createObjectNode().put("status", "ok")) : methodNotAllowed("GET /livez"));
        case "/healthz" -> send(request, response, callback, get(request, "/healthz") ? health() : methodNotAllowed("GET /healthz"));
        case "/metrics" -> metrics(request, response, callback);
        default -> {
          Handler mounted = mounted(path);
          if (path.startsWith("/webhooks/")) {
            webhook(request, response, callback, path.substring("/webhooks/".length()));
          } else if (mounted != null) {
            try {
              return mounted.handle(request, response, callback);
            } catch (Exception e) {
              LOG.warn("{} failed: {}", path, e.toString());
              send(request, response, callback, new Answer(500, body("failed", "the handler of " + path + " failed")));
            }
          } else {
            send(request, response, callback, new Answer(404, body("not_found", "no such endpoint: " + path)));
          }
        }
      }
      return true;
    }
  }

  /** The handler mounted at a prefix of {@code path} ({@code /ui} matches {@code /ui} and {@code /ui/...}), or null. */
  private Handler mounted(String path) {
    for (Map.Entry<String, Handler> m : mounts) {
      String prefix = m.getKey();
      if (path.equals(prefix) || path.startsWith(prefix + "/")) {
        return m.getValue();
      }
    }
    return null;
  }

  private static boolean get(Request request, String what) {
    return request.getMethod().equals("GET") || request.getMethod().equals("HEAD");
  }

  private static Answer methodNotAllowed(String what) {
    return new Answer(405, body("method_not_allowed", what)).with("Allow", "GET, HEAD");
  }

  private Answer health() {
    boolean leader = leads();
    return new Answer(leader ? 200 : 503, JSON.createObjectNode().put("status", leader ? "ok" : "standby").put("leader", leader)
        .put("inFlight", inFlight.get()).put("lastReconcile", lastReconcile.get()));
  }

  private void metrics(Request request, Response response, Callback callback) {
    String text = metrics == null ? null : metrics.scrape();
    if (text == null) {
      send(request, response, callback, new Answer(404, body("not_found",
          "no Prometheus registry: pass WebhookServer.builder().metrics(PreviewMetrics.prometheus())")));
      return;
    }
    if (!get(request, "/metrics")) {
      send(request, response, callback, methodNotAllowed("GET /metrics"));
      return;
    }
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), callback);
  }

  // ---------------------------------------------------------------- webhooks

  private void webhook(Request request, Response response, Callback callback, String name) {
    long start = System.nanoTime();
    String event = eventName(request);
    WebhookSource source = sources.get(name);
    if (source == null) {
      send(request, response, callback, new Answer(404, body("not_found", "no webhook source \"" + name + "\" (configured: " + sources.keySet() + ")")));
      return;
    }
    if (!request.getMethod().equals("POST")) {
      send(request, response, callback, new Answer(405, body("method_not_allowed", "webhooks are POSTed")).with("Allow", "POST"));
      return;
    }
    if (!leads()) {
      finish(request, response, callback, name, event, start, notLeader());
      return;
    }
    long length = request.getLength();
    if (length > maxBodyBytes) {
      finish(request, response, callback, name, event, start, tooLarge());
      return;
    }
    new BodyReader(request, length, start, body -> handOver.run(() -> {
      Answer a;
      try {
        a = handleVerified(request, name, source, body);
      } catch (RuntimeException e) {
        LOG.error("{} webhook failed: {}", name, e.toString());
        a = new Answer(500, body("error", "the delivery could not be handled: " + e.getClass().getSimpleName()));
      }
      finish(request, response, callback, name, event, start, a);
    }), failure -> finish(request, response, callback, name, event, start, failure)).read();
  }

  /**
   * At most {@link Builder#threads} deliveries are verified and handed over at once; the others wait
   * here in arrival order, holding no thread, and are run on the pool as permits free up. So however
   * long the hand-over takes (a CPU-bound verify of many large bodies, an orchestrator that is slow to
   * take an event), Jetty keeps threads of its own for {@code /livez}, {@code /healthz} and
   * {@code /metrics}.
   */
  private final class HandOver {
    private final java.util.concurrent.Semaphore permits;
    private final java.util.Queue<Runnable> waiting = new java.util.concurrent.ConcurrentLinkedQueue<>();

    HandOver(int permits) {
      this.permits = new java.util.concurrent.Semaphore(permits);
    }

    void run(Runnable work) {
      if (waiting.isEmpty() && permits.tryAcquire()) {
        runAndRelease(work);
      } else {
        waiting.add(work);
        drain();
      }
    }

    private void runAndRelease(Runnable work) {
      try {
        work.run();
      } finally {
        permits.release();
        drain();
      }
    }

    /** Starts waiting work while there are permits (also called after each add, so none is stranded). */
    private void drain() {
      while (!waiting.isEmpty() && permits.tryAcquire()) {
        Runnable next = waiting.poll();
        if (next == null) {
          permits.release();
          continue;
        }
        try {
          http.getThreadPool().execute(() -> runAndRelease(next));
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
          runAndRelease(next); // the pool is stopping: answer it here rather than never
        }
      }
    }
  }

  private void finish(Request request, Response response, Callback callback, String source, String event, long start, Answer a) {
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    String delivery = a.body().path("delivery").asText(null);
    log.delivery(source, event, delivery, a.key(), a.outcome(), a.status(), took);
    if (metrics != null) {
      metrics.delivery(source, meteredEvent(event, a.status()), a.outcome(), took);
    }
    send(request, response, callback, a);
  }

  /**
   * Event names the sources know (GitHub's, GitLab's as {@link #eventName} spells them): the only
   * ones a delivery that was not answered 2xx may put in a metric's tag.
   */
  static final Set<String> KNOWN_EVENTS = Set.of("pull_request", "ping", "check_run", "check_suite", "workflow_run",
      "workflow_job", "status", "issue_comment", "push", "merge_request_hook", "pipeline_hook", "job_hook", "note_hook",
      "push_hook", "tag_push_hook", "system_hook", "unknown");

  /**
   * The event as a metric tag: a 2xx answer means the source verified the sender, so its event name
   * is the SCM's; before that the header is anyone's, and an unknown name is counted as {@code other}
   * (one meter per made-up name would grow the registry without bound).
   */
  static String meteredEvent(String event, int status) {
    if (status >= 200 && status < 300 || KNOWN_EVENTS.contains(event)) {
      return event;
    }
    return "other";
  }

  private static String eventName(Request request) {
    String gh = request.getHeaders().get("X-GitHub-Event");
    if (gh != null) {
      return gh;
    }
    String gl = request.getHeaders().get("X-Gitlab-Event");
    return gl == null ? "unknown" : gl.toLowerCase(Locale.ROOT).replace(' ', '_');
  }

  private Answer tooLarge() {
    return new Answer(413, body("too_large", "body above the cap of " + maxBodyBytes + " bytes")).with("Connection", "close");
  }

  /**
   * Reads a body without holding a thread while the sender is slow: chunks are taken as they
   * arrive, the cap is enforced while reading, and the whole body must arrive within the request
   * timeout. Each chunk is copied once, straight into the body's array (sized from
   * {@code Content-Length} when there is one); the deadline is only scheduled when the body has to be
   * waited for, counted from the request's start.
   */
  private final class BodyReader implements Runnable {
    private final Request request;
    private final java.util.function.Consumer<byte[]> done;
    private final java.util.function.Consumer<Answer> failed;
    private final long start;
    private final AtomicBoolean over = new AtomicBoolean();
    private byte[] body;
    private int size;
    private volatile ScheduledFuture<?> deadline;

    BodyReader(Request request, long length, long start, java.util.function.Consumer<byte[]> done,
        java.util.function.Consumer<Answer> failed) {
      this.request = request;
      this.done = done;
      this.failed = failed;
      this.start = start;
      this.body = new byte[length < 0 ? 8192 : (int) Math.min(length, maxBodyBytes)];
    }

    void read() {
      run();
    }

    @Override
    public void run() {
      while (!over.get()) {
        Content.Chunk chunk = request.read();
        if (chunk == null) {
          armDeadline();
          request.demand(this);
          return;
        }
        if (Content.Chunk.isFailure(chunk)) {
          Throwable f = chunk.getFailure();
          boolean timeout = f instanceof java.util.concurrent.TimeoutException;
          end(null, new Answer(timeout ? 408 : 400, body(timeout ? "timeout" : "malformed",
              "the body could not be read: " + f.getClass().getSimpleName())).with("Connection", "close"));
          return;
        }
        ByteBuffer buf = chunk.getByteBuffer();
        int n = buf.remaining();
        if (size + (long) n > maxBodyBytes) {
          chunk.release();
          end(null, tooLarge());
          return;
        }
        if (size + n > body.length) {
          body = java.util.Arrays.copyOf(body, (int) Math.min(maxBodyBytes, Math.max(size + (long) n, 2L * body.length)));
        }
        buf.get(body, size, n);
        size += n;
        boolean last = chunk.isLast();
        chunk.release();
        if (last) {
          end(size == body.length ? body : java.util.Arrays.copyOf(body, size), null);
          return;
        }
      }
    }

    /** Schedules the request timeout once, when the body must be waited for. */
    private void armDeadline() {
      if (deadline != null) {
        return;
      }
      long left = requestTimeoutMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      deadline = timers.schedule(() -> end(null, new Answer(408, body("timeout",
          "the body did not arrive within " + requestTimeoutMs + " ms")).with("Connection", "close")),
          Math.max(0, left), TimeUnit.MILLISECONDS);
      if (over.get()) {
        deadline.cancel(false); // ended while it was being scheduled
      }
    }

    private void end(byte[] body, Answer failure) {
      if (!over.compareAndSet(false, true)) {
        return;
      }
      ScheduledFuture<?> d = deadline;
      if (d != null) {
        d.cancel(false);
      }
      if (failure != null) {
        failed.accept(failure);
      } else {
        done.accept(body);
      }
    }
  }

  private Answer handleVerified(Request request, String name, WebhookSource source, byte[] bytes) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (HttpField f : request.getHeaders()) {
      headers.computeIfAbsent(f.getName(), k -> new ArrayList<>()).add(f.getValue());
    }
    WebhookResult result = source.handle(WebhookRequest.fromMultiValued(headers, bytes));
    if (result instanceof WebhookResult.Accepted a) {
      return accept(name, a.event());
    } else if (result instanceof WebhookResult.Build b) {
      return build(b);
    } else if (result instanceof WebhookResult.Ignored i) {
      return new Answer(200, body("ignored", i.reason()).put("delivery", i.deliveryId()));
    } else if (result instanceof WebhookResult.Command c) {
      return command(c);
    }
    WebhookResult.Rejected r = (WebhookResult.Rejected) result;
    LOG.warn("{} webhook rejected ({}): {}", name, r.httpStatus(), r.message());
    return new Answer(r.httpStatus(), body("rejected", r.message()).put("delivery", r.deliveryId()));
  }

  private Answer accept(String source, PullRequestEvent event) {
    String id = event.deliveryId() == null ? null : source + ":" + event.deliveryId();
    String key = event.key().id();
    if (id != null && (delivered.contains(id) || running.putIfAbsent(id, Boolean.TRUE) != null)) {
      return new Answer(200, body("duplicate", "delivery " + event.deliveryId() + " was already handled or is running")
          .put("delivery", event.deliveryId())).key(key);
    }
    if (!leads()) {
      // lost the lease while the body was read and verified: the new leader must get it instead
      release(id);
      return notLeader();
    }
    CompletableFuture<Preview> run;
    try {
      run = handler.apply(event);
    } catch (RuntimeException e) {
      release(id);
      LOG.error("cannot hand {} of {} to the orchestrator: {}", event.action(), event.key(), e.toString());
      return new Answer(503, body("unavailable", "the orchestrator refused the event: " + e.getMessage())).key(key);
    }
    inFlight.incrementAndGet();
    if (metrics != null) {
      metrics.eventAccepted(event.key());
    }
    run.whenComplete((preview, failure) -> {
      inFlight.decrementAndGet();
      // Only a run that ended well makes a redelivery redundant; a failed one may be retried by redelivering.
      if (failure == null && id != null && preview != null && preview.state() != PreviewState.FAILED) {
        remember(id);
      }
      release(id);
      if (failure != null) {
        LOG.warn("{} of {} failed: {}", event.action(), event.key(), failure.toString());
      }
    });
    return new Answer(202, body("accepted", event.action() + " " + key + " at " + event.headSha())
        .put("delivery", event.deliveryId()).put("key", key).put("action", event.action().name())).key(key);
  }

  /** A {@code /preview} comment command: handed to {@link Builder#commands}, which answers at once and works asynchronously. */
  private Answer command(WebhookResult.Command c) {
    String key = c.command().key().id();
    if (commands == null) {
      return new Answer(200, body("ignored", "PR comment commands are not handled here").put("delivery", c.deliveryId())).key(key);
    }
    try {
      String message = commands.apply(c);
      return new Answer(202, body("accepted", message).put("delivery", c.deliveryId()).put("key", key)
          .put("command", c.command().verb())).key(key);
    } catch (RuntimeException e) {
      LOG.error("cannot hand {} of {} over: {}", c.command().text(), key, e.toString());
      return new Answer(503, body("unavailable", "the command could not be handed over: " + e.getMessage())).key(key);
    }
  }

  /** Remembers a delivery that ran well; no lock shared between the request threads and the workers that call it. */
  private void remember(String id) {
    if (delivered.add(id)) {
      deliveredOrder.add(id);
      while (delivered.size() > REMEMBERED_DELIVERIES) {
        String oldest = deliveredOrder.poll();
        if (oldest == null) {
          break;
        }
        delivered.remove(oldest);
      }
    }
  }

  private void release(String id) {
    if (id != null) {
      running.remove(id);
    }
  }

  /**
   * Hands each CI report to the orchestrator, which matches it against the previews waiting for
   * their image: 202 if one moved a preview on, else 200 "ignored" with every event's reason.
   */
  private Answer build(WebhookResult.Build b) {
    if (buildHandler == null) {
      return new Answer(200, body("ignored", "CI events are not handled here").put("delivery", b.deliveryId()));
    }
    if (!leads()) {
      return notLeader();
    }
    List<String> messages = new ArrayList<>();
    boolean moved = false;
    for (BuildEvent e : b.events()) {
      BuildEventResult r;
      try {
        r = buildHandler.apply(e);
      } catch (RuntimeException failure) {
        LOG.error("cannot hand {} to the orchestrator: {}", e, failure.toString());
        return new Answer(503, body("unavailable", "the orchestrator refused the event: " + failure.getMessage()));
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
    return new Answer(moved ? 202 : 200, body(moved ? "accepted" : "ignored", String.join("; ", messages))
        .put("delivery", b.deliveryId()));
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

  private Answer notLeader() {
    java.util.Optional<String> who;
    try {
      who = leaderName.get();
    } catch (RuntimeException e) {
      who = java.util.Optional.empty();
    }
    return new Answer(503, body("not_leader", "this replica does not lead; " + who.map(w -> "the leader, " + w + ",")
        .orElse("another one") + " handles webhooks").put("leader", false).put("leaderIdentity", who.orElse(null)))
        .with("Retry-After", Long.toString(retryAfterSeconds)).with("Connection", "close");
  }

  private static ObjectNode body(String status, String message) {
    return JSON.createObjectNode().put("status", status).put("message", message);
  }

  private static void send(Request request, Response response, Callback callback, Answer a) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(a.body());
    } catch (IOException e) {
      callback.failed(e);
      return;
    }
    response.setStatus(a.status());
    a.headers().forEach((k, v) -> response.getHeaders().put(k, v));
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), callback);
  }

  /** Events handed over whose run has not ended yet. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Requests being handled now, their bodies included (for tests). */
  long requestsInFlight() {
    return graceful.getCurrentRequestCount();
  }

  /** Open connections now (for tests and operators). */
  public int connections() {
    return connector.getConnectedEndPoints().size();
  }

  /**
   * Stops: new connections are refused at once (the listening socket is closed); connections with
   * no request are closed after {@link #SHUTDOWN_IDLE}; a request in flight (its body still arriving,
   * or its delivery being handled) keeps the usual idle timeout and is answered, with
   * {@code Connection: close}; after {@link Builder#stopTimeout} whatever is left is cut and Jetty
   * stops. Returns when Jetty has stopped. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (reconciler != null) {
      reconciler.shutdownNow();
    }
    try {
      connector.close(); // refuse new connections now, not after the grace period
    } catch (RuntimeException e) {
      LOG.warn("closing the listening socket: {}", e.toString());
    }
    for (EndPoint ep : connector.getConnectedEndPoints()) {
      if (!busy.contains(ep)) {
        ep.setIdleTimeout(SHUTDOWN_IDLE.toMillis());
      }
    }
    try {
      http.stop();
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.warn("requests still in flight after the stop timeout ({} ms) were cut", http.getStopTimeout());
    } catch (Exception e) {
      LOG.warn("stopping the HTTP server: {}", e.toString());
    }
    timers.shutdownNow();
  }

  /** How long a connection with no request stays open once {@link #close()} began. */
  static final Duration SHUTDOWN_IDLE = Duration.ofSeconds(1);

  /** The graceful handler, knowing which connections have a request in flight. */
  private final class Tracking extends GracefulHandler {
    Tracking(Handler handler) {
      super(handler);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      EndPoint ep = request.getConnectionMetaData().getConnection().getEndPoint();
      busy.add(ep);
      if (closed.get()) {
        // answered during the shutdown: the connection ends with it
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
      }
      Callback done = new Callback() {
        @Override
        public void succeeded() {
          ended(ep);
          callback.succeeded();
        }

        @Override
        public void failed(Throwable x) {
          ended(ep);
          callback.failed(x);
        }

        @Override
        public InvocationType getInvocationType() {
          return callback.getInvocationType();
        }
      };
      try {
        return super.handle(request, response, done);
      } catch (Exception | Error e) {
        busy.remove(ep);
        throw e;
      }
    }

    private void ended(EndPoint ep) {
      busy.remove(ep);
      if (closed.get()) {
        ep.setIdleTimeout(SHUTDOWN_IDLE.toMillis());
      }
    }
  }

  /** Options of a {@link WebhookServer}. */
  public static final class Builder {
    private final Map<String, WebhookSource> sources = new LinkedHashMap<>();
    private Function<PullRequestEvent, CompletableFuture<Preview>> handler;
    private Function<BuildEvent, BuildEventResult> buildHandler;
    private Supplier<ReconcileReport> reconcile;
    private Duration reconcileInterval;
    private String bind = "0.0.0.0";
    private int port = 8080;
    private int threads = 16;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private int maxHeaderBytes = 16 * 1024;
    private int maxConnections = 1024;
    private Duration idleTimeout = Duration.ofSeconds(30);
    private Duration requestTimeout = Duration.ofSeconds(20);
    private Duration stopTimeout = Duration.ofSeconds(10);
    private boolean forwardedHeaders;
    private BooleanSupplier isLeader = () -> true;
    private Supplier<java.util.Optional<String>> leaderName = java.util.Optional::empty;
    private Duration retryAfter = Duration.ofSeconds(15);
    private PreviewMetrics metrics;
    private OperatorLog log = OperatorLog.text();
    private final List<Map.Entry<String, Handler>> mounts = new ArrayList<>();
    private Function<WebhookResult.Command, String> commands;

    private Builder() {}

    /**
     * Serves every path under each of {@code prefixes} (e.g. {@code /ui} and {@code /api}: the path
     * itself and everything below it) with {@code handler}, e.g. the dashboard. The webhook, health and
     * metrics paths cannot be taken.
     */
    public Builder mount(Handler handler, List<String> prefixes) {
      Objects.requireNonNull(handler, "handler");
      for (String p : prefixes) {
        if (!p.matches("/[a-z0-9][a-z0-9._-]*") || List.of("/webhooks", "/healthz", "/livez", "/metrics").contains(p)) {
          throw new IllegalArgumentException("cannot mount a handler at " + p + " (one segment such as /ui; not a path the server serves)");
        }
        mounts.add(Map.entry(p, handler));
      }
      return this;
    }

    /**
     * What a verified {@code /preview} PR comment command does: {@code handler} must return at once
     * (the delivery is answered 202 with its message) and carry the command out asynchronously.
     * Without one, commands are answered 200 "ignored".
     */
    public Builder commands(Function<WebhookResult.Command, String> handler) {
      this.commands = Objects.requireNonNull(handler, "handler");
      return this;
    }

    /**
     * PR events go to {@code orchestrator.handle(PullRequestEvent)}, CI reports to
     * {@code orchestrator.handle(BuildEvent)}; the periodic reconcile calls {@code orchestrator.reconcile(false)}.
     */
    private PreviewOrchestrator orchestrator;

    public Builder orchestrator(PreviewOrchestrator orchestrator) {
      Objects.requireNonNull(orchestrator, "orchestrator");
      this.handler = orchestrator::handle;
      this.buildHandler = orchestrator::handle;
      this.reconcile = () -> orchestrator.reconcile(false);
      this.orchestrator = orchestrator;
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

    /** Address to listen on (default {@code 0.0.0.0}; {@code 127.0.0.1} behind a local proxy). */
    public Builder bind(String address) {
      this.bind = Objects.requireNonNull(address);
      return this;
    }

    /**
     * Request threads (default 16): at most this many deliveries are verified and handed over at once,
     * the others wait without a thread; Jetty keeps a few threads beyond these (probes, metrics). Slow
     * senders never hold one: bodies are read asynchronously.
     */
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

    /** The request line and headers together may not exceed this (default 16 KB); larger ones get 431. */
    public Builder maxHeaderBytes(int max) {
      if (max < 1024) {
        throw new IllegalArgumentException("maxHeaderBytes must be at least 1024, got " + max);
      }
      this.maxHeaderBytes = max;
      return this;
    }

    /** Open connections at most (default 1024); further ones wait in the accept queue. */
    public Builder maxConnections(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxConnections must be positive, got " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /** A connection on which nothing arrives for this long is closed (default 30 s), headers included. */
    public Builder idleTimeout(Duration d) {
      this.idleTimeout = positive(d, "idleTimeout");
      return this;
    }

    /** A webhook body must have arrived within this (default 20 s), or it is answered 408 and the connection closed. */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = positive(d, "requestTimeout");
      return this;
    }

    /** Jetty's stop timeout for {@link WebhookServer#close()} (default 10 s). */
    public Builder stopTimeout(Duration d) {
      this.stopTimeout = positive(d, "stopTimeout");
      return this;
    }

    /**
     * Trust {@code Forwarded} / {@code X-Forwarded-*} headers (scheme, host, client address) from a
     * reverse proxy in front (default off: only turn it on when every request comes through the proxy).
     */
    public Builder forwardedHeaders(boolean on) {
      this.forwardedHeaders = on;
      return this;
    }

    /** Records deliveries and reconciles here; serves {@code GET /metrics} if they are Prometheus-backed. */
    public Builder metrics(PreviewMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /** Where the one line per delivery goes (default {@link OperatorLog#text()}). */
    public Builder log(OperatorLog log) {
      this.log = Objects.requireNonNull(log, "log");
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

    /** Who leads when this replica does not (e.g. {@code election::leader}): named in the 503 answer. */
    public Builder leader(Supplier<java.util.Optional<String>> who) {
      this.leaderName = Objects.requireNonNull(who, "who");
      return this;
    }

    /** How often the reconcile runs; null or zero: never. */
    public Builder reconcileInterval(Duration interval) {
      this.reconcileInterval = interval;
      return this;
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }

    /** Starts listening. */
    public WebhookServer start() throws IOException {
      if (handler == null) {
        throw new IllegalStateException("an orchestrator is required");
      }
      if (sources.isEmpty()) {
        throw new IllegalStateException("at least one webhook source is required");
      }
      return new WebhookServer(this);
    }
  }
}
