package dev.preview.scm.internal;

import java.util.Map;

/**
 * Which commit statuses are worth posting. GitHub keeps at most 1,000 statuses per SHA and context,
 * and a burst of events (labels, redeliveries, redeploys of one commit) must not spend them: per
 * SHA, a state is posted once, and again only to correct a different final state posted since (a
 * success after a failure, say). A new description alone is never re-posted.
 *
 * <p>The memory is a map {@code key@sha -> "posted states;last state"} owned by the notifier;
 * callers serialise per key.
 */
public final class CommitStatuses {
  private CommitStatuses() {}

  public static boolean worthPosting(Map<String, String> memory, String statusKey, String state) {
    String m = memory.get(statusKey);
    if (m == null) {
      return true;
    }
    int semi = m.indexOf(';');
    String last = m.substring(semi + 1);
    if (state.equals(last)) {
      return false;
    }
    boolean seen = (" " + m.substring(0, semi) + " ").contains(" " + state + " ");
    boolean terminal = !state.equals("pending") && !state.equals("running");
    // a state seen before is posted again only if it is a final one correcting another final one
    return !seen || terminal && !last.equals("pending") && !last.equals("running");
  }

  public static void posted(Map<String, String> memory, String statusKey, String state) {
    memory.compute(statusKey, (k, m) -> {
      String states = m == null ? "" : m.substring(0, m.indexOf(';'));
      if (!(" " + states + " ").contains(" " + state + " ")) {
        states = states.isEmpty() ? state : states + " " + state;
      }
      return states + ";" + state;
    });
  }
}
