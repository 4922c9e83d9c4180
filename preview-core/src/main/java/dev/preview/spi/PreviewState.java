package dev.preview.spi;

/** The life of a preview as the orchestrator reports it. */
public enum PreviewState {
  /** Accepted, waiting (queued behind another run, or behind the concurrency limit). */
  PENDING,
  /**
   * Waiting for the revision's build made elsewhere: the image CI builds for this commit is not
   * there yet (the status says what it waits for). A newer push supersedes the wait.
   */
  WAITING,
  /** The revision's own source is being fetched and built (no CI needed). */
  BUILDING,
  /** Database, environment and DNS are being created or updated. */
  PROVISIONING,
  /** Healthy and reachable at its URL. */
  READY,
  /** A step failed; the status says which and why. */
  FAILED,
  /** Scaled to zero after idling; wakes on the next push. */
  SLEEPING,
  /** Being torn down. */
  DELETING,
  /** Gone. */
  DELETED;

  public boolean terminal() {
    return this == DELETED;
  }
}
