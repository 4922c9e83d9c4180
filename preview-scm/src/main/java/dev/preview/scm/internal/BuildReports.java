package dev.preview.scm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.spi.BuildEvent;
import dev.preview.spi.BuildEvent.Conclusion;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/** Maps the CI words of GitHub and GitLab onto {@link Conclusion}. Stateless. */
public final class BuildReports {
  private BuildReports() {}

  private static final Set<String> GITHUB_GOOD = Set.of("success", "neutral");
  private static final Set<String> GITLAB_BAD = Set.of("failed", "canceled", "cancelled", "skipped");

  /**
   * A GitHub check run, check suite or workflow run: pending until its {@code status} is
   * {@code completed}; then {@code success} and {@code neutral} are SUCCESS, every other
   * conclusion (failure, cancelled, timed_out, action_required, skipped, stale...) FAILURE.
   */
  public static Conclusion github(String status, String conclusion) {
    if (!"completed".equals(status)) {
      return Conclusion.PENDING;
    }
    return GITHUB_GOOD.contains(lower(conclusion)) ? Conclusion.SUCCESS : Conclusion.FAILURE;
  }

  /** A GitHub commit status: success, failure or error (FAILURE), pending. */
  public static Conclusion githubStatus(String state) {
    return switch (lower(state)) {
      case "success" -> Conclusion.SUCCESS;
      case "failure", "error" -> Conclusion.FAILURE;
      default -> Conclusion.PENDING;
    };
  }

  /** A GitLab pipeline or job status: success; failed, canceled, skipped (FAILURE); anything else is still under way. */
  public static Conclusion gitlab(String status) {
    String s = lower(status);
    if (s.equals("success")) {
      return Conclusion.SUCCESS;
    }
    return GITLAB_BAD.contains(s) ? Conclusion.FAILURE : Conclusion.PENDING;
  }

  /** A link from the payload, if it is an http(s) URL. */
  public static URI link(JsonNode node) {
    return node == null || !node.isTextual() ? null : link(node.asText());
  }

  /** {@code url} as a link, if it is an http(s) URL. */
  public static URI link(String url) {
    try {
      URI u = URI.create(url);
      return "https".equals(u.getScheme()) || "http".equals(u.getScheme()) ? u : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** A SHA as the payload has it, checked (40 or 64 hex digits), lower case. */
  public static String sha(JsonNode root, String path) {
    String sha = Json.text(root, path).toLowerCase(Locale.ROOT);
    if (!sha.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
      throw new IllegalArgumentException(path + " is not a commit SHA: " + abbreviate(sha));
    }
    return sha;
  }

  public static BuildEvent event(String repository, String sha, String name, Conclusion c, String detail, URI url,
      String delivery) {
    return new BuildEvent(repository, sha, name, c, detail, url, delivery);
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
