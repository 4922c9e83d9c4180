package dev.preview.core;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What an operator may do to a preview, whoever asks (the dashboard, a PR comment command, code):
 * extend its expiry, pin or unpin it, redeploy its PR's head, put it to sleep or wake it, stop it.
 * On top of the orchestrator's public API: extend and pin change lifecycle labels on the
 * infrastructure ({@link PreviewOrchestrator#relabel}), so a restarted server and every replica see
 * them, and a deploy of the same preview running at that moment does not undo them (the orchestrator
 * merges them in again when it ends); the others run as ops of the preview's key, one at a time with
 * its deploys.
 *
 * <p>Each method checks what it can first and answers a {@link Result} with a sentence for a human;
 * it never throws for a refused action. Who asked is the caller's business (it logs it).
 * Thread-safe.
 */
public final class PreviewActions {
  /** One extension adds at most this much (a typo such as {@code extend 4800h} is refused). */
  public static final Duration MAX_EXTENSION = Duration.ofDays(30);

  private final PreviewOrchestrator orchestrator;
  private final PreviewPolicy policy;
  private final Clock clock;

  private PreviewActions(PreviewOrchestrator orchestrator, PreviewPolicy policy, Clock clock) {
    this.orchestrator = Objects.requireNonNull(orchestrator, "orchestrator");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The actions on {@code orchestrator}'s previews, under the {@code policy} it runs with. */
  public static PreviewActions of(PreviewOrchestrator orchestrator, PreviewPolicy policy, Clock clock) {
    return new PreviewActions(orchestrator, policy, clock);
  }

  /**
   * What an action did.
   *
   * @param done whether it was carried out (or started, for the asynchronous ones)
   * @param message one sentence for a human: what changed, or why not
   * @param run the op it started (redeploy, sleep, wake, stop), or null
   */
  public record Result(boolean done, String message, CompletableFuture<Preview> run) {
    static Result refused(String message) {
      return new Result(false, message, null);
    }

    static Result done(String message) {
      return new Result(true, message, null);
    }
  }

  public PreviewOrchestrator orchestrator() {
    return orchestrator;
  }

  /**
   * Moves the expiry of {@code key}'s preview {@code by} later: from its current expiry, or from now
   * if that has passed. Needs {@code policy.ttl} (without one, previews do not expire by date).
   */
  public Result extend(PreviewKey key, Duration by) {
    if (by == null || by.isNegative() || by.isZero()) {
      return Result.refused("an extension must be longer than zero, e.g. 24h");
    }
    if (by.compareTo(MAX_EXTENSION) > 0) {
      return Result.refused("an extension adds at most " + MAX_EXTENSION.toDays() + " days at a time, not " + human(by));
    }
    if (policy.ttl() == null) {
      return Result.refused("previews here do not expire by date (policy.ttl is not set), so there is nothing to extend");
    }
    Optional<Preview> current = orchestrator.get(key);
    if (current.isEmpty()) {
      return Result.refused("there is no preview of " + key + " to extend");
    }
    if (!orchestrator.supportsRelabel()) {
      return Result.refused("the environment provider cannot change a running preview's expiry");
    }
    Instant now = clock.instant();
    Instant from = current.get().expires() != null && current.get().expires().isAfter(now) ? current.get().expires() : now;
    Instant until = from.plus(by).truncatedTo(ChronoUnit.SECONDS);
    Optional<Preview> after = orchestrator.relabel(key, Map.of(Labels.EXPIRES, until.toString()));
    if (after.isEmpty()) {
      return Result.refused("the preview of " + key + " is gone");
    }
    return Result.done("extended by " + human(by) + ": expires " + until);
  }

  /** Pins {@code key}'s preview: no TTL, idle timeout or sleep applies until it is unpinned. Idempotent. */
  public Result pin(PreviewKey key) {
    return pinned(key, true);
  }

  /** Removes an operator's pin; a pin label on the PR still pins. Idempotent. */
  public Result unpin(PreviewKey key) {
    return pinned(key, false);
  }

  private Result pinned(PreviewKey key, boolean pin) {
    Optional<Preview> current = orchestrator.get(key);
    if (current.isEmpty()) {
      return Result.refused("there is no preview of " + key + " to " + (pin ? "pin" : "unpin"));
    }
    if (!orchestrator.supportsRelabel()) {
      return Result.refused("the environment provider cannot change a running preview's labels");
    }
    Optional<Preview> after = orchestrator.relabel(key, Map.of(Labels.PINNED, pin ? PreviewPolicy.PINNED_BY_OPERATOR : ""));
    if (after.isEmpty()) {
      return Result.refused("the preview of " + key + " is gone");
    }
    if (pin) {
      return Result.done("pinned: it stays until unpinned");
    }
    return Result.done(policy.pinLabel() == null ? "unpinned"
        : "unpinned (a \"" + policy.pinLabel() + "\" label on the PR still pins it)");
  }

  /** Deploys the PR's head again, as the SCM has it now. */
  public Result redeploy(PreviewKey key) {
    try {
      return new Result(true, "redeploying the PR's head", orchestrator.redeploy(key));
    } catch (IllegalStateException e) {
      return Result.refused(e.getMessage());
    }
  }

  /** Deploys the PR (same as {@link #redeploy}; a preview that does not exist yet is created). */
  public Result deploy(PreviewKey key) {
    return redeploy(key);
  }

  /** Tears the preview down (its PR stays open; the next push deploys it again). */
  public Result stop(PreviewKey key, String reason) {
    if (orchestrator.get(key).isEmpty()) {
      return Result.done("there is no preview of " + key + " (nothing to stop)");
    }
    return new Result(true, "stopping the preview", orchestrator.teardown(key, reason));
  }

  /** Scales the preview to zero; a push, a visit through the gateway or {@link #wake} starts it again. */
  public Result sleep(PreviewKey key) {
    Optional<Preview> current = orchestrator.get(key);
    if (current.isEmpty()) {
      return Result.refused("there is no preview of " + key + " to put to sleep");
    }
    if (current.get().state() == PreviewState.SLEEPING) {
      return Result.done("already asleep");
    }
    if (!orchestrator.supportsSleep()) {
      return Result.refused("the environment provider cannot put previews to sleep");
    }
    return new Result(true, "putting it to sleep", orchestrator.sleep(key, "put to sleep by an operator"));
  }

  /**
   * Starts a sleeping preview again: resumed where the environment provider can, else by deploying its
   * PR's head again ({@link PreviewOrchestrator#wake}); one wake however many ask at once. When the
   * preview has work running or pending, that work starts it and nothing more is queued.
   */
  public Result wake(PreviewKey key) {
    Optional<Preview> current = orchestrator.get(key);
    if (current.isEmpty()) {
      return Result.refused("there is no preview of " + key + " to wake");
    }
    if (current.get().state() != PreviewState.SLEEPING) {
      return Result.done("it is not asleep");
    }
    return orchestrator.wake(key, "woken by an operator")
        .map(run -> new Result(true, "waking it up", run))
        .orElseGet(() -> Result.done("it has work running or queued, which starts it"));
  }

  static String human(Duration d) {
    if (d.toMinutes() % (24 * 60) == 0 && d.toDays() > 0) {
      return d.toDays() + "d";
    }
    if (d.toSeconds() % 3600 == 0) {
      return d.toHours() + "h";
    }
    if (d.toSeconds() % 60 == 0) {
      return d.toMinutes() + "m";
    }
    return d.toSeconds() + "s";
  }
}
