package dev.preview.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PullRequestEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The pull request facts a CI job was started for, read from the variables its CI sets.
 *
 * <p><b>GitHub Actions</b> (documented default variables): {@code GITHUB_EVENT_NAME} must be
 * {@code pull_request} or {@code pull_request_target}; the event payload at {@code GITHUB_EVENT_PATH}
 * gives {@code action}, {@code number}, {@code pull_request.head.sha}, {@code .head.ref},
 * {@code .base.ref}, {@code .draft}, {@code .merged}, {@code .labels[].name}, {@code .user.login},
 * and the fork fact ({@code head.repo.full_name} differs from {@code base.repo.full_name}, or the head
 * repository is gone); {@code repository.full_name} (else {@code GITHUB_REPOSITORY}) the repository.
 *
 * <p><b>GitLab CI</b> (predefined variables of merge request pipelines): {@code CI_MERGE_REQUEST_IID},
 * {@code CI_MERGE_REQUEST_PROJECT_PATH} (else {@code CI_PROJECT_PATH}),
 * {@code CI_MERGE_REQUEST_SOURCE_BRANCH_SHA} when set (merged-results pipelines) else
 * {@code CI_COMMIT_SHA}, {@code CI_MERGE_REQUEST_SOURCE_BRANCH_NAME},
 * {@code CI_MERGE_REQUEST_TARGET_BRANCH_NAME}, {@code CI_MERGE_REQUEST_LABELS} (comma-separated),
 * {@code CI_MERGE_REQUEST_DRAFT}, {@code GITLAB_USER_LOGIN}; a fork when
 * {@code CI_MERGE_REQUEST_SOURCE_PROJECT_ID} differs from {@code CI_MERGE_REQUEST_PROJECT_ID}.
 * GitLab runs no pipeline when a merge request closes: its {@code environment:on_stop} job does,
 * and there {@code CI_ENVIRONMENT_ACTION} is {@code stop}, which means "down".
 *
 * @param ci "github" or "gitlab"
 * @param event what the CI calls the event, for messages (e.g. {@code pull_request synchronize})
 * @param action the pull request action; {@link PullRequestEvent.Action#ends()} ones mean "down";
 *     null when the event is not about a pull request (nothing to do)
 * @param sha the head commit; null when the CI did not give one
 */
record CiEvent(String ci, String event, PullRequestEvent.Action action, String repository, Integer number,
    String sha, String headRef, String baseRef, Set<String> labels, Boolean draft, Boolean fork, String author) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Whether this event removes the preview. */
  boolean down() {
    return action != null && action.ends();
  }

  /**
   * The event of the CI this process runs in, if any.
   *
   * @throws ConfigurationException when a CI is detected but its facts cannot be read (named)
   */
  static Optional<CiEvent> detect(Map<String, String> env) {
    if (set(env, "GITHUB_EVENT_NAME")) {
      return Optional.of(github(env));
    }
    if (set(env, "CI_MERGE_REQUEST_IID")) {
      return Optional.of(gitlab(env));
    }
    return Optional.empty();
  }

  /** What {@code preview ci} says when there is no CI event. */
  static String notFound() {
    return "no CI event found: in GitHub Actions GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are read, in a"
        + " GitLab CI merge request pipeline CI_MERGE_REQUEST_IID and its siblings (see preview-cli/README.md);"
        + " outside a CI give --pr and --sha to preview up";
  }

  private static CiEvent github(Map<String, String> env) {
    String name = env.get("GITHUB_EVENT_NAME").trim();
    if (!name.equals("pull_request") && !name.equals("pull_request_target")) {
      return new CiEvent("github", name, null, env.get("GITHUB_REPOSITORY"), null, null, null, null, Set.of(),
          null, null, null);
    }
    String path = env.get("GITHUB_EVENT_PATH");
    if (path == null || path.isBlank()) {
      throw new ConfigurationException("GITHUB_EVENT_PATH: is not set, but GITHUB_EVENT_NAME is " + name
          + "; GitHub Actions sets both (outside Actions, unset GITHUB_EVENT_NAME)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(Path.of(path)));
    } catch (IOException e) {
      throw new ConfigurationException("GITHUB_EVENT_PATH: cannot read the event payload " + path + ": " + e.getMessage());
    }
    JsonNode pr = root.path("pull_request");
    List<String> problems = new ArrayList<>();
    String action = root.path("action").asText("");
    if (pr.isMissingNode() || !pr.isObject()) {
      problems.add("GITHUB_EVENT_PATH: " + path + " has no pull_request object (is it a " + name + " event?)");
    }
    int number = root.path("number").asInt(pr.path("number").asInt(0));
    if (number <= 0 && problems.isEmpty()) {
      problems.add("GITHUB_EVENT_PATH: " + path + " has no number");
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    String repo = text(root.path("repository").path("full_name"));
    if (repo == null) {
      repo = text(pr.path("base").path("repo").path("full_name"));
    }
    if (repo == null) {
      repo = env.get("GITHUB_REPOSITORY");
    }
    JsonNode headRepo = pr.path("head").path("repo");
    String headFull = text(headRepo.path("full_name"));
    String baseFull = text(pr.path("base").path("repo").path("full_name"));
    boolean fork = headFull == null || (baseFull != null && !headFull.equalsIgnoreCase(baseFull))
        || (baseFull == null && headRepo.path("fork").asBoolean(false));
    Set<String> labels = new LinkedHashSet<>();
    pr.path("labels").forEach(l -> {
      String n = text(l.path("name"));
      if (n != null) {
        labels.add(n);
      }
    });
    boolean merged = pr.path("merged").asBoolean(false);
    PullRequestEvent.Action a = switch (action) {
      case "opened" -> PullRequestEvent.Action.OPENED;
      case "reopened" -> PullRequestEvent.Action.REOPENED;
      case "synchronize", "edited" -> PullRequestEvent.Action.UPDATED;
      case "labeled" -> PullRequestEvent.Action.LABELED;
      case "unlabeled" -> PullRequestEvent.Action.UNLABELED;
      case "ready_for_review" -> PullRequestEvent.Action.READY_FOR_REVIEW;
      case "converted_to_draft" -> PullRequestEvent.Action.CONVERTED_TO_DRAFT;
      case "closed" -> merged ? PullRequestEvent.Action.MERGED : PullRequestEvent.Action.CLOSED;
      default -> null; // assigned, review_requested, ...: not about the preview
    };
    return new CiEvent("github", name + " " + action + (merged && action.equals("closed") ? " (merged)" : ""), a, repo,
        number, text(pr.path("head").path("sha")), text(pr.path("head").path("ref")), text(pr.path("base").path("ref")),
        labels, pr.path("draft").asBoolean(false), fork, text(pr.path("user").path("login")));
  }

  private static CiEvent gitlab(Map<String, String> env) {
    String iid = env.get("CI_MERGE_REQUEST_IID").trim();
    int number;
    try {
      number = Integer.parseInt(iid);
    } catch (NumberFormatException e) {
      throw new ConfigurationException("CI_MERGE_REQUEST_IID: must be a merge request number, got \"" + iid + "\"");
    }
    String repo = first(env, "CI_MERGE_REQUEST_PROJECT_PATH", "CI_PROJECT_PATH");
    String sha = first(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "CI_COMMIT_SHA");
    Set<String> labels = new LinkedHashSet<>();
    String l = env.get("CI_MERGE_REQUEST_LABELS");
    if (l != null) {
      for (String s : l.split(",")) {
        if (!s.isBlank()) {
          labels.add(s.trim());
        }
      }
    }
    String source = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID");
    String target = env.get("CI_MERGE_REQUEST_PROJECT_ID");
    Boolean fork = source == null || target == null ? null : !source.trim().equals(target.trim());
    String draft = env.get("CI_MERGE_REQUEST_DRAFT");
    boolean stop = "stop".equals(env.getOrDefault("CI_ENVIRONMENT_ACTION", "").trim().toLowerCase(Locale.ROOT));
    String type = env.getOrDefault("CI_MERGE_REQUEST_EVENT_TYPE", "merge_request");
    return new CiEvent("gitlab", (stop ? "environment stop" : type + " pipeline"),
        stop ? PullRequestEvent.Action.CLOSED : PullRequestEvent.Action.UPDATED, repo, number, sha,
        blankToNull(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")), blankToNull(env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")),
        labels, draft == null ? null : Boolean.parseBoolean(draft.trim()), fork, blankToNull(env.get("GITLAB_USER_LOGIN")));
  }

  private static boolean set(Map<String, String> env, String name) {
    String v = env.get(name);
    return v != null && !v.isBlank();
  }

  private static String first(Map<String, String> env, String... names) {
    for (String n : names) {
      if (set(env, n)) {
        return env.get(n).trim();
      }
    }
    return null;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String text(JsonNode n) {
    return n == null || n.isMissingNode() || n.isNull() ? null : blankToNull(n.asText());
  }
}
