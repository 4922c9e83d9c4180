package dev.preview.spi;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Puts a preview's code, at exactly one commit, into a directory: what {@code build.from: source}
 * builds. The orchestrator gives every preview its own workspace and calls {@link #fetch} before
 * each build; the implementation in {@code preview-scm} ({@code dev.preview.scm.source.GitSource})
 * fetches the PR's head ref with JGit.
 *
 * <p>Implementations must be thread-safe for different workspaces; calls for one workspace never
 * overlap (the orchestrator serialises a key's work).
 */
public interface SourceFetcher {

  /**
   * Makes {@code workspace} hold exactly the tree of commit {@code sha} of {@code key}'s repository
   * (nothing else: files left by an earlier build are removed). Creates the directory if needed and
   * reuses what an earlier fetch left there; idempotent. A force-pushed PR is fine: the SHA decides.
   *
   * @return {@code workspace}
   * @throws ProviderException when the repository cannot be reached or does not have {@code sha};
   *     its message names the repository and the ref, never a credential
   */
  Path fetch(PreviewKey key, String sha, Path workspace);

  /**
   * Builds the {@link SourceFetcher} for {@code build.from: source}; registered in
   * {@code META-INF/services/dev.preview.spi.SourceFetcher$Factory}.
   */
  interface Factory {
    /** The name of the fetcher, for messages ({@code git}). */
    String name();

    /** A fetcher for {@code origin}; cheap, no network. @throws ConfigurationException naming what is wrong */
    SourceFetcher create(Origin origin);
  }

  /**
   * Where the code comes from.
   *
   * @param scm the SCM provider's name ({@code github}, {@code gitlab}, ...): which refs hold a PR's head
   * @param scmBaseUrl the SCM's base URL as configured ({@code scm.baseUrl}), or null for its default
   * @param repository the git URL to fetch ({@code build.repository}), or null to derive it from the SCM
   *     and the key's repository
   * @param token the HTTPS token to fetch with ({@code build.token}), or null
   */
  record Origin(String scm, @Nullable String scmBaseUrl, @Nullable String repository, @Nullable Secret token) {
    public Origin {
      Objects.requireNonNull(scm, "scm");
    }

    /** Never shows the token. */
    @Override
    public String toString() {
      return "Origin{scm=" + scm + ", scmBaseUrl=" + scmBaseUrl + ", repository=" + repository
          + (token == null ? "" : ", token=***") + "}";
    }
  }
}
