package dev.preview.cli;

import dev.preview.core.assembly.PreviewConfig;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * The facts of a pull request that {@code up} and {@code ci} deploy: each flag wins over the CI's
 * event ({@link CiEvent}), which wins over the defaults.
 */
final class PrOptions {
  /** What {@link PullRequest} accepts as a head commit id. */
  static final Pattern SHA = Pattern.compile("[0-9a-fA-F]{4,64}");

  @Option(names = "--repo", paramLabel = "OWNER/NAME", description = "the repository (default: the CI's, else repository in the config)")
  String repo;
  @Option(names = "--pr", paramLabel = "N", description = "the pull request number (default: the CI's)")
  Integer pr;
  @Option(names = "--sha", paramLabel = "SHA", description = "the head commit to deploy, 4 to 64 hex digits (default: the CI's)")
  String sha;
  @Option(names = "--label", paramLabel = "LABEL", description = "a label on the PR (repeatable), e.g. flag:new-checkout;"
      + " replaces the CI's labels")
  List<String> labels = new ArrayList<>();
  @Option(names = "--branch", paramLabel = "BRANCH", description = "the head branch (default: the CI's, else pr-<N>)")
  String branch;
  @Option(names = "--base", paramLabel = "BRANCH", description = "the target branch (default: the CI's, else main)")
  String base;
  @Option(names = "--draft", negatable = true, description = "the PR is (--no-draft: is not) a draft (default: the CI's, else not)")
  Boolean draft;
  @Option(names = "--fork", negatable = true, description = "the PR comes (--no-fork: does not come) from a fork,"
      + " so policy.forks applies (default: the CI's, else not)")
  Boolean fork;
  @Option(names = "--image", paramLabel = "IMAGE", description = "the image to run instead of app.image; may be a"
      + " template like it, e.g. ghcr.io/acme/shop:{sha} (placeholders: sha, shortSha, number, branch, repo, owner)")
  String image;

  @Option(names = "--dotenv", paramLabel = "FILE", description = "write PREVIEW_URL=<url> and PREVIEW_STATE=<state> to FILE"
      + " (for GitLab's artifacts:reports:dotenv and environment:url)")
  Path dotenv;

  /** The pull request to deploy; every missing or bad fact is reported at once, named. */
  PullRequest request(PreviewConfig config, CiEvent ci) {
    List<String> problems = new ArrayList<>();
    PreviewKey key = null;
    try {
      key = key(config, config.source() == null ? Path.of(PreviewCli.ConfigOption.DEFAULT) : Path.of(config.source()), repo, pr, ci);
    } catch (ConfigurationException e) {
      problems.addAll(e.problems());
    }
    String headSha = sha != null ? sha : ci == null ? null : ci.sha();
    String shaSource = sha != null || ci == null ? "--sha" : ci.ci().equals("github")
        ? "GITHUB_EVENT_PATH pull_request.head.sha" : "CI_COMMIT_SHA";
    if (headSha == null) {
      problems.add("--sha: is required (the head commit to deploy, 4 to 64 hex digits, e.g. $(git rev-parse HEAD))");
    } else if (!SHA.matcher(headSha).matches()) {
      problems.add(shaSource + ": must be a commit id of 4 to 64 hex digits (0-9, a-f), e.g. the 40 of"
          + " git rev-parse HEAD; got \"" + cut(headSha) + "\" (" + headSha.length() + " character"
          + (headSha.length() == 1 ? "" : "s") + ")");
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    String head = branch != null ? branch : ci != null && ci.headRef() != null ? ci.headRef() : "pr-" + key.number();
    String target = base != null ? base : ci != null && ci.baseRef() != null ? ci.baseRef() : "main";
    Set<String> prLabels = !labels.isEmpty() || ci == null ? new LinkedHashSet<>(labels) : ci.labels();
    boolean isDraft = draft != null ? draft : ci != null && Boolean.TRUE.equals(ci.draft());
    boolean fromFork = fork != null ? fork : ci != null && Boolean.TRUE.equals(ci.fork());
    try {
      PullRequest r = PullRequest.open(key, headSha, head, target).withLabels(prLabels).withDraft(isDraft)
          .withFromFork(fromFork);
      return ci != null && ci.author() != null ? r.withAuthor(ci.author()) : r;
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("--branch/--base: " + e.getMessage());
    }
  }

  /** The preview key: {@code --repo}/{@code --pr}, else the CI's, else the config's repository. */
  static PreviewKey key(PreviewConfig config, Path file, String repo, Integer pr, CiEvent ci) {
    List<String> problems = new ArrayList<>();
    String repository = repo != null ? repo : ci != null && ci.repository() != null ? ci.repository()
        : config.repository().orElse(null);
    Integer number = pr != null ? pr : ci == null ? null : ci.number();
    if (repository == null) {
      problems.add("--repo: is required (or set repository: owner/name in " + file + ")");
    }
    if (number == null) {
      problems.add("--pr: is required outside a CI (in GitHub Actions and GitLab CI it comes from the event)");
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    try {
      return PreviewKey.pr(repository, number);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("--repo/--pr: " + e.getMessage());
    }
  }

  private static String cut(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
