package dev.preview.spi;

import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A snapshot of a pull request as the SCM reports it: everything the policy and the orchestrator
 * decide on. SCM-neutral (GitHub pull requests, GitLab merge requests).
 *
 * @param key the preview key (repository and number)
 * @param state open, closed or merged
 * @param headSha full or abbreviated hex commit id of the head (4-64 hex chars)
 * @param headRef source branch
 * @param baseRef target branch
 * @param author login of the author (may be empty when the SCM does not say)
 * @param labels labels on the PR, never null
 * @param draft whether it is a draft (GitHub) or work-in-progress (GitLab)
 * @param fromFork whether the head lives in another repository than the base
 */
public record PullRequest(
    PreviewKey key,
    State state,
    String headSha,
    String headRef,
    String baseRef,
    String author,
    Set<String> labels,
    boolean draft,
    boolean fromFork) {

  private static final Pattern SHA = Pattern.compile("[0-9a-fA-F]{4,64}");

  public enum State { OPEN, CLOSED, MERGED }

  public PullRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(headSha, "headSha");
    if (!SHA.matcher(headSha).matches()) {
      throw new IllegalArgumentException("headSha must be a hex commit id, got \"" + cut(headSha) + "\"");
    }
    headSha = headSha.toLowerCase(java.util.Locale.ROOT);
    headRef = requireText(headRef, "headRef");
    baseRef = requireText(baseRef, "baseRef");
    author = author == null ? "" : author;
    labels = labels == null ? Set.of() : Set.copyOf(new TreeSet<>(labels));
  }

  private static String requireText(String v, String name) {
    Objects.requireNonNull(v, name);
    if (v.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    return v;
  }

  private static String cut(String s) {
    return s.length() > 70 ? s.substring(0, 70) + "..." : s;
  }

  public boolean isOpen() {
    return state == State.OPEN;
  }

  /** An open PR with the given fields; a convenience for tests, CLIs and event sources. */
  public static PullRequest open(PreviewKey key, String headSha, String headRef, String baseRef) {
    return new PullRequest(key, State.OPEN, headSha, headRef, baseRef, "", Set.of(), false, false);
  }

  public PullRequest withState(State newState) {
    return new PullRequest(key, newState, headSha, headRef, baseRef, author, labels, draft, fromFork);
  }

  public PullRequest withHeadSha(String sha) {
    return new PullRequest(key, state, sha, headRef, baseRef, author, labels, draft, fromFork);
  }

  public PullRequest withLabels(Set<String> newLabels) {
    return new PullRequest(key, state, headSha, headRef, baseRef, author, newLabels, draft, fromFork);
  }

  public PullRequest withDraft(boolean isDraft) {
    return new PullRequest(key, state, headSha, headRef, baseRef, author, labels, isDraft, fromFork);
  }

  public PullRequest withFromFork(boolean fork) {
    return new PullRequest(key, state, headSha, headRef, baseRef, author, labels, draft, fork);
  }

  public PullRequest withAuthor(String login) {
    return new PullRequest(key, state, headSha, headRef, baseRef, login, labels, draft, fromFork);
  }

  public PullRequest withBaseRef(String ref) {
    return new PullRequest(key, state, headSha, headRef, ref, author, labels, draft, fromFork);
  }
}
