package dev.preview.spi;

import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Something happened to a pull request: the SCM-neutral form of a GitHub or GitLab webhook, or of a
 * CI step's report. Carries the PR as it is after the event.
 *
 * @param action what happened
 * @param pullRequest the PR after the event
 * @param deliveryId the SCM's delivery id, for de-duplication; may be null (CLI, CI)
 */
public record PullRequestEvent(Action action, PullRequest pullRequest, @Nullable String deliveryId) {

  /** What happened to the PR. */
  public enum Action {
    OPENED, UPDATED, REOPENED, CLOSED, MERGED, LABELED, UNLABELED, READY_FOR_REVIEW, CONVERTED_TO_DRAFT,
    /** The target branch changed. */
    RETARGETED;

    /** Whether the PR is gone after this action. */
    public boolean ends() {
      return this == CLOSED || this == MERGED;
    }
  }

  public PullRequestEvent {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(pullRequest, "pullRequest");
    if (action.ends() && pullRequest.isOpen()) {
      pullRequest = pullRequest.withState(action == Action.MERGED ? PullRequest.State.MERGED : PullRequest.State.CLOSED);
    }
    if (!action.ends() && !pullRequest.isOpen()) {
      throw new IllegalArgumentException(action + " event for a PR that is " + pullRequest.state());
    }
  }

  public static PullRequestEvent of(Action action, PullRequest pr) {
    return new PullRequestEvent(action, pr, null);
  }

  public PreviewKey key() {
    return pullRequest.key();
  }

  public String headSha() {
    return pullRequest.headSha();
  }

  public String headRef() {
    return pullRequest.headRef();
  }

  public String baseRef() {
    return pullRequest.baseRef();
  }

  public String author() {
    return pullRequest.author();
  }

  public Set<String> labels() {
    return pullRequest.labels();
  }

  public boolean draft() {
    return pullRequest.draft();
  }

  public boolean fromFork() {
    return pullRequest.fromFork();
  }
}
