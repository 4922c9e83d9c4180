package dev.preview.core;

import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.jspecify.annotations.Nullable;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a preview out of service: a teardown (steps "teardown.environment", "teardown.dns",
 * "teardown.database", "teardown.workspace" (with {@code build.from: source}), each run even if an earlier one failed, then DELETED or FAILED) or a suspend.
 * A teardown frees a {@link Slots slot}, so it starts the next queued PR.
 *
 * <p>Stateless; called on the key's worker thread, one run per key at a time.
 */
final class TeardownPipeline {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final EnvironmentProvider environment;
  private final DatabaseProvider database;
  private final DnsProvider dns;
  private final AppTemplate app;
  private final Slots slots;
  private final StatusPublisher status;
  private final Listeners listeners;
  private final Workspaces workspaces;

  TeardownPipeline(EnvironmentProvider environment, DatabaseProvider database, DnsProvider dns, AppTemplate app,
      Slots slots, StatusPublisher status, Listeners listeners, Workspaces workspaces) {
    this.environment = environment;
    this.database = database;
    this.dns = dns;
    this.app = app;
    this.slots = slots;
    this.status = status;
    this.listeners = listeners;
    this.workspaces = workspaces;
  }

  /** Removes everything of {@code key}'s preview. Idempotent; never throws for a failing step. */
  Preview teardown(PreviewKey key, String reason) {
    return teardown(key, reason, null);
  }

  /**
   * The same, with {@code key}'s DNS records as reconcile just listed them ({@code null}: not known,
   * so the DNS provider is listed).
   */
  Preview teardown(PreviewKey key, String reason, @Nullable List<DnsRecord> listedRecords) {
    return teardown(key, reason, listedRecords, true);
  }

  /**
   * The same; {@code startQueued}: whether the freed slot is given to the next queued PR now (reconcile
   * passes false and starts queued PRs once, after all its repairs, without listing per teardown).
   */
  Preview teardown(PreviewKey key, String reason, @Nullable List<DnsRecord> listedRecords, boolean startQueued) {
    return teardown(key, reason, listedRecords, startQueued, null);
  }

  /**
   * The same; {@code listedRevision}: the environment's revision as reconcile just listed it, which
   * spares the {@code find} that otherwise reads it for the DELETED status (null: not known).
   */
  Preview teardown(PreviewKey key, String reason, @Nullable List<DnsRecord> listedRecords, boolean startQueued,
      @Nullable String listedRevision) {
    StepRun run = new StepRun(key, listeners);
    slots.dequeue(key);
    listeners.transition(key, PreviewState.DELETING, reason);
    status.publish(key, PreviewState.DELETING, null, null, reason, null, List.of(), run.timings);
    List<String> failures = new ArrayList<>();
    String revision = listedRevision;
    if (revision == null) {
      try {
        revision = environment.find(key).map(Environment::revision).orElse(null);
      } catch (RuntimeException e) {
        log.debug("{}: could not read the revision before teardown: {}", key, e.toString());
      }
    }
    attempt(run, "teardown.environment", () -> environment.delete(key), failures);
    if (dns != null) {
      attempt(run, "teardown.dns", () -> deleteDns(key, listedRecords), failures);
    }
    if (database != null) {
      attempt(run, "teardown.database", () -> database.drop(key), failures);
    }
    if (workspaces != null) {
      attempt(run, "teardown.workspace", () -> workspaces.delete(key), failures);
    }
    Preview result;
    if (failures.isEmpty()) {
      listeners.transition(key, PreviewState.DELETED, reason);
      status.publish(key, PreviewState.DELETED, revision, null, reason, null, List.of(), run.timings);
      result = new Preview(key, PreviewState.DELETED, revision, null, null, reason, null, run.timings, null, null);
    } else {
      String msg = listeners.redaction().text(
          "teardown incomplete (" + String.join("; ", failures) + "); the next reconcile finishes it");
      // the step that failed first, not the one that ran last
      String failedStep = failures.get(0).substring(0, failures.get(0).indexOf(':'));
      listeners.transition(key, PreviewState.FAILED, msg);
      status.publish(key, PreviewState.FAILED, revision, null, msg, failedStep, List.of(), run.timings);
      result = new Preview(key, PreviewState.FAILED, revision, null, null, msg, failedStep, run.timings, null, null);
    }
    if (startQueued) {
      slots.startQueued();
    }
    return result;
  }

  /** Suspends {@code key}'s environment (scale to zero); the next push wakes it. */
  Preview sleep(PreviewKey key, String reason, String revision) {
    try {
      environment.suspend(key);
    } catch (RuntimeException e) {
      Redaction r = listeners.redaction();
      log.warn("{}: could not suspend: {}", key, r.exception(e).toString());
      return Preview.of(key, PreviewState.FAILED, revision, "could not suspend: " + r.text(e.getMessage()));
    }
    listeners.transition(key, PreviewState.SLEEPING, reason);
    status.publish(key, PreviewState.SLEEPING, revision, null, "asleep: " + reason + "; the next push wakes it",
        null, List.of(), Map.of());
    return new Preview(key, PreviewState.SLEEPING, revision, null, null, reason, null, Map.of(), null, null);
  }

  /**
   * Deletes {@code key}'s records: at its hostname and wherever the DNS says it owns one. Each only
   * while {@code key} owns it: a hostname rule that gives two previews the same name (two
   * repositories' PR 7) never makes one's teardown delete the other's record.
   */
  private void deleteDns(PreviewKey key, @Nullable List<DnsRecord> listed) {
    Set<String> hosts = new LinkedHashSet<>();
    String h = app.hostname(key);
    if (h != null) {
      hosts.add(h);
    }
    for (DnsRecord r : listed != null ? listed : dns.list()) {
      if (r.owner().equals(key)) {
        hosts.add(r.hostname());
      }
    }
    for (String host : hosts) {
      dns.delete(host, key);
    }
  }

  private void attempt(StepRun run, String step, Runnable body, List<String> failures) {
    try {
      run.step(step, body);
    } catch (RuntimeException e) {
      Redaction r = listeners.redaction();
      failures.add(step + ": " + r.text(e.getMessage()));
      log.warn("{}: {} failed: {}", run.key, step, r.exception(e).toString());
    }
  }
}
