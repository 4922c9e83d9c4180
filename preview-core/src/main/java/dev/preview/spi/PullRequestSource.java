package dev.preview.spi;

import java.util.List;
import java.util.Optional;

/**
 * Asks the SCM what is true now: used by the deploy guard (is this PR still open?) and by
 * reconcile (which PRs are open?).
 *
 * <h2>Contract</h2>
 * An SCM that cannot be reached throws {@link ProviderException}; it never answers "no open PRs"
 * or "not found" when it does not know. Callers treat an exception as "unknown" and delete nothing.
 */
public interface PullRequestSource extends AutoCloseable {

  String name();

  /** The PR as the SCM has it now; empty only if the SCM says it does not exist. */
  Optional<PullRequest> find(PreviewKey key);

  /** Every open PR of {@code repository} ({@code owner/name}), following pagination. */
  List<PullRequest> listOpen(String repository);

  /**
   * The PRs of {@code repository} closed or merged most recently, newest first, at most {@code limit}
   * (one page of the SCM's listing of closed PRs by update time). Reconcile reads back what those it
   * has not checked yet show ({@link ScmNotifier#published}), so that a PR closed before a restart
   * (whose last status never reached it, or whose teardown was cut short) ends showing DELETED.
   * An SCM that cannot be reached throws {@link ProviderException}.
   *
   * <p>Default: none (the SCM cannot say); a restarted orchestrator then corrects only the PRs it
   * otherwise sees (open ones, and those with something deployed).
   */
  default List<PullRequest> listRecentlyClosed(String repository, int limit) {
    return List.of();
  }

  @Override
  default void close() {}

  /** Discovered from {@code META-INF/services/dev.preview.spi.PullRequestSource$Factory}. */
  interface Factory {
    /** The name users put in the {@code provider} key of the section. */
    String name();

    /**
     * Builds the provider from {@code context}: reads its settings from {@link ProviderContext#config()},
     * then calls {@link ProviderConfig#validate()} so all problems are reported at once; takes the
     * installation-wide values (instance, clock, hostnames, DNS target and TTL) from
     * {@link ProviderContext#installation()}, never from its own section. Must not contact any
     * server for a config that fails validation.
     *
     * @throws ConfigurationException listing every problem of the section
     */
    PullRequestSource create(ProviderContext context);
  }
}
