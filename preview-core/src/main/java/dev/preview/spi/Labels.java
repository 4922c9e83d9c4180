package dev.preview.spi;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The ownership labels every provider puts on what it creates, and reads back in {@code list()}.
 * They are how state lives on the infrastructure: a restarted orchestrator knows every preview,
 * its revision and its deadlines after one {@code list()} per provider.
 *
 * <p>Values are plain strings. Where a platform restricts label values (Kubernetes: 63 chars of
 * {@code [A-Za-z0-9_.-]}), the provider stores them as annotations and keeps a hashed label for
 * selection (see {@link Names#labelValue(String)}).
 */
public final class Labels {
  public static final String PREFIX = "preview.dev/";
  /** {@code "true"} on everything this library manages. */
  public static final String MANAGED = PREFIX + "managed";
  /** The {@link PreviewKey#id()} of the owning preview. */
  public static final String KEY = PREFIX + "key";
  /** The deployed revision (commit SHA). */
  public static final String REVISION = PREFIX + "revision";
  /** ISO-8601 instant of creation. */
  public static final String CREATED = PREFIX + "created";
  /** ISO-8601 instant of the hard expiry (a push extends it). */
  public static final String EXPIRES = PREFIX + "expires";
  /** ISO-8601 instant of the last push or visit. */
  public static final String LAST_ACTIVITY = PREFIX + "last-activity";
  /** ISO-8601 instant of the last deploy of a new revision (a push; the first deploy too), written by apply. */
  public static final String LAST_PUSH = PREFIX + "last-push";
  /**
   * ISO-8601 instant of the last visit through the gateway, written by {@link EnvironmentProvider#relabel}
   * (at most once a minute per preview) and carried over by every deploy; {@link #LAST_ACTIVITY} is the
   * later of it and {@link #LAST_PUSH}.
   */
  public static final String LAST_VISIT = PREFIX + "last-visit";
  /**
   * How long the preview's last successful run took from its first step to READY, and when it got
   * READY: {@code <millis>@<ISO-8601 instant>}, written by the dashboard with {@link EnvironmentProvider#relabel}
   * (so the 7-day time-to-URL figures survive a restart and agree across replicas).
   */
  public static final String TIME_TO_URL = PREFIX + "time-to-url";
  /** {@code "true"} when a pin label exempts the preview from TTLs. */
  public static final String PINNED = PREFIX + "pinned";
  /** Name of the orchestrator instance (lets several installations share one host). */
  public static final String INSTANCE = PREFIX + "instance";
  /**
   * Where a proxy in front of the previews (the gateway) reaches the app, when the environment's URL
   * is a public one that leads back through that proxy (a Kubernetes Ingress): e.g.
   * {@code http://app.pv-shop-pr-42.svc.cluster.local}. Absent: the environment's URL is the upstream.
   */
  public static final String SERVICE_URL = PREFIX + "service-url";
  /**
   * The revision that failed the readiness gate, written by {@link EnvironmentProvider#rejectRevision}
   * (and cleared by the next {@code apply}): an environment whose {@link #REVISION} equals it is
   * reported FAILED, never READY, by any process that lists it; one that runs another revision was
   * rolled back to it.
   */
  public static final String FAILED_REVISION = PREFIX + "failed-revision";

  /** The labels {@link EnvironmentProvider#relabel} may change: lifecycle, never ownership. */
  public static final java.util.Set<String> LIFECYCLE = java.util.Set.of(EXPIRES, LAST_ACTIVITY, PINNED, LAST_VISIT, TIME_TO_URL);

  /** Checks that {@code changes} touches only {@link #LIFECYCLE} labels (for {@code relabel} implementations). */
  public static void requireLifecycle(Map<String, String> changes) {
    for (String name : changes.keySet()) {
      if (!LIFECYCLE.contains(name)) {
        throw new IllegalArgumentException("label " + name + " cannot be changed on a running environment; only "
            + new java.util.TreeSet<>(LIFECYCLE) + " can (ownership labels are written by apply)");
      }
    }
  }

  private Labels() {}

  /** The labels that mark a resource as owned by the preview {@code key} at {@code revision}. */
  public static Map<String, String> ownership(PreviewKey key, @Nullable String revision) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(MANAGED, "true");
    m.put(KEY, key.id());
    if (revision != null) {
      m.put(REVISION, revision);
    }
    return m;
  }

  /** Whether the labels mark a managed resource. */
  public static boolean isManaged(Map<String, String> labels) {
    return "true".equals(labels.get(MANAGED));
  }

  /** The owner key in the labels, if present and well formed. */
  public static Optional<PreviewKey> key(Map<String, String> labels) {
    String v = labels.get(KEY);
    if (v == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(PreviewKey.parse(v));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** An instant label, if present and well formed. */
  public static Optional<Instant> instant(Map<String, String> labels, String name) {
    String v = labels.get(name);
    if (v == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(v));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }
}
