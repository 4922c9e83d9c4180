package dev.preview.server.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;

/**
 * The gateway's meters, on the registry of the server's {@code PreviewMetrics} (so {@code /metrics}
 * shows them) or any other. Prometheus names:
 *
 * <ul>
 *   <li>{@code preview_gateway_requests_total{status,outcome}}: every answered request, by status class
 *       ({@code 2xx} ...) and outcome ({@code proxied}, {@code unknown}, {@code denied}, {@code redirected},
 *       {@code waking}, {@code unavailable}, {@code websocket});</li>
 *   <li>{@code preview_gateway_upstream_seconds}: time from sending a request to the preview to its
 *       response headers (histogram);</li>
 *   <li>{@code preview_gateway_wakes_total{outcome}}: wakes started on a visit ({@code ok}, {@code failed});</li>
 *   <li>{@code preview_gateway_wake_seconds}: resume until the health check passed (histogram);</li>
 *   <li>{@code preview_gateway_held}: requests waiting for a wake now (at most {@code wake.maxHeld}).</li>
 * </ul>
 */
final class GatewayMetrics {
  private final MeterRegistry registry;
  private final Timer upstream;
  private final Timer wake;

  /** Shows {@code held} (the requests waiting for a wake) as {@code preview_gateway_held}. */
  void held(java.util.concurrent.atomic.AtomicInteger held) {
    io.micrometer.core.instrument.Gauge.builder("preview.gateway.held", held, java.util.concurrent.atomic.AtomicInteger::get)
        .description("requests waiting for a sleeping preview to wake").register(registry);
  }

  GatewayMetrics(MeterRegistry registry) {
    this.registry = registry == null ? new CompositeMeterRegistry() : registry;
    this.upstream = Timer.builder("preview.gateway.upstream").description("request sent to the preview until its response headers")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
        .register(this.registry);
    this.wake = Timer.builder("preview.gateway.wake").description("resume of a sleeping preview until its health check passed")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(100)).maximumExpectedValue(Duration.ofMinutes(5))
        .register(this.registry);
  }

  void request(int status, String outcome) {
    String key = (status / 100) + "xx " + outcome;
    requests.computeIfAbsent(key, k -> Counter.builder("preview.gateway.requests").description("requests answered by the gateway")
        .tag("status", (status / 100) + "xx").tag("outcome", outcome).register(registry)).increment();
  }

  private final java.util.Map<String, Counter> requests = new java.util.concurrent.ConcurrentHashMap<>();

  void upstream(long nanos) {
    upstream.record(Duration.ofNanos(nanos));
  }

  void wake(boolean ok, long nanos) {
    Counter.builder("preview.gateway.wakes").description("sleeping previews woken by a visit")
        .tag("outcome", ok ? "ok" : "failed").register(registry).increment();
    if (ok) {
      wake.record(Duration.ofNanos(nanos));
    }
  }
}
