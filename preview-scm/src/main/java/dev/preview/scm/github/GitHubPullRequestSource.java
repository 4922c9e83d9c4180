package dev.preview.scm.github;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.PullRequestReads;
import dev.preview.scm.internal.Settings;
import dev.preview.scm.internal.Sleeper;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import okhttp3.HttpUrl;

/**
 * Reads pull requests from GitHub: one PR ({@code GET /repos/{o}/{r}/pulls/{n}}), a branch of a
 * branch preview ({@code GET /repos/{o}/{r}/branches/{b}}), and every open PR following
 * {@code Link} pagination. Only a 404 means "does not exist"; any other failure throws
 * {@link ProviderException}, never an empty answer. Thread-safe.
 */
public final class GitHubPullRequestSource implements PullRequestSource {
  private final GitHubApi api;

  private GitHubPullRequestSource(GitHubApi api) {
    this.api = api;
  }

  /**
   * A source calling {@code baseUrl} ({@code https://api.github.com}, or {@code https://HOST/api/v3}).
   *
   * @throws dev.preview.spi.ConfigurationException if {@code baseUrl} is not an http(s) URL
   */
  public static GitHubPullRequestSource create(String baseUrl, GitHubAuth auth) {
    return create(baseUrl, auth, Clock.systemUTC(), Sleeper.REAL);
  }

  static GitHubPullRequestSource create(String baseUrl, GitHubAuth auth, Clock clock, Sleeper sleeper) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    GitHubAuth a = Objects.requireNonNull(auth, "auth");
    HttpUrl url = Settings.url("baseUrl", baseUrl, GitHubSettings.DEFAULT_BASE_URL);
    ApiClient c = ApiClient.builder("github").clock(clock).sleeper(sleeper).build();
    if (a instanceof GitHubNotifier.AppAuthSpec spec) {
      a = spec.build(c, url);
    }
    return new GitHubPullRequestSource(new GitHubApi(c, url, a));
  }

  @Override
  public String name() {
    return "github";
  }

  @Override
  public Optional<PullRequest> find(PreviewKey key) {
    return PullRequestReads.find(key, k -> toPullRequest(api.pull(k), k.repository()), this::branchHead);
  }

  private String branchHead(PreviewKey key) {
    String sha = api.branch(key.repository(), key.branch()).at("/commit/sha").asText("");
    if (sha.isEmpty()) {
      throw new ProviderException("github", "branch " + key.branch() + " of " + key.repository() + " has no commit sha in GitHub's answer", false);
    }
    return sha;
  }

  @Override
  public List<PullRequest> listOpen(String repository) {
    Objects.requireNonNull(repository, "repository");
    return api.openPulls(repository).stream().map(pr -> toPullRequest(pr, repository)).toList();
  }

  /** One request: {@code GET /repos/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page=limit}. */
  @Override
  public List<PullRequest> listRecentlyClosed(String repository, int limit) {
    Objects.requireNonNull(repository, "repository");
    if (limit <= 0) {
      return List.of(); // at most limit: the smallest page GitHub answers is one PR
    }
    return api.recentlyClosedPulls(repository, limit).stream().map(pr -> toPullRequest(pr, repository)).toList();
  }

  private static PullRequest toPullRequest(JsonNode pr, String repository) {
    try {
      return GitHubWebhookSource.pullRequest(pr);
    } catch (RuntimeException e) {
      throw new ProviderException("github", "a pull request of " + repository + " could not be read: " + e.getMessage(), false, e);
    }
  }

  static GitHubPullRequestSource fromSettings(GitHubSettings s) {
    return new GitHubPullRequestSource(s.api(s.client()));
  }

  /**
   * {@code pullRequests.provider: github}, or {@code scm.provider: github} without a
   * {@code pullRequests} section. Cheap until {@link #create}. Reads the same keys as
   * {@link GitHubNotifier.Factory}: {@code token} or {@code appId} + {@code privateKeyPath} /
   * {@code privateKey} (+ {@code installationId}), {@code baseUrl}, {@code rateLimitMaxWait},
   * {@code timeout}; the notifier's and webhook's keys are accepted too.
   */
  public static final class Factory implements PullRequestSource.Factory {
    @Override
    public String name() {
      return "github";
    }

    @Override
    public PullRequestSource create(ProviderContext context) {
      ProviderConfig config = context.config();
      return fromSettings(GitHubSettings.read(config, true, false));
    }
  }
}
