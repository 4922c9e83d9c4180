package dev.preview.scm.github;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Secret;

/**
 * How calls to the GitHub API authenticate: a token (personal, fine-grained or from Actions), or a
 * GitHub App ({@link GitHubAppAuth}), whose installation token depends on the repository's owner.
 * Implementations are thread-safe.
 */
public interface GitHubAuth {

  /** The {@code Authorization} header value for a call about {@code repository} ({@code owner/name}). */
  String authorization(String repository);

  /** Forgets any cached credential for {@code repository}, after GitHub refused it (401). */
  default void invalidate(String repository) {}

  /**
   * A fixed token, sent as {@code Bearer}.
   *
   * @throws ConfigurationException if {@code token} is empty
   */
  static GitHubAuth token(Secret token) {
    java.util.Objects.requireNonNull(token, "token");
    if (token.isEmpty()) {
      throw new ConfigurationException("token: must not be empty: a GitHub token with pull requests, issues, deployments and statuses write access");
    }
    return repository -> "Bearer " + token.reveal();
  }
}
