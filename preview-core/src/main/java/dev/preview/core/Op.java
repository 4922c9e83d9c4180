package dev.preview.core;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.PullRequest;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One wanted outcome for a key, as the {@link KeyScheduler} queues it: at most one runs per key and
 * the latest one pending replaces an older one. Immutable.
 */
sealed interface Op permits Op.Deploy, Op.Teardown, Op.Sleep {

  /** Deploy (or update) the preview of {@code pr}. */
  record Deploy(PullRequest pr) implements Op {}

  /**
   * Remove everything of the preview. {@code dnsRecords}: its records as reconcile just listed them
   * (so the teardown need not list the DNS again), or null when not known.
   */
  record Teardown(String reason, @Nullable List<DnsRecord> dnsRecords) implements Op {
    Teardown(String reason) {
      this(reason, null);
    }

    public Teardown {
      dnsRecords = dnsRecords == null ? null : List.copyOf(dnsRecords);
    }
  }

  /** Suspend the preview (reconcile, when it is idle); {@code revision} is the one it runs. */
  record Sleep(String reason, String revision) implements Op {}

  /** The revision a deploy is about, or null for the other kinds (logs, superseded events, failures). */
  default String deployRevision() {
    return this instanceof Deploy d ? d.pr().headSha() : null;
  }
}
