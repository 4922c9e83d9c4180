package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PreviewListener}s of one orchestrator: calls each, logs and ignores one that throws.
 * Immutable and thread-safe; listeners are called on the caller's thread.
 */
final class Listeners {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final List<PreviewListener> listeners;

  Listeners(List<PreviewListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  void fire(Consumer<PreviewListener> call) {
    for (PreviewListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        log.warn("listener {} threw {}", l, e.toString());
      }
    }
  }

  void transition(PreviewKey key, PreviewState state, String message) {
    fire(l -> l.onTransition(key, state, message));
  }
}
