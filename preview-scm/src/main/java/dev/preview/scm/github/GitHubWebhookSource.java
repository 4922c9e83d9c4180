package dev.preview.scm.github;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.WebhookResult.Accepted;
import dev.preview.scm.WebhookResult.Ignored;
import dev.preview.scm.WebhookResult.Reason;
import dev.preview.scm.WebhookResult.Rejected;
import dev.preview.scm.WebhookSource;
import dev.preview.scm.internal.BuildReports;
import dev.preview.scm.internal.Globs;
import dev.preview.scm.internal.Hmac;
import dev.preview.scm.internal.Json;
import dev.preview.scm.internal.JsonDelivery;
import dev.preview.spi.BuildEvent;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.spi.Secret;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * GitHub webhooks: verifies {@code X-Hub-Signature-256} (HMAC-SHA256 of the raw body with the
 * webhook secret) in constant time, then turns {@code pull_request}, {@code push} and
 * {@code delete} deliveries into {@link PullRequestEvent}s, and CI reports on a commit into
 * {@link BuildEvent}s ({@link WebhookResult.Build}): {@code check_run} (named by the check),
 * {@code check_suite} (named by its app's slug, e.g. {@code github-actions}), {@code workflow_run}
 * (named by the workflow) and {@code status} (named by its context). {@code ping} and every other
 * event or action are {@link Ignored} with the reason.
 *
 * <p>Thread-safe and stateless; build once with {@link #builder(Secret)}.
 */
public final class GitHubWebhookSource implements WebhookSource {
  /** Default body cap: GitHub caps payloads at 25 MB and drops larger ones itself. */
  public static final int DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
  static final String ZERO_SHA = "0000000000000000000000000000000000000000";

  private final Hmac.Key secret;
  private final int maxBodyBytes;
  private final Predicate<String> branchPreviews;

  private GitHubWebhookSource(Builder b) {
    this.secret = Hmac.key(b.secret.reveal().getBytes(StandardCharsets.UTF_8));
    this.maxBodyBytes = b.maxBodyBytes;
    this.branchPreviews = Globs.anyOf(b.branchPreviews);
  }

  /** A source that accepts only deliveries signed with {@code webhookSecret}. */
  public static Builder builder(Secret webhookSecret) {
    return new Builder(webhookSecret);
  }

  @Override
  public String name() {
    return "github";
  }

  @Override
  public WebhookResult handle(WebhookRequest request) {
    String delivery = request.header("X-GitHub-Delivery");
    if (request.body().length > maxBodyBytes) {
      return new Rejected(Reason.TOO_LARGE, "body of " + request.body().length + " bytes is above the cap of " + maxBodyBytes, delivery);
    }
    String signature = request.header("X-Hub-Signature-256");
    if (signature == null) {
      return new Rejected(Reason.UNAUTHORIZED, "no X-Hub-Signature-256 header: set the webhook's secret in GitHub", delivery);
    }
    if (!secret.verify(request.body(), signature)) {
      return new Rejected(Reason.UNAUTHORIZED, "X-Hub-Signature-256 does not match the body: the webhook secret differs", delivery);
    }
    return JsonDelivery.route(request, "X-GitHub-Event", delivery, (event, root) -> switch (event) {
      case "ping" -> new Ignored("ping: webhook " + root.path("hook_id").asText("?") + " is set up", delivery);
      case "pull_request" -> pullRequest(root, delivery);
      case "push" -> push(root, delivery);
      case "delete" -> delete(root, delivery);
      case "check_run" -> checkRun(root, delivery);
      case "check_suite" -> checkSuite(root, delivery);
      case "workflow_run" -> workflowRun(root, delivery);
      case "status" -> status(root, delivery);
      case "issue_comment" -> issueComment(root, delivery);
      default -> new Ignored("event " + event + " is not handled", delivery);
    });
  }

  private WebhookResult pullRequest(JsonNode root, String delivery) {
    String action = Json.text(root, "/action");
    Action a;
    switch (action) {
      case "opened" -> a = Action.OPENED;
      case "synchronize" -> a = Action.UPDATED;
      case "reopened" -> a = Action.REOPENED;
      case "closed" -> a = root.at("/pull_request/merged").asBoolean(false) ? Action.MERGED : Action.CLOSED;
      case "labeled" -> a = Action.LABELED;
      case "unlabeled" -> a = Action.UNLABELED;
      case "ready_for_review" -> a = Action.READY_FOR_REVIEW;
      case "converted_to_draft" -> a = Action.CONVERTED_TO_DRAFT;
      case "edited" -> {
        if (root.at("/changes/base").isMissingNode()) {
          return new Ignored("pull_request edited without a base change (title or body)", delivery);
        }
        a = Action.RETARGETED;
      }
      default -> {
        return new Ignored("pull_request action " + action + " is not handled", delivery);
      }
    }
    PullRequest pr = pullRequest(root);
    if (!a.ends() && !pr.isOpen()) {
      // e.g. a label added to a PR closed long ago: nothing to deploy
      return new Ignored("pull_request " + action + " on a pull request that is " + pr.state(), delivery);
    }
    return new Accepted(new PullRequestEvent(a, pr, delivery));
  }

  /** The PR as the payload describes it after the event. */
  static PullRequest pullRequest(JsonNode root) {
    JsonNode pr = root.has("pull_request") ? root.get("pull_request") : root;
    String repository = pr.at("/base/repo/full_name").isTextual()
        ? pr.at("/base/repo/full_name").asText() : Json.text(root, "/repository/full_name");
    PreviewKey key = PreviewKey.pr(repository, Json.positiveInt(pr, "/number"));
    JsonNode headRepo = pr.at("/head/repo");
    // A deleted fork leaves head.repo null: the head is still not ours, so treat it as a fork.
    boolean fork = !headRepo.isObject() || !repository.equalsIgnoreCase(headRepo.path("full_name").asText());
    PullRequest.State state = switch (Json.textOr(pr, "/state", "open")) {
      case "closed" -> pr.path("merged").asBoolean(false) || pr.path("merged_at").isTextual()
          ? PullRequest.State.MERGED : PullRequest.State.CLOSED;
      default -> PullRequest.State.OPEN;
    };
    Set<String> labels = new LinkedHashSet<>();
    for (JsonNode l : pr.path("labels")) {
      String name = l.isTextual() ? l.asText() : l.path("name").asText("");
      if (!name.isEmpty()) {
        labels.add(name);
      }
    }
    return new PullRequest(key, state, Json.text(pr, "/head/sha"), Json.text(pr, "/head/ref"),
        Json.text(pr, "/base/ref"), Json.textOr(pr, "/user/login", ""), labels,
        pr.path("draft").asBoolean(false), fork);
  }

  /**
   * {@code issue_comment} with action {@code created} on a pull request: a {@code /preview} command.
   * Edited and deleted comments, comments on issues and comments without a command are ignored.
   */
  private static WebhookResult issueComment(JsonNode root, String delivery) {
    String action = Json.text(root, "/action");
    if (!action.equals("created")) {
      return new Ignored("issue_comment " + action + " is not a new command (only created comments are read)", delivery);
    }
    JsonNode issue = root.path("issue");
    if (!issue.path("pull_request").isObject()) {
      return new Ignored("issue_comment on an issue, not a pull request", delivery);
    }
    JsonNode comment = root.path("comment");
    java.util.Optional<String[]> parsed = dev.preview.scm.CommentCommand.parse(comment.path("body").asText(""));
    if (parsed.isEmpty()) {
      return new Ignored("issue_comment without a /preview command", delivery);
    }
    PreviewKey key = PreviewKey.pr(Json.text(root, "/repository/full_name"), Json.positiveInt(issue, "/number"));
    JsonNode user = comment.path("user");
    boolean bot = "Bot".equals(user.path("type").asText("")) || user.path("login").asText("").endsWith("[bot]");
    return new WebhookResult.Command(new dev.preview.scm.CommentCommand(key, parsed.get()[0], parsed.get()[1],
        Json.text(comment, "/user/login"), user.path("id").isNumber() ? user.path("id").asText() : null, bot,
        "open".equals(issue.path("state").asText("")), Json.text(comment, "/id"), delivery));
  }

  private static WebhookResult checkRun(JsonNode root, String delivery) {
    JsonNode run = root.path("check_run");
    String status = Json.text(run, "/status");
    String conclusion = Json.textOr(run, "/conclusion", status);
    return new WebhookResult.Build(List.of(BuildReports.event(Json.text(root, "/repository/full_name"),
        BuildReports.sha(run, "/head_sha"), Json.text(run, "/name"), BuildReports.github(status, conclusion),
        conclusion, BuildReports.link(run.get("html_url")), delivery)), delivery);
  }

  private static WebhookResult checkSuite(JsonNode root, String delivery) {
    JsonNode suite = root.path("check_suite");
    String status = Json.text(suite, "/status");
    String conclusion = Json.textOr(suite, "/conclusion", status);
    String app = Json.textOr(suite, "/app/slug", Json.text(suite, "/app/name"));
    return new WebhookResult.Build(List.of(BuildReports.event(Json.text(root, "/repository/full_name"),
        BuildReports.sha(suite, "/head_sha"), app, BuildReports.github(status, conclusion), conclusion,
        BuildReports.link(suite.get("html_url")), delivery)), delivery);
  }

  private static WebhookResult workflowRun(JsonNode root, String delivery) {
    JsonNode run = root.path("workflow_run");
    String status = Json.text(run, "/status");
    String conclusion = Json.textOr(run, "/conclusion", status);
    return new WebhookResult.Build(List.of(BuildReports.event(Json.text(root, "/repository/full_name"),
        BuildReports.sha(run, "/head_sha"), Json.text(run, "/name"), BuildReports.github(status, conclusion),
        conclusion, BuildReports.link(run.get("html_url")), delivery)), delivery);
  }

  private static WebhookResult status(JsonNode root, String delivery) {
    String state = Json.text(root, "/state");
    return new WebhookResult.Build(List.of(BuildReports.event(Json.text(root, "/repository/full_name"),
        BuildReports.sha(root, "/sha"), Json.text(root, "/context"), BuildReports.githubStatus(state), state,
        BuildReports.link(root.get("target_url")), delivery)), delivery);
  }

  private WebhookResult push(JsonNode root, String delivery) {
    return JsonDelivery.branchPush(root, branchPreviews, delivery, branch -> {
      String repository = Json.text(root, "/repository/full_name");
      boolean deleted = root.path("deleted").asBoolean(false);
      String sha = deleted ? Json.textOr(root, "/before", ZERO_SHA) : Json.text(root, "/after");
      PullRequest pr = branchPreview(repository, branch, sha, root, deleted);
      Action a = deleted ? Action.CLOSED : root.path("created").asBoolean(false) ? Action.OPENED : Action.UPDATED;
      return new Accepted(new PullRequestEvent(a, pr, delivery));
    });
  }

  private WebhookResult delete(JsonNode root, String delivery) {
    String refType = Json.text(root, "/ref_type");
    String ref = Json.text(root, "/ref");
    if (!refType.equals("branch")) {
      return new Ignored("delete of " + refType + " " + ref + " (not a branch)", delivery);
    }
    if (!branchPreviews.test(ref)) {
      return new Ignored("delete of branch " + ref + ", which no branchPreviews glob matches", delivery);
    }
    // A delete event names no commit; the all-zero id is git's own "no commit".
    PullRequest pr = branchPreview(Json.text(root, "/repository/full_name"), ref, ZERO_SHA, root, true);
    return new Accepted(new PullRequestEvent(Action.CLOSED, pr, delivery));
  }

  private static PullRequest branchPreview(String repository, String branch, String sha, JsonNode root, boolean gone) {
    String base = Json.textOr(root, "/repository/default_branch", branch);
    String author = Json.textOr(root, "/sender/login", Json.textOr(root, "/pusher/name", ""));
    return new PullRequest(PreviewKey.branch(repository, branch), gone ? PullRequest.State.CLOSED : PullRequest.State.OPEN,
        sha, branch, base, author, Set.of(), false, false);
  }

  /**
   * {@code scm.provider: github}, for {@code preview serve}. Cheap: builds nothing but the source
   * (no HTTP client). Needs {@code webhookSecret}; reads {@code branchPreviews} and
   * {@code maxBodySize}; the notifier's keys in the same section are accepted.
   */
  public static final class Factory implements WebhookSource.Factory {
    @Override
    public String name() {
      return "github";
    }

    @Override
    public WebhookSource create(dev.preview.spi.ProviderContext context) {
      dev.preview.spi.ProviderConfig config = context.config();
      GitHubSettings s = GitHubSettings.read(config, false, true);
      return builder(s.webhookSecret.get()).branchPreviews(s.branchPreviews).maxBodyBytes(s.maxBodyBytes).build();
    }
  }

  /** Options of a {@link GitHubWebhookSource}. */
  public static final class Builder {
    private final Secret secret;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private List<String> branchPreviews = List.of();

    private Builder(Secret secret) {
      Objects.requireNonNull(secret, "webhookSecret");
      if (secret.isEmpty()) {
        throw new ConfigurationException("webhookSecret: must not be empty: pass the secret set on the GitHub webhook");
      }
      this.secret = secret;
    }

    /** Deliveries above this size are rejected (413) before their signature is computed. */
    public Builder maxBodyBytes(int max) {
      if (max < 1) {
        throw new ConfigurationException("maxBodyBytes: must be at least 1, got " + max + " (the default is "
            + DEFAULT_MAX_BODY_BYTES + ", 25 MB)");
      }
      this.maxBodyBytes = max;
      return this;
    }

    /** Branches (globs) whose pushes and deletes become branch-preview events; none by default. */
    public Builder branchPreviews(List<String> globs) {
      this.branchPreviews = List.copyOf(Objects.requireNonNull(globs, "branchPreviews"));
      return this;
    }

    public GitHubWebhookSource build() {
      return new GitHubWebhookSource(this);
    }
  }
}
