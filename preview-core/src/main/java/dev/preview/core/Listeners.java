package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PreviewListener}s of one orchestrator: calls each, logs and ignores one that throws.
 * Messages and failures handed to listeners are {@linkplain Redaction redacted} first (a listener is
 * often a log or an audit trail). Also carries the orchestrator's {@link Redaction}, so every part
 * that reports something redacts with the same secrets. Immutable and thread-safe; listeners are
 * called on the caller's thread.
 */
final class Listeners {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final List<PreviewListener> listeners;
  private final Redaction redaction;

  Listeners(List<PreviewListener> listeners) {
    this(listeners, new Redaction(dev.preview.spi.Redactor.none()));
  }

  Listeners(List<PreviewListener> listeners, Redaction redaction) {
    this.listeners = List.copyOf(listeners);
    this.redaction = redaction;
  }

  /** The secrets of this orchestrator, for every message it writes. */
  Redaction redaction() {
    return redaction;
  }

  void fire(Consumer<PreviewListener> call) {
    for (PreviewListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        log.warn("listener {} threw {}", l, redaction.exception(e).toString());
      }
    }
  }

  void transition(PreviewKey key, PreviewState state, String message) {
    String m = redaction.text(message);
    fire(l -> l.onTransition(key, state, m));
  }

  void stepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
    Throwable f = failure == null ? null : redaction.exception(failure);
    fire(l -> l.onStepFinished(key, step, took, f));
  }

  void reclaimed(PreviewKey key, String what, String reason) {
    String r = redaction.text(reason);
    fire(l -> l.onReclaimed(key, what, r));
  }

  void statusPublish(PreviewKey key, PreviewState state, PreviewListener.StatusOutcome outcome) {
    fire(l -> l.onStatusPublish(key, state, outcome));
  }
}
