package dev.preview.scm.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.CommandPermissions;
import dev.preview.scm.CommentCommand;
import dev.preview.scm.internal.ApiClient;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.util.Objects;
import okhttp3.HttpUrl;

/**
 * Who may run {@code /preview} commands on GitLab: a member of the project (directly or through its
 * groups) with access level Developer (30) or more ({@code GET /projects/:id/members/all/:user_id}).
 * A user who is not a member (404), or whose id the note did not carry, has none. Any other failure
 * throws. Thread-safe.
 */
public final class GitLabPermissions implements CommandPermissions {
  /** GitLab's Developer access level. */
  public static final int DEVELOPER = 30;

  private final GitLabApi api;

  private GitLabPermissions(GitLabApi api) {
    this.api = api;
  }

  /** Permissions asked at {@code baseUrl} ({@code https://gitlab.com} or {@code .../api/v4}) with {@code token}. */
  public static GitLabPermissions create(String baseUrl, Secret token) {
    HttpUrl url = GitLabSettings.url(Objects.requireNonNull(baseUrl, "baseUrl"), Objects.requireNonNull(token, "token"));
    return new GitLabPermissions(new GitLabApi(ApiClient.builder("gitlab").build(), url, token));
  }

  @Override
  public String name() {
    return "gitlab";
  }

  @Override
  public Permission check(CommentCommand command) {
    if (command.userId() == null || !command.userId().matches("\\d{1,19}")) {
      return new Permission(false, "unknown user id");
    }
    HttpUrl url = api.project(command.key().repository()).addPathSegments("members/all").addPathSegment(command.userId()).build();
    JsonNode member;
    try {
      member = api.call("GET", url, null).json();
    } catch (ProviderException e) {
      if (e.httpStatus().orElse(0) == 404) {
        return new Permission(false, "not a member");
      }
      throw e;
    }
    int level = member.path("access_level").asInt(0);
    if ("blocked".equals(member.path("state").asText("")) ) {
      return new Permission(false, "blocked");
    }
    return new Permission(level >= DEVELOPER, role(level));
  }

  static String role(int level) {
    if (level >= 50) {
      return "Owner";
    } else if (level >= 40) {
      return "Maintainer";
    } else if (level >= 30) {
      return "Developer";
    } else if (level >= 20) {
      return "Reporter";
    } else if (level >= 10) {
      return "Guest";
    }
    return "none";
  }

  /** {@code scm.provider: gitlab}: the same keys as the MR source (token, baseUrl). */
  public static final class Factory implements CommandPermissions.Factory {
    @Override
    public String name() {
      return "gitlab";
    }

    @Override
    public CommandPermissions create(ProviderContext context) {
      return new GitLabPermissions(GitLabSettings.read(context.config(), true, false).api());
    }
  }
}
