package dev.preview.server.ui;

import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One preview as the dashboard, {@code GET /api/previews} and {@code preview list -o json} show it:
 * what the infrastructure holds (state, revision, URL, deadlines, pin), plus what this server saw
 * of its last run where it knows it (the failed step and reason, step timings, database, change
 * summary, last push). Unknown values are null (or empty); nothing here is a secret.
 *
 * @param key the preview
 * @param state as observed ({@code SLEEPING} when scaled to zero)
 * @param revision the deployed commit
 * @param url its public URL (or the app's own address)
 * @param links the app's extra links
 * @param pullRequest a link to the PR in the SCM, or null
 * @param created when it was first deployed
 * @param expires when its TTL runs out
 * @param lastActivity the last push or visit (its {@code last-activity} label)
 * @param lastPush the last deploy of a new revision (its {@code last-push} label, else as this server saw it), or null
 * @param lastVisit the last visit through the gateway (its {@code last-visit} label, or the gateway's memory), or null
 * @param pinned whether a pin exempts it from expiry ({@code label} or {@code operator}), else null
 * @param database its database, e.g. {@code postgres pv_shop_pr_42}
 * @param failedStep the step its last run failed at
 * @param reason why it is in its state (failure reason, queue reason), or ""
 * @param timings how long each step of its last run took
 * @param changes what it changes against the main line
 */
public record PreviewRow(
    PreviewKey key,
    PreviewState state,
    @Nullable String revision,
    @Nullable URI url,
    Map<String, URI> links,
    @Nullable URI pullRequest,
    @Nullable Instant created,
    @Nullable Instant expires,
    @Nullable Instant lastActivity,
    @Nullable Instant lastPush,
    @Nullable Instant lastVisit,
    @Nullable String pinned,
    @Nullable String database,
    @Nullable String failedStep,
    String reason,
    Map<String, Duration> timings,
    List<String> changes) {

  public PreviewRow {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
    links = links == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(links));
    timings = timings == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(timings));
    changes = changes == null ? List.of() : List.copyOf(changes);
    reason = reason == null ? "" : reason;
  }

  /** What the infrastructure alone says of {@code e} ({@code preview list}): {@code url} is its public URL if there is one. */
  public static PreviewRow observed(Environment e, @Nullable URI publicUrl) {
    return new PreviewRow(e.key(), state(e.phase()), e.revision(), publicUrl != null ? publicUrl : e.url(), Map.of(), null,
        e.created().orElse(null), e.expires().orElse(null), e.lastActivity().orElse(null), lastPush(e), lastVisit(e), pin(e),
        null, null, "", Map.of(), List.of());
  }

  /** The {@code last-push} label, if set. */
  static @Nullable Instant lastPush(Environment e) {
    return Labels.instant(e.labels(), Labels.LAST_PUSH).orElse(null);
  }

  /** The {@code last-visit} label, if set. */
  static @Nullable Instant lastVisit(Environment e) {
    return Labels.instant(e.labels(), Labels.LAST_VISIT).orElse(null);
  }

  /** The state {@code list()} reports for a phase. */
  public static PreviewState state(Environment.Phase phase) {
    return switch (phase) {
      case RUNNING -> PreviewState.READY;
      case STARTING -> PreviewState.PROVISIONING;
      case SUSPENDED -> PreviewState.SLEEPING;
      case FAILED -> PreviewState.FAILED;
    };
  }

  /** {@code operator}, {@code label} or null. */
  static @Nullable String pin(Environment e) {
    String v = e.labels().get(Labels.PINNED);
    if (v == null || v.isEmpty()) {
      return null;
    }
    return v.equals("true") ? "label" : "operator";
  }

  public boolean sleeping() {
    return state == PreviewState.SLEEPING;
  }
}
