package dev.preview.scm.internal;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import java.util.Optional;
import java.util.function.Function;

/** The lookup both pull request sources make: only a 404 means "does not exist". */
public final class PullRequestReads {
  private PullRequestReads() {}

  /**
   * The pull request {@code key} as {@code pullRequest} reads it, or for a branch key an open branch
   * preview headed by the commit {@code branchHead} reads. Empty only when the SCM answered 404; any
   * other failure is thrown, never turned into an empty answer.
   */
  public static Optional<PullRequest> find(PreviewKey key, Function<PreviewKey, PullRequest> pullRequest,
      Function<PreviewKey, String> branchHead) {
    try {
      if (key.isPullRequest()) {
        return Optional.of(pullRequest.apply(key));
      }
      return Optional.of(PullRequest.open(key, branchHead.apply(key), key.branch(), key.branch()));
    } catch (ProviderException e) {
      if (e.httpStatus().orElse(0) == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }
}
