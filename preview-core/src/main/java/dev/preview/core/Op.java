package dev.preview.core;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.PullRequest;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One wanted outcome for a key, as the {@link KeyScheduler} queues it: at most one runs per key and
 * the latest one pending replaces an older one. Immutable.
 */
sealed interface Op permits Op.Deploy, Op.Teardown, Op.Sleep, Op.Wake {

  /**
   * Deploy (or update) the preview of {@code pr}. {@code expectsOpen}: the op comes from an
   * {@code opened} or {@code reopened} webhook, so an SCM read that still says closed is taken as
   * lagging and retried ({@code attempt} counts the tries so far) before the PR is taken as closed.
   */
  record Deploy(PullRequest pr, boolean expectsOpen, int attempt) implements Op {
    Deploy(PullRequest pr) {
      this(pr, false, 0);
    }

    Deploy retry() {
      return new Deploy(pr, expectsOpen, attempt + 1);
    }
  }

  /** Why a teardown runs: what it must check first, and whether it gives a freed slot away itself. */
  enum Origin {
    /** Asked for in code or by the CLI: no check. */
    REQUEST,
    /** A {@code closed} or {@code merged} webhook: confirmed with the SCM before anything is deleted. */
    CLOSE_EVENT,
    /** Decided by reconcile, which starts queued PRs itself once its repairs are done. */
    RECONCILE
  }

  /**
   * Remove everything of the preview. {@code dnsRecords}: its records as reconcile just listed them
   * (so the teardown need not list the DNS again), or null when not known. {@code attempt} counts
   * the SCM checks of a {@link Origin#CLOSE_EVENT close} so far. {@code revision}: the revision of the
   * environment as reconcile just listed it (so the teardown need not look it up), or null when not known.
   */
  record Teardown(String reason, @Nullable List<DnsRecord> dnsRecords, Origin origin, int attempt,
      @Nullable String revision) implements Op {
    Teardown(String reason) {
      this(reason, null, Origin.REQUEST, 0);
    }

    Teardown(String reason, @Nullable List<DnsRecord> dnsRecords, Origin origin, int attempt) {
      this(reason, dnsRecords, origin, attempt, null);
    }

    public Teardown {
      dnsRecords = dnsRecords == null ? null : List.copyOf(dnsRecords);
    }

    Teardown retry() {
      return new Teardown(reason, dnsRecords, origin, attempt + 1, revision);
    }
  }

  /** Suspend the preview (reconcile, when it is idle); {@code revision} is the one it runs. */
  record Sleep(String reason, String revision) implements Op {}

  /** Resume a suspended preview (a visit through the gateway) and wait until its app answers healthy. */
  record Wake(String reason) implements Op {}

  /** The revision a deploy is about, or null for the other kinds (logs, superseded events, failures). */
  default String deployRevision() {
    return this instanceof Deploy d ? d.pr().headSha() : null;
  }
}
