package dev.preview.spi;

import java.net.URI;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One environment as its provider observes it on the infrastructure (never from memory).
 *
 * @param key the preview it belongs to
 * @param revision the revision it runs (from its labels)
 * @param url where the app answers, or null if it has no address (yet)
 * @param phase what the infrastructure says about it
 * @param labels every ownership and lifecycle label found on it (see {@link Labels})
 */
public record Environment(PreviewKey key, String revision, @Nullable URI url, Phase phase, Map<String, String> labels) {

  /** What the infrastructure reports. */
  public enum Phase {
    /** Created, not running yet (or half-created: a reconcile repairs it). */
    STARTING,
    RUNNING,
    /** Scaled to zero. */
    SUSPENDED,
    /** Exited or crashed. */
    FAILED
  }

  public Environment {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(phase, "phase");
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  public Optional<Instant> created() {
    return Labels.instant(labels, Labels.CREATED);
  }

  public Optional<Instant> expires() {
    return Labels.instant(labels, Labels.EXPIRES);
  }

  public Optional<Instant> lastActivity() {
    return Labels.instant(labels, Labels.LAST_ACTIVITY);
  }
}
