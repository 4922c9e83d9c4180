package dev.preview.core;

import dev.preview.spi.Redactor;
import dev.preview.spi.Secret;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * The secrets one orchestrator knows, as one {@link Redactor}: the installation's (tokens and
 * passwords of the config), the app's secrets, and every preview's database password once its
 * database step has returned it. Every string the orchestrator hands to a PR, a log or a listener
 * goes through {@link #text}, {@link #lines} or {@link #exception}.
 *
 * <p>Only grows: a password that belonged to a preview torn down meanwhile is still removed (a
 * harmless cost of a few bytes per preview). Thread-safe.
 */
final class Redaction {
  private final AtomicReference<Redactor> current;

  Redaction(Redactor initial) {
    this.current = new AtomicReference<>(initial);
  }

  /** Adds secret env vars (values and names). */
  void learn(Map<String, Secret> secrets) {
    if (secrets == null || secrets.isEmpty()) {
      return;
    }
    Redactor more = Redactor.of(secrets);
    current.updateAndGet(r -> r.plus(more));
  }

  Redactor redactor() {
    return current.get();
  }

  @Nullable String text(@Nullable String s) {
    return current.get().redact(s);
  }

  List<String> lines(List<String> lines) {
    return lines == null ? List.of() : current.get().redact(lines);
  }

  Throwable exception(Throwable t) {
    return current.get().redact(t);
  }
}
