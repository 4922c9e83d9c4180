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
    String name();

    PullRequestSource create(ProviderConfig config);
  }
}
