package dev.preview.spi;

import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Identifies one preview: a repository ({@code owner/name}, GitLab groups allowed:
 * {@code group/sub/name}) plus a pull request number, or a branch for branch previews.
 * Never a branch alone for a PR: branches are renamed, retargeted and reused.
 *
 * <p>{@link #id()} gives the canonical string form ({@code acme/shop#42}, {@code acme/shop@main})
 * that {@link #parse(String)} reads back; providers store it (in annotations, labels or state files)
 * so that state lives on the infrastructure.
 */
public final class PreviewKey implements Comparable<PreviewKey> {
  private static final Pattern REPOSITORY =
      Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+");
  private static final int MAX_REPOSITORY = 255;
  private static final int MAX_BRANCH = 255;

  private final String repository;
  private final int number;
  private final String branch;

  private PreviewKey(String repository, int number, String branch) {
    this.repository = repository;
    this.number = number;
    this.branch = branch;
  }

  /** The preview of pull (merge) request {@code number} in {@code repository}. */
  public static PreviewKey pr(String repository, int number) {
    checkRepository(repository);
    if (number <= 0) {
      throw new IllegalArgumentException("PR number must be positive, got " + number);
    }
    return new PreviewKey(repository, number, null);
  }

  /** The preview of a branch (for branch previews, not PRs). */
  public static PreviewKey branch(String repository, String branch) {
    checkRepository(repository);
    Objects.requireNonNull(branch, "branch");
    if (branch.isBlank() || branch.length() > MAX_BRANCH || branch.chars().anyMatch(Character::isISOControl)
        || branch.contains("..") || branch.startsWith("/") || branch.endsWith("/") || branch.contains(" ")
        || !encodable(branch)) {
      throw new IllegalArgumentException("not a valid git branch name: \"" + printable(branch) + "\"");
    }
    return new PreviewKey(repository, 0, branch);
  }

  /** Reads the form produced by {@link #id()}. */
  public static PreviewKey parse(String id) {
    Objects.requireNonNull(id, "id");
    int hash = id.lastIndexOf('#');
    int at = id.indexOf('@');
    if (at > 0 && (hash < 0 || at < hash)) {
      return branch(id.substring(0, at), id.substring(at + 1));
    }
    if (hash > 0) {
      String n = id.substring(hash + 1);
      try {
        return pr(id.substring(0, hash), Integer.parseInt(n));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a preview key: \"" + printable(id) + "\" (PR number \"" + printable(n) + "\" is not a number)");
      }
    }
    throw new IllegalArgumentException(
        "not a preview key: \"" + printable(id) + "\" (expected owner/name#42 or owner/name@branch)");
  }

  /**
   * Whether {@code s} has no lone surrogate: such text has no UTF-8 form, so it cannot be a git ref,
   * and it would not survive a round trip through a label or a JSON state file.
   */
  private static boolean encodable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static void checkRepository(String repository) {
    Objects.requireNonNull(repository, "repository");
    if (repository.length() > MAX_REPOSITORY || !REPOSITORY.matcher(repository).matches()
        || repository.contains("..")) {
      throw new IllegalArgumentException(
          "repository must look like owner/name (letters, digits, '.', '_', '-'), got \""
              + printable(repository) + "\"");
    }
  }

  private static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    StringBuilder sb = new StringBuilder();
    cut.codePoints().forEach(c -> {
      if (Character.isISOControl(c) || (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE)) {
        sb.append(String.format("\\u%04x", c));
      } else {
        sb.appendCodePoint(c);
      }
    });
    return sb.toString();
  }

  public String repository() {
    return repository;
  }

  /** The owner part of the repository (everything before the last '/'). */
  public String owner() {
    return repository.substring(0, repository.lastIndexOf('/'));
  }

  /** The repository name without its owner. */
  public String repositoryName() {
    return repository.substring(repository.lastIndexOf('/') + 1);
  }

  public boolean isPullRequest() {
    return branch == null;
  }

  /** The PR number; 0 for a branch preview. */
  public int number() {
    return number;
  }

  /** The branch of a branch preview; null for a PR preview. */
  public @Nullable String branch() {
    return branch;
  }

  /** Canonical form: {@code owner/name#42} or {@code owner/name@branch}. */
  public String id() {
    return isPullRequest() ? repository + "#" + number : repository + "@" + branch;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreviewKey k && k.number == number && k.repository.equals(repository)
        && Objects.equals(k.branch, branch);
  }

  @Override
  public int hashCode() {
    return Objects.hash(repository, number, branch);
  }

  @Override
  public int compareTo(PreviewKey o) {
    int c = repository.compareTo(o.repository);
    if (c != 0) {
      return c;
    }
    if (isPullRequest() != o.isPullRequest()) {
      return isPullRequest() ? -1 : 1;
    }
    return isPullRequest() ? Integer.compare(number, o.number) : branch.compareTo(o.branch);
  }

  @Override
  public String toString() {
    return id();
  }
}
