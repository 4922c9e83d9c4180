package dev.preview.core.policy;

/**
 * What the lifetime rules say about an existing preview at a moment.
 *
 * @param action keep it, put it to sleep (scale to zero), or delete it
 * @param reason why, for the warning log and the PR
 */
public record Verdict(Action action, String reason) {
  public enum Action { KEEP, SLEEP, EXPIRE }

  static final Verdict KEEP = new Verdict(Action.KEEP, "");
}
