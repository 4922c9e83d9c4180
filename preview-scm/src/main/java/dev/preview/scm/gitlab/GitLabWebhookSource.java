package dev.preview.scm.gitlab;

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
import dev.preview.scm.internal.Json;
import dev.preview.scm.internal.JsonDelivery;
import dev.preview.spi.BuildEvent;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.PullRequestEvent.Action;
import dev.preview.spi.Secret;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * GitLab webhooks: checks {@code X-Gitlab-Token} against the configured secret in constant time,
 * then turns {@code Merge Request Hook} and {@code Push Hook} deliveries into
 * {@link PullRequestEvent}s, and {@code Pipeline Hook} deliveries into {@link BuildEvent}s
 * ({@link WebhookResult.Build}): one for the pipeline (named by its {@code name}, or
 * {@code pipeline} if it has none) and one per job in {@code builds} (named by the job). An MR {@code update} is a new push only when the payload carries
 * {@code object_attributes.oldrev}; otherwise its {@code changes} say whether the target branch,
 * the draft flag or the labels changed, and any other update (title, description, assignees) is
 * ignored. The delivery id is {@code Idempotency-Key} (the same on GitLab's retries), else
 * {@code X-Gitlab-Event-UUID}.
 *
 * <p>Thread-safe and stateless.
 */
public final class GitLabWebhookSource implements WebhookSource {
  public static final int DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
  static final String ZERO_SHA = "0000000000000000000000000000000000000000";

  private final Secret token;
  private final int maxBodyBytes;
  private final Predicate<String> branchPreviews;

  private GitLabWebhookSource(Builder b) {
    this.token = b.token;
    this.maxBodyBytes = b.maxBodyBytes;
    this.branchPreviews = Globs.anyOf(b.branchPreviews);
  }

  /** A source that accepts only deliveries whose {@code X-Gitlab-Token} equals {@code webhookToken}. */
  public static Builder builder(Secret webhookToken) {
    return new Builder(webhookToken);
  }

  @Override
  public String name() {
    return "gitlab";
  }

  @Override
  public WebhookResult handle(WebhookRequest request) {
    String delivery = deliveryId(request);
    if (request.body().length > maxBodyBytes) {
      return new Rejected(Reason.TOO_LARGE, "body of " + request.body().length + " bytes is above the cap of " + maxBodyBytes, delivery);
    }
    String given = request.header("X-Gitlab-Token");
    if (given == null) {
      return new Rejected(Reason.UNAUTHORIZED, "no X-Gitlab-Token header: set the webhook's secret token in GitLab", delivery);
    }
    if (!token.matches(given)) {
      return new Rejected(Reason.UNAUTHORIZED, "X-Gitlab-Token does not match the configured webhook secret", delivery);
    }
    return JsonDelivery.route(request, "X-Gitlab-Event", delivery, (event, root) -> switch (event) {
      case "Merge Request Hook" -> mergeRequest(root, delivery);
      case "Push Hook" -> push(root, delivery);
      case "Pipeline Hook" -> pipeline(root, delivery);
      case "Note Hook" -> note(root, delivery);
      default -> new Ignored("event " + event + " is not handled", delivery);
    });
  }

  /** Usernames GitLab gives its bot users: project and group access tokens, and its internal bots. */
  private static final java.util.regex.Pattern BOT_USER = java.util.regex.Pattern.compile(
      "(project|group)_\\d+_bot(_[0-9a-f]+)?|service_account_.*|ghost|support-bot|alert-bot|visual-review-bot|security-bot"
      + "|automation-bot|gitlab-bot");

  /**
   * A {@code Note Hook} on a merge request ({@code noteable_type: MergeRequest}) whose note is new
   * ({@code object_attributes.action: create}, or no action: GitLab before 16.11 sent notes only when
   * created): a {@code /preview} command. Updated notes, system notes and notes elsewhere are ignored.
   */
  private static WebhookResult note(JsonNode root, String delivery) {
    JsonNode attrs = root.path("object_attributes");
    String action = attrs.path("action").asText("create");
    if (!action.equals("create")) {
      return new Ignored("note " + action + " is not a new command (only created notes are read)", delivery);
    }
    if (!"MergeRequest".equals(attrs.path("noteable_type").asText(""))) {
      return new Ignored("note on a " + attrs.path("noteable_type").asText("?") + ", not a merge request", delivery);
    }
    if (attrs.path("system").asBoolean(false)) {
      return new Ignored("system note", delivery);
    }
    java.util.Optional<String[]> parsed = dev.preview.scm.CommentCommand.parse(attrs.path("note").asText(""));
    if (parsed.isEmpty()) {
      return new Ignored("note without a /preview command", delivery);
    }
    JsonNode mr = root.path("merge_request");
    PreviewKey key = PreviewKey.pr(Json.text(root, "/project/path_with_namespace"), Json.positiveInt(mr, "/iid"));
    JsonNode user = root.path("user");
    String username = Json.text(root, "/user/username");
    boolean bot = user.path("bot").asBoolean(false) || BOT_USER.matcher(username).matches();
    String userId = user.path("id").isNumber() ? user.path("id").asText() : attrs.path("author_id").isNumber()
        ? attrs.path("author_id").asText() : null;
    return new WebhookResult.Command(new dev.preview.scm.CommentCommand(key, parsed.get()[0], parsed.get()[1], username,
        userId, bot, "opened".equals(mr.path("state").asText("")), Json.text(attrs, "/id"), delivery));
  }

  private static String deliveryId(WebhookRequest r) {
    String id = r.header("Idempotency-Key");
    if (id == null) {
      id = r.header("X-Gitlab-Event-UUID");
    }
    return id != null ? id : r.header("X-Gitlab-Webhook-UUID");
  }

  private WebhookResult mergeRequest(JsonNode root, String delivery) {
    String action = Json.textOr(root, "/object_attributes/action", "");
    PullRequest pr = mergeRequest(root);
    Action a;
    switch (action) {
      case "open" -> a = Action.OPENED;
      case "reopen" -> a = Action.REOPENED;
      case "close" -> a = Action.CLOSED;
      case "merge" -> a = Action.MERGED;
      case "update" -> {
        a = update(root);
        if (a == null) {
          return new Ignored("merge request update without new commits, target, draft or label change", delivery);
        }
      }
      default -> {
        return new Ignored("merge request action " + (action.isEmpty() ? "(none)" : action) + " is not handled", delivery);
      }
    }
    if (!a.ends() && !pr.isOpen()) {
      return new Ignored("merge request " + action + " on a merge request that is " + pr.state(), delivery);
    }
    return new Accepted(new PullRequestEvent(a, pr, delivery));
  }

  /** What an {@code update} changed, most significant first; null if nothing we act on. */
  private static Action update(JsonNode root) {
    JsonNode attrs = root.path("object_attributes");
    if (attrs.path("oldrev").isTextual() && !attrs.path("oldrev").asText().isEmpty()) {
      return Action.UPDATED;
    }
    JsonNode changes = root.path("changes");
    if (changes.has("target_branch")) {
      return Action.RETARGETED;
    }
    JsonNode draft = changes.has("draft") ? changes.get("draft") : changes.path("work_in_progress");
    if (draft.has("current")) {
      return draft.get("current").asBoolean() ? Action.CONVERTED_TO_DRAFT : Action.READY_FOR_REVIEW;
    }
    if (changes.has("labels")) {
      Set<String> before = titles(changes.at("/labels/previous"));
      Set<String> after = titles(changes.at("/labels/current"));
      if (!before.containsAll(after)) {
        return Action.LABELED;
      }
      if (!after.containsAll(before)) {
        return Action.UNLABELED;
      }
    }
    return null;
  }

  /** The MR as a Merge Request Hook describes it after the event. */
  static PullRequest mergeRequest(JsonNode root) {
    JsonNode a = root.path("object_attributes");
    String repository = Json.text(root, "/project/path_with_namespace");
    PreviewKey key = PreviewKey.pr(repository, Json.positiveInt(a, "/iid"));
    PullRequest.State state = switch (Json.textOr(a, "/state", "opened")) {
      case "merged" -> PullRequest.State.MERGED;
      case "closed", "locked" -> PullRequest.State.CLOSED;
      default -> PullRequest.State.OPEN;
    };
    boolean fork = !a.path("source_project_id").asText("").equals(a.path("target_project_id").asText(""));
    Set<String> labels = titles(root.has("labels") ? root.get("labels") : a.path("labels"));
    boolean draft = a.path("draft").asBoolean(a.path("work_in_progress").asBoolean(false));
    // The payload names the MR's author only by id; the user who opened it is its author.
    String author = "open".equals(a.path("action").asText()) ? Json.textOr(root, "/user/username", "") : "";
    return new PullRequest(key, state, Json.text(a, "/last_commit/id"), Json.text(a, "/source_branch"),
        Json.text(a, "/target_branch"), author, labels, draft, fork);
  }

  private static Set<String> titles(JsonNode labels) {
    Set<String> out = new LinkedHashSet<>();
    for (JsonNode l : labels) {
      String t = l.isTextual() ? l.asText() : l.path("title").asText(l.path("name").asText(""));
      if (!t.isEmpty()) {
        out.add(t);
      }
    }
    return out;
  }

  private static WebhookResult pipeline(JsonNode root, String delivery) {
    JsonNode p = root.path("object_attributes");
    String repository = Json.text(root, "/project/path_with_namespace");
    String sha = BuildReports.sha(p, "/sha");
    String webUrl = Json.textOr(root, "/project/web_url", "");
    String status = Json.text(p, "/status");
    java.net.URI url = BuildReports.link(p.get("url"));
    if (url == null && !webUrl.isEmpty() && p.path("id").canConvertToLong()) {
      url = BuildReports.link(webUrl + "/-/pipelines/" + p.path("id").asLong());
    }
    String name = Json.textOr(p, "/name", "");
    List<BuildEvent> events = new java.util.ArrayList<>();
    events.add(BuildReports.event(repository, sha, name.isBlank() ? "pipeline" : name, BuildReports.gitlab(status),
        status, url, delivery));
    for (JsonNode job : root.path("builds")) {
      String jobName = Json.textOr(job, "/name", "");
      String jobStatus = Json.textOr(job, "/status", "");
      if (jobName.isBlank() || jobStatus.isBlank()) {
        continue;
      }
      java.net.URI jobUrl = webUrl.isEmpty() || !job.path("id").canConvertToLong() ? url
          : BuildReports.link(webUrl + "/-/jobs/" + job.path("id").asLong());
      events.add(BuildReports.event(repository, sha, jobName, BuildReports.gitlab(jobStatus), jobStatus, jobUrl, delivery));
    }
    return new WebhookResult.Build(events, delivery);
  }

  private WebhookResult push(JsonNode root, String delivery) {
    return JsonDelivery.branchPush(root, branchPreviews, delivery, branch -> {
      String repository = Json.text(root, "/project/path_with_namespace");
      String after = Json.text(root, "/after");
      String before = Json.textOr(root, "/before", ZERO_SHA);
      boolean deleted = after.equals(ZERO_SHA);
      boolean created = before.equals(ZERO_SHA);
      String base = Json.textOr(root, "/project/default_branch", branch);
      PullRequest pr = new PullRequest(PreviewKey.branch(repository, branch),
          deleted ? PullRequest.State.CLOSED : PullRequest.State.OPEN, deleted ? before : after, branch, base,
          Json.textOr(root, "/user_username", ""), Set.of(), false, false);
      Action a = deleted ? Action.CLOSED : created ? Action.OPENED : Action.UPDATED;
      return new Accepted(new PullRequestEvent(a, pr, delivery));
    });
  }

  /**
   * {@code scm.provider: gitlab}, for {@code preview serve}. Cheap: builds nothing but the source
   * (no HTTP client). Needs {@code webhookSecret}; reads {@code branchPreviews} and
   * {@code maxBodySize}; the notifier's keys in the same section are accepted.
   */
  public static final class Factory implements WebhookSource.Factory {
    @Override
    public String name() {
      return "gitlab";
    }

    @Override
    public WebhookSource create(dev.preview.spi.ProviderContext context) {
      dev.preview.spi.ProviderConfig config = context.config();
      GitLabSettings s = GitLabSettings.read(config, false, true);
      return builder(s.webhookSecret.get()).branchPreviews(s.branchPreviews).maxBodyBytes(s.maxBodyBytes).build();
    }
  }

  /** Options of a {@link GitLabWebhookSource}. */
  public static final class Builder {
    private final Secret token;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private List<String> branchPreviews = List.of();

    private Builder(Secret token) {
      Objects.requireNonNull(token, "webhookSecret");
      if (token.isEmpty()) {
        throw new ConfigurationException("webhookSecret: must not be empty: pass the secret token set on the GitLab webhook");
      }
      this.token = token;
    }

    public Builder maxBodyBytes(int max) {
      if (max < 1) {
        throw new ConfigurationException("maxBodyBytes: must be at least 1, got " + max + " (the default is "
            + DEFAULT_MAX_BODY_BYTES + ", 25 MB)");
      }
      this.maxBodyBytes = max;
      return this;
    }

    /** Branches (globs) whose pushes become branch-preview events; none by default. */
    public Builder branchPreviews(List<String> globs) {
      this.branchPreviews = List.copyOf(Objects.requireNonNull(globs, "branchPreviews"));
      return this;
    }

    public GitLabWebhookSource build() {
      return new GitLabWebhookSource(this);
    }
  }
}
