package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the orchestrator reports about one preview.
 *
 * @param key the preview
 * @param state its state after the run that produced this report
 * @param revision the revision deployed (or being deployed); null if none
 * @param url its public URL when READY, else null
 * @param database the name of its database, or null
 * @param message why it is in this state (policy reason, failure reason, teardown reason)
 * @param failedStep the step that failed, or null
 * @param timings how long each step took, in order
 * @param lastActivity the last push (or visit) known, or null
 * @param expires when its TTL runs out, or null
 */
public record Preview(
    PreviewKey key,
    PreviewState state,
    String revision,
    URI url,
    String database,
    String message,
    String failedStep,
    Map<String, Duration> timings,
    Instant lastActivity,
    Instant expires) {

  public Preview {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
    message = message == null ? "" : message;
    timings = timings == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(timings));
  }

  static Preview of(PreviewKey key, PreviewState state, String revision, String message) {
    return new Preview(key, state, revision, null, null, message, null, Map.of(), null, null);
  }

  /** Total time of all steps. */
  public Duration totalTime() {
    return timings.values().stream().reduce(Duration.ZERO, Duration::plus);
  }
}
