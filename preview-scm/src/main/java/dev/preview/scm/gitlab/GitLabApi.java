package dev.preview.scm.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.ApiResponse;
import dev.preview.scm.internal.Links;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.HttpUrl;

/** The GitLab REST v4 calls the notifier and the MR source make. Projects are addressed by their URL-encoded path. */
final class GitLabApi {
  static final int PAGE_SIZE = 100;
  static final int MAX_PAGES = 100;

  private final ApiClient client;
  private final HttpUrl apiUrl;
  private final Map<String, String> headers;

  GitLabApi(ApiClient client, HttpUrl baseUrl, Secret token) {
    this.client = Objects.requireNonNull(client);
    this.apiUrl = apiUrl(baseUrl);
    this.headers = Map.of("PRIVATE-TOKEN", Objects.requireNonNull(token, "token").reveal(), "User-Agent", "preview.dev",
        "Accept", "application/json");
  }

  /** {@code https://gitlab.example.com} and {@code https://gitlab.example.com/api/v4} both mean the v4 API there. */
  static HttpUrl apiUrl(HttpUrl base) {
    String path = base.encodedPath();
    if (path.endsWith("/api/v4") || path.endsWith("/api/v4/")) {
      return base;
    }
    return base.newBuilder().addPathSegments("api/v4").build();
  }

  HttpUrl.Builder project(String repository) {
    // One segment: "acme/platform/shop" becomes acme%2Fplatform%2Fshop, as GitLab expects.
    return apiUrl.newBuilder().addPathSegment("projects").addPathSegment(repository);
  }

  ApiResponse call(String method, HttpUrl url, JsonNode body) {
    return client.send(method, url, body, headers);
  }

  List<JsonNode> list(HttpUrl first) {
    List<JsonNode> out = new ArrayList<>();
    HttpUrl url = first;
    for (int page = 0; url != null; page++) {
      if (page == MAX_PAGES) {
        throw new ProviderException("gitlab", "more than " + MAX_PAGES + " pages at " + first.encodedPath(), false);
      }
      ApiResponse r = call("GET", url, null);
      if (!r.json().isArray()) {
        throw new ProviderException("gitlab", "GET " + url.encodedPath() + " answered with something other than a list", false);
      }
      r.json().forEach(out::add);
      HttpUrl next = Links.next(r.header("Link"));
      String nextPage = r.header("X-Next-Page");
      if (next == null && nextPage != null && !nextPage.isBlank()) {
        next = url.newBuilder().setQueryParameter("page", nextPage.trim()).build();
      }
      url = next;
    }
    return out;
  }

  /** The id of the user the token belongs to ({@code GET /user}; project and group tokens have a bot user). */
  long selfId() {
    JsonNode user = call("GET", apiUrl.newBuilder().addPathSegment("user").build(), null).json();
    if (!user.path("id").isIntegralNumber()) {
      throw new ProviderException("gitlab", "GET /user answered without the user's id", false);
    }
    return user.path("id").asLong();
  }

  // --- MR notes

  private HttpUrl.Builder notes(PreviewKey key) {
    return project(key.repository()).addPathSegment("merge_requests").addPathSegment(Integer.toString(key.number())).addPathSegment("notes");
  }

  List<JsonNode> notesOf(PreviewKey key) {
    return list(notes(key).addQueryParameter("sort", "asc").addQueryParameter("order_by", "created_at")
        .addQueryParameter("per_page", Integer.toString(PAGE_SIZE)).build());
  }

  JsonNode createNote(PreviewKey key, String body) {
    return call("POST", notes(key).build(), ApiClient.MAPPER.createObjectNode().put("body", body)).json();
  }

  JsonNode updateNote(PreviewKey key, long id, String body) {
    return call("PUT", notes(key).addPathSegment(Long.toString(id)).build(), ApiClient.MAPPER.createObjectNode().put("body", body)).json();
  }

  void deleteNote(PreviewKey key, long id) {
    call("DELETE", notes(key).addPathSegment(Long.toString(id)).build(), null);
  }

  // --- environments

  JsonNode environment(String repository, String name) {
    ApiResponse r = call("GET", project(repository).addPathSegment("environments").addQueryParameter("name", name).build(), null);
    for (JsonNode e : r.json()) {
      if (name.equals(e.path("name").asText())) {
        return e;
      }
    }
    return null;
  }

  JsonNode createEnvironment(String repository, String name, String externalUrl) {
    ObjectNode body = ApiClient.MAPPER.createObjectNode().put("name", name);
    if (externalUrl != null) {
      body.put("external_url", externalUrl);
    }
    body.put("tier", "development");
    return call("POST", project(repository).addPathSegment("environments").build(), body).json();
  }

  JsonNode updateEnvironment(String repository, long id, String externalUrl) {
    return call("PUT", project(repository).addPathSegment("environments").addPathSegment(Long.toString(id)).build(),
        ApiClient.MAPPER.createObjectNode().put("external_url", externalUrl)).json();
  }

  void stopEnvironment(String repository, long id) {
    call("POST", project(repository).addPathSegment("environments").addPathSegment(Long.toString(id)).addPathSegment("stop").build(), null);
  }

  /** Deletes a stopped environment (GitLab refuses to delete an available one). */
  void deleteEnvironment(String repository, long id) {
    call("DELETE", project(repository).addPathSegment("environments").addPathSegment(Long.toString(id)).build(), null);
  }

  // --- commit status

  JsonNode commitStatus(String repository, String sha, ObjectNode body) {
    return call("POST", project(repository).addPathSegment("statuses").addPathSegment(sha).build(), body).json();
  }

  // --- merge requests

  JsonNode mergeRequest(PreviewKey key) {
    return call("GET", project(key.repository()).addPathSegment("merge_requests").addPathSegment(Integer.toString(key.number())).build(), null).json();
  }

  List<JsonNode> openMergeRequests(String repository) {
    return list(project(repository).addPathSegment("merge_requests").addQueryParameter("state", "opened")
        .addQueryParameter("per_page", Integer.toString(PAGE_SIZE)).build());
  }

  /**
   * One page (up to {@code limit}, at most {@value #PAGE_SIZE}) of the project's MRs in {@code state},
   * the most recently updated first; no further pages.
   */
  List<JsonNode> recentMergeRequests(String repository, String state, int limit) {
    HttpUrl url = project(repository).addPathSegment("merge_requests").addQueryParameter("state", state)
        .addQueryParameter("order_by", "updated_at").addQueryParameter("sort", "desc")
        .addQueryParameter("per_page", Integer.toString(Math.max(1, Math.min(limit, PAGE_SIZE)))).build();
    ApiResponse r = call("GET", url, null);
    if (!r.json().isArray()) {
      throw new ProviderException("gitlab", "GET " + url.encodedPath() + " answered with something other than a list", false);
    }
    List<JsonNode> out = new ArrayList<>();
    r.json().forEach(out::add);
    return out;
  }

  JsonNode branch(String repository, String branch) {
    return call("GET", project(repository).addPathSegments("repository/branches").addPathSegment(branch).build(), null).json();
  }
}
