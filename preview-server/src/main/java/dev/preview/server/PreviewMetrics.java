package dev.preview.server;

import dev.preview.core.PreviewListener;
import dev.preview.core.ReconcileReport;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The metrics of a preview installation, on any Micrometer {@link MeterRegistry}: register it on the
 * orchestrator ({@code PreviewOrchestrator.builder().listener(metrics)}) for states and steps, and on
 * the server ({@code WebhookServer.builder().metrics(metrics)}) for deliveries and reconciles. With a
 * {@link PrometheusMeterRegistry} ({@link #prometheus()}) the server answers {@code GET /metrics}.
 *
 * <table>
 *   <caption>Meters (Prometheus names in brackets)</caption>
 *   <tr><td>{@code preview.webhook.deliveries} [{@code preview_webhook_deliveries_total}]</td><td>counter by {@code provider}, {@code event} (a name no source knows is {@code other} unless the delivery was answered 2xx), {@code outcome} (accepted, duplicate, ignored, rejected, too_large, timeout, not_leader, ...)</td></tr>
 *   <tr><td>{@code preview.webhook.ack} [{@code preview_webhook_ack_seconds}]</td><td>time from the request's arrival to its answer, histogram, by {@code provider}</td></tr>
 *   <tr><td>{@code preview.time.to.ready} [{@code preview_time_to_ready_seconds}]</td><td>time from the first accepted event of a PR (since it was last READY) to READY, histogram: "PR opened to live environment"</td></tr>
 *   <tr><td>{@code preview.step.duration} [{@code preview_step_duration_seconds}]</td><td>by {@code step} and {@code outcome} (ok, failed)</td></tr>
 *   <tr><td>{@code preview.previews} [{@code preview_previews}]</td><td>gauge by {@code state}, as seen by this process since it started</td></tr>
 *   <tr><td>{@code preview.queue.length} [{@code preview_queue_length}]</td><td>previews PENDING now (waiting for a maxConcurrent slot or the policy)</td></tr>
 *   <tr><td>{@code preview.reconcile.runs} / {@code preview.reconcile.actions}</td><td>by {@code outcome}; by {@code kind}</td></tr>
 *   <tr><td>{@code preview.reclaimed}</td><td>resources reclaimed by reconcile (orphans, expired, leftovers)</td></tr>
 *   <tr><td>{@code preview.status.publish} [{@code preview_status_publish_total}]</td><td>attempts to publish a PR status, by {@code outcome}: {@code published}, {@code retried} (failed, tried again: the retry count), {@code dropped} (failed, given up until the next reconcile)</td></tr>
 *   <tr><td>{@code preview.status.retrying} [{@code preview_status_retrying}]</td><td>PRs whose last status attempt failed and is being retried now</td></tr>
 *   <tr><td>{@code preview.scm.calls} / {@code preview.scm.rate.remaining}</td><td>SCM API calls by {@code provider} and {@code status}; the last remaining rate budget by {@code provider}</td></tr>
 * </table>
 *
 * <p>Thread-safe; listener methods return quickly and never throw.
 */
public final class PreviewMetrics implements PreviewListener, AutoCloseable {
  private final MeterRegistry registry;
  private final Map<PreviewKey, PreviewState> states = new ConcurrentHashMap<>();
  private final Map<PreviewKey, Long> waitingSince = new ConcurrentHashMap<>();
  private final Map<String, java.util.concurrent.atomic.AtomicLong> rateRemaining = new ConcurrentHashMap<>();
  private final Timer timeToReady;
  private final Map<PreviewListener.StatusOutcome, Counter> statusPublishes = new java.util.EnumMap<>(PreviewListener.StatusOutcome.class);
  private final java.util.Set<PreviewKey> retrying = ConcurrentHashMap.newKeySet();
  private final AutoCloseable scmCalls;

  private PreviewMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.scmCalls = dev.preview.scm.ScmApiCalls.listen(this::scmCall);
    for (PreviewState s : PreviewState.values()) {
      Gauge.builder("preview.previews", states, m -> m.values().stream().filter(v -> v == s).count())
          .description("previews by state").tag("state", s.name().toLowerCase(java.util.Locale.ROOT)).register(registry);
    }
    Gauge.builder("preview.queue.length", this, PreviewMetrics::queueLength)
        .description("PRs waiting for a maxConcurrent slot (the orchestrator's queue, once known; else previews PENDING)")
        .register(registry);
    for (PreviewListener.StatusOutcome o : PreviewListener.StatusOutcome.values()) {
      statusPublishes.put(o, Counter.builder("preview.status.publish").description("attempts to publish a PR status")
          .tag("outcome", o.name().toLowerCase(java.util.Locale.ROOT)).register(registry));
    }
    Gauge.builder("preview.status.retrying", retrying, java.util.Set::size)
        .description("PRs whose status is being retried after a failed attempt").register(registry);
    this.timeToReady = Timer.builder("preview.time.to.ready").description("first accepted event of a PR to READY")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofSeconds(1)).maximumExpectedValue(Duration.ofHours(1))
        .register(registry);
  }

  private volatile java.util.function.Supplier<Integer> queue;

  /**
   * Counts the queue from {@code orchestrator}'s own ({@link dev.preview.core.PreviewOrchestrator#queued()}:
   * PRs waiting for a {@code maxConcurrent} slot, rebuilt by reconcile after a restart) instead of the
   * previews last seen PENDING. {@link WebhookServer} calls it with its orchestrator.
   */
  public PreviewMetrics queueOf(dev.preview.core.PreviewOrchestrator orchestrator) {
    Objects.requireNonNull(orchestrator, "orchestrator");
    this.queue = () -> orchestrator.queued().size();
    return this;
  }

  private double queueLength() {
    java.util.function.Supplier<Integer> q = queue;
    return q != null ? q.get() : states.values().stream().filter(v -> v == PreviewState.PENDING).count();
  }

  /** Metrics on the embedder's registry (no {@code /metrics} endpoint unless it is a Prometheus one). */
  public static PreviewMetrics create(MeterRegistry registry) {
    return new PreviewMetrics(Objects.requireNonNull(registry, "registry"));
  }

  /** Metrics on a new Prometheus registry: the server then answers {@code GET /metrics}. */
  public static PreviewMetrics prometheus() {
    return new PreviewMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Stops counting SCM API calls (they are observed JVM-wide); the registry stays the caller's. */
  @Override
  public void close() {
    try {
      scmCalls.close();
    } catch (Exception e) {
      // cannot fail
    }
  }

  /** The Prometheus text exposition, or null if the registry is not a Prometheus one. */
  String scrape() {
    return registry instanceof PrometheusMeterRegistry p ? p.scrape() : null;
  }

  // ------------------------------------------------------------ server side

  /** The delivery meters already registered, by provider, event and outcome: one lookup per delivery, no builders. */
  private final Map<String, Counter> deliveries = new ConcurrentHashMap<>();
  private final Map<String, Timer> acks = new ConcurrentHashMap<>();

  void delivery(String provider, String event, String outcome, Duration ack) {
    String e = event == null ? "unknown" : event;
    deliveries.computeIfAbsent(provider + '\n' + e + '\n' + outcome, k -> Counter.builder("preview.webhook.deliveries")
        .description("webhook deliveries").tag("provider", provider).tag("event", e).tag("outcome", outcome)
        .register(registry)).increment();
    acks.computeIfAbsent(provider, p -> Timer.builder("preview.webhook.ack").description("time to answer a webhook delivery")
        .tag("provider", p).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10)).register(registry)).record(ack);
  }

  /** An event for {@code key} was accepted: the time to READY starts now unless it already runs. */
  void eventAccepted(PreviewKey key) {
    waitingSince.putIfAbsent(key, System.nanoTime());
  }

  void reconciled(ReconcileReport r, Duration took) {
    registry.counter("preview.reconcile.runs", "outcome", r.errors().isEmpty() ? "ok" : "errors").increment();
    for (ReconcileReport.Action a : r.actions()) {
      registry.counter("preview.reconcile.actions", "kind", a.kind().name().toLowerCase(java.util.Locale.ROOT),
          "done", Boolean.toString(a.done())).increment();
    }
  }

  void reconcileFailed() {
    registry.counter("preview.reconcile.runs", "outcome", "failed").increment();
  }

  /** One SCM API call answered {@code status} (-1: no answer); {@code remaining} is the rate budget left, or -1 if unknown. */
  public void scmCall(String provider, int status, long remaining) {
    registry.counter("preview.scm.calls", "provider", provider, "status", status < 0 ? "io_error" : Integer.toString(status)).increment();
    if (remaining >= 0) {
      rateRemaining.computeIfAbsent(provider, p -> {
        java.util.concurrent.atomic.AtomicLong v = new java.util.concurrent.atomic.AtomicLong();
        Gauge.builder("preview.scm.rate.remaining", v, java.util.concurrent.atomic.AtomicLong::get)
            .description("the SCM API rate budget left, as last answered").tag("provider", p).register(registry);
        return v;
      }).set(remaining);
    }
  }

  // ------------------------------------------------------------ orchestrator side

  @Override
  public void onTransition(PreviewKey key, PreviewState state, String message) {
    if (state == PreviewState.DELETED) {
      states.remove(key);
      waitingSince.remove(key);
      return;
    }
    states.put(key, state);
    if (state == PreviewState.READY) {
      Long since = waitingSince.remove(key);
      if (since != null) {
        timeToReady.record(Duration.ofNanos(System.nanoTime() - since));
      }
    } else if (state == PreviewState.FAILED || state == PreviewState.SLEEPING) {
      waitingSince.remove(key);
    } else if (state == PreviewState.PENDING || state == PreviewState.PROVISIONING) {
      waitingSince.putIfAbsent(key, System.nanoTime());
    }
  }

  @Override
  public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
    Timer.builder("preview.step.duration").description("deploy and teardown steps")
        .tag("step", step).tag("outcome", failure == null ? "ok" : "failed").register(registry).record(took);
  }

  @Override
  public void onStatusPublish(PreviewKey key, PreviewState state, PreviewListener.StatusOutcome outcome) {
    statusPublishes.get(outcome).increment();
    if (outcome == PreviewListener.StatusOutcome.RETRIED) {
      retrying.add(key);
    } else {
      retrying.remove(key);
    }
  }

  @Override
  public void onReclaimed(PreviewKey key, String what, String reason) {
    registry.counter("preview.reclaimed").increment(); // what names the key: too many values for a tag
  }
}
