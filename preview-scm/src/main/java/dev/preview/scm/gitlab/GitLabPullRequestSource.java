package dev.preview.scm.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Json;
import dev.preview.scm.internal.PullRequestReads;
import dev.preview.scm.internal.Sleeper;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.Secret;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import okhttp3.HttpUrl;

/**
 * Reads merge requests from GitLab: one MR, a branch of a branch preview, every open MR of a
 * project following pagination, and the most recently closed and merged ones. Only a 404 means "does not exist"; any other failure throws
 * {@link ProviderException}. Thread-safe.
 */
public final class GitLabPullRequestSource implements PullRequestSource {
  private final GitLabApi api;

  private GitLabPullRequestSource(GitLabApi api) {
    this.api = api;
  }

  /**
   * A source for {@code baseUrl} ({@code https://gitlab.com} or a self-managed instance) with an access token (api scope).
   *
   * @throws dev.preview.spi.ConfigurationException if {@code baseUrl} is not an http(s) URL or {@code token} is empty
   */
  public static GitLabPullRequestSource create(String baseUrl, Secret token) {
    return create(baseUrl, token, Clock.systemUTC(), Sleeper.REAL);
  }

  static GitLabPullRequestSource create(String baseUrl, Secret token, Clock clock, Sleeper sleeper) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(token, "token");
    HttpUrl url = GitLabSettings.url(baseUrl, token);
    return new GitLabPullRequestSource(new GitLabApi(ApiClient.builder("gitlab").clock(clock).sleeper(sleeper).build(), url, token));
  }

  @Override
  public String name() {
    return "gitlab";
  }

  @Override
  public Optional<PullRequest> find(PreviewKey key) {
    return PullRequestReads.find(key, k -> toPullRequest(api.mergeRequest(k), k.repository()), this::branchHead);
  }

  private String branchHead(PreviewKey key) {
    String sha = api.branch(key.repository(), key.branch()).at("/commit/id").asText("");
    if (sha.isEmpty()) {
      throw new ProviderException("gitlab", "branch " + key.branch() + " of " + key.repository() + " has no commit id in GitLab's answer", false);
    }
    return sha;
  }

  @Override
  public List<PullRequest> listOpen(String repository) {
    Objects.requireNonNull(repository, "repository");
    return api.openMergeRequests(repository).stream().map(mr -> toPullRequest(mr, repository)).toList();
  }

  /**
   * Two requests, because GitLab keeps merged MRs apart from closed ones ({@code state=all} would
   * spend the page on open MRs): {@code GET /projects/:id/merge_requests?state=closed&order_by=updated_at&sort=desc&per_page=limit}
   * and the same with {@code state=merged}, merged by {@code updated_at} (newest first, a tie by the
   * higher iid), at most {@code limit} (and at most 100 of each) in all. Either request failing throws.
   */
  @Override
  public List<PullRequest> listRecentlyClosed(String repository, int limit) {
    Objects.requireNonNull(repository, "repository");
    if (limit <= 0) {
      return List.of();
    }
    record Dated(JsonNode mr, Instant updated, int iid) {}
    List<Dated> all = new ArrayList<>();
    for (String state : List.of("closed", "merged")) {
      for (JsonNode mr : api.recentMergeRequests(repository, state, limit)) {
        all.add(new Dated(mr, updatedAt(mr, repository), mr.path("iid").asInt()));
      }
    }
    all.sort(Comparator.comparing(Dated::updated).thenComparingInt(Dated::iid).reversed());
    Map<Integer, PullRequest> out = new LinkedHashMap<>();
    for (Dated d : all) {
      if (out.size() == limit) {
        break;
      }
      // An MR closed then reopened and merged between the two requests is in both: the newer answer wins.
      out.putIfAbsent(d.iid(), toPullRequest(d.mr(), repository));
    }
    return List.copyOf(out.values());
  }

  private static Instant updatedAt(JsonNode mr, String repository) {
    String text = mr.path("updated_at").asText("");
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new ProviderException("gitlab", "a merge request of " + repository + " (iid " + mr.path("iid").asText("?")
          + ") could not be read: updated_at is " + (text.isEmpty() ? "missing" : "not an ISO-8601 time: " + text), false, e);
    }
  }

  /** An MR as the REST API returns it (not the webhook shape). */
  static PullRequest toPullRequest(JsonNode mr, String repository) {
    try {
      PreviewKey key = PreviewKey.pr(repository, Json.positiveInt(mr, "/iid"));
      PullRequest.State state = switch (Json.textOr(mr, "/state", "opened")) {
        case "merged" -> PullRequest.State.MERGED;
        case "closed", "locked" -> PullRequest.State.CLOSED;
        default -> PullRequest.State.OPEN;
      };
      Set<String> labels = new LinkedHashSet<>();
      for (JsonNode l : mr.path("labels")) {
        labels.add(l.isTextual() ? l.asText() : l.path("name").asText());
      }
      boolean fork = !mr.path("source_project_id").asText("").equals(mr.path("target_project_id").asText(""));
      boolean draft = mr.path("draft").asBoolean(mr.path("work_in_progress").asBoolean(false));
      return new PullRequest(key, state, Json.text(mr, "/sha"), Json.text(mr, "/source_branch"), Json.text(mr, "/target_branch"),
          Json.textOr(mr, "/author/username", ""), labels, draft, fork);
    } catch (RuntimeException e) {
      throw new ProviderException("gitlab", "a merge request of " + repository + " could not be read: " + e.getMessage(), false, e);
    }
  }

  /**
   * {@code pullRequests.provider: gitlab}, or {@code scm.provider: gitlab} without a
   * {@code pullRequests} section. Cheap until {@link #create}. Reads the same keys as
   * {@link GitLabNotifier.Factory}: {@code token} (required), {@code baseUrl},
   * {@code rateLimitMaxWait}, {@code timeout}; the notifier's and webhook's keys are accepted too.
   */
  public static final class Factory implements PullRequestSource.Factory {
    @Override
    public String name() {
      return "gitlab";
    }

    @Override
    public PullRequestSource create(ProviderContext context) {
      ProviderConfig config = context.config();
      return new GitLabPullRequestSource(GitLabSettings.read(config, true, false).api());
    }
  }
}
