package dev.preview.spi;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What an {@link ScmNotifier} publishes: the one sticky status of a preview. Never holds a secret.
 *
 * @param key the preview
 * @param state its state
 * @param revision the revision the status is about (may be null before the first deploy)
 * @param url where it is reachable (null unless READY)
 * @param links extra named links, e.g. {@code docs -> https://pr-42.example.com/docs}
 * @param message a human sentence: why PENDING, why FAILED, why DELETED
 * @param failedStep the step that failed (null unless FAILED)
 * @param logTail the last log lines of the app (empty unless FAILED)
 * @param steps how long each step of the last run took, in order
 * @param updatedAt when this status was produced
 * @param database what database the preview has, e.g. {@code postgres pv_shop_pr_42_...} (null if none)
 * @param changes what this preview changes against the main line, one short line each (migrations the
 *     PR adds, flags that differ from the defaults, env and secret names added or withheld, the image):
 *     only what is known, empty when nothing differs or nothing is known
 * @param lastCommand the answer to the last PR comment command, one line (e.g. {@code @ana: extended
 *     to 2026-12-04T10:00Z}), or null
 */
public record PreviewStatus(
    PreviewKey key,
    PreviewState state,
    @Nullable String revision,
    @Nullable URI url,
    Map<String, URI> links,
    String message,
    @Nullable String failedStep,
    List<String> logTail,
    Map<String, Duration> steps,
    Instant updatedAt,
    @Nullable String database,
    List<String> changes,
    @Nullable String lastCommand) {

  public PreviewStatus {
    changes = changes == null ? List.of() : List.copyOf(changes);
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(updatedAt, "updatedAt");
    links = links == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(links));
    logTail = logTail == null ? List.of() : List.copyOf(logTail);
    steps = steps == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(steps));
    message = message == null ? "" : message;
  }

  /** A status without database information. */
  public PreviewStatus(PreviewKey key, PreviewState state, String revision, URI url, Map<String, URI> links,
      String message, String failedStep, List<String> logTail, Map<String, Duration> steps, Instant updatedAt) {
    this(key, state, revision, url, links, message, failedStep, logTail, steps, updatedAt, null);
  }

  /** A status without a change summary and without a command answer. */
  public PreviewStatus(PreviewKey key, PreviewState state, String revision, URI url, Map<String, URI> links,
      String message, String failedStep, List<String> logTail, Map<String, Duration> steps, Instant updatedAt,
      String database) {
    this(key, state, revision, url, links, message, failedStep, logTail, steps, updatedAt, database, List.of(), null);
  }

  /** This status with another change summary. */
  public PreviewStatus withChanges(List<String> newChanges) {
    return new PreviewStatus(key, state, revision, url, links, message, failedStep, logTail, steps, updatedAt, database,
        newChanges, lastCommand);
  }

  /** This status with another answer to the last PR comment command (null: none). */
  public PreviewStatus withLastCommand(@Nullable String answer) {
    return new PreviewStatus(key, state, revision, url, links, message, failedStep, logTail, steps, updatedAt, database,
        changes, answer);
  }

  /** This status as produced at {@code at}. */
  public PreviewStatus withUpdatedAt(Instant at) {
    return new PreviewStatus(key, state, revision, url, links, message, failedStep, logTail, steps, at, database,
        changes, lastCommand);
  }

  /** The hidden marker a notifier puts in its comment to find it again (one sticky comment per PR). */
  public String marker() {
    return "<!-- preview.dev:" + key.id() + " -->";
  }
}
