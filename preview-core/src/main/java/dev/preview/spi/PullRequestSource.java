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
