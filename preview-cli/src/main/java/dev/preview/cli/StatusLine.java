package dev.preview.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * An output stream that can show a transient status line (a spinner with elapsed times) at the
 * bottom of a terminal. Anything written through it first erases the status line, so the status
 * never mixes with real output; the status is only drawn at the start of a line. With
 * {@code enabled} false (not a terminal) it is a plain pass-through and {@link #show} does nothing.
 */
final class StatusLine extends OutputStream {
  private final PrintStream raw;
  private final boolean enabled;
  private boolean shown;
  private boolean atLineStart = true;

  StatusLine(PrintStream raw, boolean enabled) {
    this.raw = raw;
    this.enabled = enabled;
  }

  /** A print stream over this one, for everything else to write through. */
  PrintStream printStream() {
    return new PrintStream(this, true, StandardCharsets.UTF_8);
  }

  boolean enabled() {
    return enabled;
  }

  /** Draws {@code text} as the status line (replacing the previous one), if enabled and at a line start. */
  synchronized void show(String text) {
    if (!enabled || !atLineStart) {
      return;
    }
    raw.print("\r" + text + "\u001b[K");
    raw.flush();
    shown = true;
  }

  /** Erases the status line. */
  synchronized void clear() {
    if (shown) {
      raw.print("\r\u001b[K");
      raw.flush();
      shown = false;
    }
  }

  @Override
  public synchronized void write(int b) {
    clear();
    raw.write(b);
    atLineStart = b == '\n';
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    if (len == 0) {
      return;
    }
    clear();
    raw.write(b, off, len);
    atLineStart = b[off + len - 1] == '\n';
  }

  @Override
  public synchronized void flush() {
    raw.flush();
  }
}
