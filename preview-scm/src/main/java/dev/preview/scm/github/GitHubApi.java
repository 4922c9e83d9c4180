package dev.preview.scm.github;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.ApiResponse;
import dev.preview.scm.internal.Links;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import okhttp3.HttpUrl;

/** The few GitHub REST calls the notifier and the PR source make. Thread-safe. */
final class GitHubApi {
  static final String API_VERSION = "2022-11-28";
  static final String USER_AGENT = "preview.dev";
  static final int PAGE_SIZE = 100;
  /** Stops a runaway pagination (a PR with 50,000 comments) from looping for ever. */
  static final int MAX_PAGES = 100;

  private final ApiClient client;
  private final HttpUrl baseUrl;
  private final GitHubAuth auth;

  GitHubApi(ApiClient client, HttpUrl baseUrl, GitHubAuth auth) {
    this.client = Objects.requireNonNull(client);
    this.baseUrl = Objects.requireNonNull(baseUrl);
    this.auth = Objects.requireNonNull(auth);
  }

  ApiClient client() {
    return client;
  }

  HttpUrl.Builder repo(String repository) {
    return baseUrl.newBuilder().addPathSegment("repos").addPathSegments(repository);
  }

  ApiResponse call(String method, String repository, HttpUrl url, JsonNode body) {
    try {
      return client.send(method, url, body, () -> GitHubAppAuth.headers(auth.authorization(repository)));
    } catch (ProviderException e) {
      // An App's installation token can be revoked before it expires: get a fresh one, once.
      if (e.httpStatus().orElse(0) == 401 && auth instanceof GitHubAppAuth) {
        auth.invalidate(repository);
        return client.send(method, url, body, () -> GitHubAppAuth.headers(auth.authorization(repository)));
      }
      throw e;
    }
  }

  /** Every element of a paginated list, following {@code Link: rel="next"}. */
  List<JsonNode> list(String repository, HttpUrl first) {
    List<JsonNode> out = new ArrayList<>();
    HttpUrl url = first;
    for (int page = 0; url != null; page++) {
      if (page == MAX_PAGES) {
        throw new ProviderException("github", "more than " + MAX_PAGES + " pages at " + first.encodedPath(), false);
      }
      ApiResponse r = call("GET", repository, url, null);
      if (!r.json().isArray()) {
        throw new ProviderException("github", "GET " + url.encodedPath() + " answered with something other than a list", false);
      }
      r.json().forEach(out::add);
      url = Links.next(r.header("Link"));
    }
    return out;
  }

  // --- issue comments

  List<JsonNode> comments(PreviewKey key) {
    return list(key.repository(), repo(key.repository()).addPathSegments("issues").addPathSegment(Integer.toString(key.number()))
        .addPathSegment("comments").addQueryParameter("per_page", Integer.toString(PAGE_SIZE)).build());
  }

  JsonNode createComment(PreviewKey key, String body) {
    HttpUrl url = repo(key.repository()).addPathSegment("issues").addPathSegment(Integer.toString(key.number()))
        .addPathSegment("comments").build();
    return call("POST", key.repository(), url, ApiClient.MAPPER.createObjectNode().put("body", body)).json();
  }

  JsonNode updateComment(String repository, long id, String body) {
    HttpUrl url = repo(repository).addPathSegments("issues/comments").addPathSegment(Long.toString(id)).build();
    return call("PATCH", repository, url, ApiClient.MAPPER.createObjectNode().put("body", body)).json();
  }

  void deleteComment(String repository, long id) {
    HttpUrl url = repo(repository).addPathSegments("issues/comments").addPathSegment(Long.toString(id)).build();
    call("DELETE", repository, url, null);
  }

  /**
   * The login of the account the token belongs to ({@code GET /user}), or null when GitHub does not
   * say (an App's installation token or Actions' {@code GITHUB_TOKEN} are refused: 403).
   */
  String selfLogin(String repository) {
    try {
      return call("GET", repository, baseUrl.newBuilder().addPathSegment("user").build(), null).json().path("login").asText(null);
    } catch (ProviderException e) {
      int status = e.httpStatus().orElse(0);
      if (status == 403 || status == 404) {
        return null;
      }
      throw e;
    }
  }

  // --- deployments

  /** The newest deployment of {@code environment} (for {@code sha} if not null), or null. */
  JsonNode latestDeployment(String repository, String environment, String sha) {
    HttpUrl.Builder u = repo(repository).addPathSegment("deployments").addQueryParameter("environment", environment);
    if (sha != null) {
      u.addQueryParameter("sha", sha);
    }
    ApiResponse r = call("GET", repository, u.addQueryParameter("per_page", "1").build(), null);
    return r.json().isArray() && r.json().size() > 0 ? r.json().get(0) : null;
  }

  JsonNode createDeployment(String repository, String sha, String environment, String description) {
    ObjectNode body = ApiClient.MAPPER.createObjectNode()
        .put("ref", sha)
        .put("environment", environment)
        .put("description", description)
        .put("auto_merge", false)
        .put("transient_environment", true)
        .put("production_environment", false);
    body.putArray("required_contexts");
    return call("POST", repository, repo(repository).addPathSegment("deployments").build(), body).json();
  }

  JsonNode createDeploymentStatus(String repository, long deploymentId, ObjectNode body) {
    HttpUrl url = repo(repository).addPathSegment("deployments").addPathSegment(Long.toString(deploymentId))
        .addPathSegment("statuses").build();
    return call("POST", repository, url, body).json();
  }

  JsonNode createCommitStatus(String repository, String sha, ObjectNode body) {
    HttpUrl url = repo(repository).addPathSegment("statuses").addPathSegment(sha).build();
    return call("POST", repository, url, body).json();
  }

  // --- pull requests

  JsonNode pull(PreviewKey key) {
    return call("GET", key.repository(), repo(key.repository()).addPathSegment("pulls")
        .addPathSegment(Integer.toString(key.number())).build(), null).json();
  }

  JsonNode branch(String repository, String branch) {
    return call("GET", repository, repo(repository).addPathSegment("branches").addPathSegments(branch).build(), null).json();
  }

  /** One page (up to {@code limit}, at most 100) of the repository's closed PRs, the most recently updated first. */
  List<JsonNode> recentlyClosedPulls(String repository, int limit) {
    HttpUrl url = repo(repository).addPathSegment("pulls").addQueryParameter("state", "closed")
        .addQueryParameter("sort", "updated").addQueryParameter("direction", "desc")
        .addQueryParameter("per_page", Integer.toString(Math.max(1, Math.min(limit, PAGE_SIZE)))).build();
    ApiResponse r = call("GET", repository, url, null);
    if (!r.json().isArray()) {
      throw new ProviderException("github", "GET " + url.encodedPath() + " answered with something other than a list", false);
    }
    List<JsonNode> out = new ArrayList<>();
    r.json().forEach(out::add);
    return out;
  }

  List<JsonNode> openPulls(String repository) {
    return list(repository, repo(repository).addPathSegment("pulls").addQueryParameter("state", "open")
        .addQueryParameter("per_page", Integer.toString(PAGE_SIZE)).build());
  }
}
