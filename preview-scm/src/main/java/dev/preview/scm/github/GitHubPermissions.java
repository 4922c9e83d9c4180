package dev.preview.scm.github;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.CommandPermissions;
import dev.preview.scm.CommentCommand;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Settings;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import java.util.Objects;
import java.util.Set;
import okhttp3.HttpUrl;

/**
 * Who may run {@code /preview} commands on GitHub: a user whose permission on the repository is
 * {@code write} or {@code admin} ({@code GET /repos/{owner}/{repo}/collaborators/{username}/permission};
 * the {@code maintain} role answers {@code write}, {@code triage} answers {@code read}). A user the
 * API does not know as a collaborator (404) has none. Any other failure throws. Thread-safe.
 */
public final class GitHubPermissions implements CommandPermissions {
  static final Set<String> ACTING = Set.of("admin", "write");

  private final GitHubApi api;

  private GitHubPermissions(GitHubApi api) {
    this.api = api;
  }

  /** Permissions asked at {@code baseUrl} ({@code https://api.github.com}, or {@code https://HOST/api/v3}). */
  public static GitHubPermissions create(String baseUrl, GitHubAuth auth) {
    Objects.requireNonNull(auth, "auth");
    HttpUrl url = Settings.url("baseUrl", Objects.requireNonNull(baseUrl, "baseUrl"), GitHubSettings.DEFAULT_BASE_URL);
    ApiClient c = ApiClient.builder("github").build();
    GitHubAuth a = auth instanceof GitHubNotifier.AppAuthSpec spec ? spec.build(c, url) : auth;
    return new GitHubPermissions(new GitHubApi(c, url, a));
  }

  @Override
  public String name() {
    return "github";
  }

  @Override
  public Permission check(CommentCommand command) {
    String repository = command.key().repository();
    HttpUrl url = api.repo(repository).addPathSegment("collaborators").addPathSegment(command.user())
        .addPathSegment("permission").build();
    JsonNode answer;
    try {
      answer = api.call("GET", repository, url, null).json();
    } catch (ProviderException e) {
      if (e.httpStatus().orElse(0) == 404) {
        return new Permission(false, "none");
      }
      throw e;
    }
    String permission = answer.path("permission").asText("none");
    return new Permission(ACTING.contains(permission), permission);
  }

  /** {@code scm.provider: github}: the same keys as the PR source (token or app, baseUrl). */
  public static final class Factory implements CommandPermissions.Factory {
    @Override
    public String name() {
      return "github";
    }

    @Override
    public CommandPermissions create(ProviderContext context) {
      ProviderConfig config = context.config();
      GitHubSettings s = GitHubSettings.read(config, true, false);
      return new GitHubPermissions(s.api(s.client()));
    }
  }
}
