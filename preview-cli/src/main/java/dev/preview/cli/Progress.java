package dev.preview.cli;

import dev.preview.core.PreviewListener;
import dev.preview.core.console.ConsoleNotifier;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Prints what the orchestrator does as it happens: each step with its timing when it ends, and each
 * state change. On a terminal, a status line below shows the steps still running with a spinner and
 * their elapsed time; elsewhere (pipes, CI logs) only the finished lines are printed.
 */
public final class Progress implements PreviewListener, AutoCloseable {
  private static final String SPINNER = "|/-\\";

  private final Consumer<String> lines;
  private final StatusLine status;
  private final Map<String, Long> running = new ConcurrentSkipListMap<>();
  private final ScheduledExecutorService ticker;
  private int tick;

  /**
   * @param lines where finished lines go (one call per line)
   * @param status the status line to draw the spinner on, or null for none
   */
  Progress(Consumer<String> lines, StatusLine status) {
    this.lines = lines;
    this.status = status;
    if (status != null && status.enabled()) {
      ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "preview-progress");
        t.setDaemon(true);
        return t;
      });
      ticker.scheduleAtFixedRate(this::draw, 100, 100, TimeUnit.MILLISECONDS);
    } else {
      ticker = null;
    }
  }

  /** Progress without a spinner, printing lines to {@code lines}. */
  public static Progress plain(Consumer<String> lines) {
    return new Progress(lines, null);
  }

  @Override
  public void onStepStarted(PreviewKey key, String step) {
    running.put(key.id() + " " + step, System.nanoTime());
  }

  @Override
  public void onStepFinished(PreviewKey key, String step, Duration took, Throwable failure) {
    running.remove(key.id() + " " + step);
    String line = String.format(Locale.ROOT, "  [%s] %-22s %9s", key.id(), step, ConsoleNotifier.format(took));
    if (failure != null) {
      line += "  FAILED: " + firstLine(failure.getMessage());
    }
    lines.accept(line);
  }

  @Override
  public void onTransition(PreviewKey key, PreviewState state, String message) {
    String m = message == null || message.isBlank() ? "" : " " + firstLine(message);
    lines.accept("  [" + key.id() + "] -> " + state + m);
  }

  @Override
  public void onSuperseded(PreviewKey key, String revision) {
    lines.accept("  [" + key.id() + "] run of " + revision + " superseded by a newer push");
  }

  @Override
  public void onReclaimed(PreviewKey key, String what, String reason) {
    lines.accept("  [" + key.id() + "] reclaim " + what + ": " + reason);
  }

  private void draw() {
    if (running.isEmpty()) {
      status.clear();
      return;
    }
    long now = System.nanoTime();
    StringJoiner j = new StringJoiner(", ", "  " + SPINNER.charAt(tick++ % SPINNER.length()) + " ", "");
    running.forEach((what, t0) -> j.add(what + " " + ConsoleNotifier.format(Duration.ofNanos(now - t0))));
    status.show(j.toString());
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl) + " ...";
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
      status.clear();
    }
  }
}
