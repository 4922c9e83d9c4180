package dev.preview.core;

import dev.preview.spi.PreviewKey;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What the orchestrator made of a {@link dev.preview.spi.BuildEvent}: the waiting previews it
 * moved on (deployed on a success, FAILED on a failure), or, if none, why it was ignored.
 *
 * @param runs the runs it started, by key: each future completes with the preview's outcome
 * @param message what happened, for the webhook's answer and the logs ("ignored: ..." when nothing did)
 */
public record BuildEventResult(Map<PreviewKey, CompletableFuture<Preview>> runs, String message) {
  public BuildEventResult {
    runs = Map.copyOf(runs);
    Objects.requireNonNull(message, "message");
  }

  static BuildEventResult ignored(String reason) {
    return new BuildEventResult(Map.of(), reason);
  }

  /** Whether the event moved no preview. */
  public boolean ignored() {
    return runs.isEmpty();
  }
}
