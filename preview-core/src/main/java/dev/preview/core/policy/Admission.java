package dev.preview.core.policy;

import java.util.Objects;

/**
 * The policy's answer for one PR.
 *
 * @param decision deploy, skip (no preview; an existing one is torn down) or queue (wait for a slot)
 * @param reason a sentence for the PR and the logs; empty for a plain deploy
 * @param secretsAllowed whether the app may receive secrets (false for fork PRs unless configured)
 */
public record Admission(Decision decision, String reason, boolean secretsAllowed) {
  public enum Decision { DEPLOY, SKIP, QUEUE }

  public Admission {
    Objects.requireNonNull(decision, "decision");
    reason = reason == null ? "" : reason;
  }

  static Admission deploy(boolean secrets, String reason) {
    return new Admission(Decision.DEPLOY, reason, secrets);
  }

  static Admission skip(String reason) {
    return new Admission(Decision.SKIP, reason, false);
  }

  static Admission queue(String reason) {
    return new Admission(Decision.QUEUE, reason, false);
  }
}
