package dev.preview.scm.internal;

import dev.preview.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the independent parts of one status update (comment, deployment or environment, commit
 * status) so that one failing does not keep the others from being tried; {@link #throwIfAnyFailed()}
 * then throws the first {@link ProviderException} with the later ones suppressed. Not thread-safe:
 * one instance per update.
 */
public final class IndependentSteps {
  private final List<ProviderException> failures = new ArrayList<>();

  /** Runs {@code step}, remembering a {@link ProviderException} instead of throwing it. */
  public void run(Runnable step) {
    try {
      step.run();
    } catch (ProviderException e) {
      failures.add(e);
    }
  }

  /** Throws the first remembered failure, the others suppressed in it; returns if none failed. */
  public void throwIfAnyFailed() {
    if (failures.isEmpty()) {
      return;
    }
    ProviderException first = failures.get(0);
    failures.subList(1, failures.size()).forEach(first::addSuppressed);
    throw first;
  }
}
