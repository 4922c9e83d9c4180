package dev.preview.core.console;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ScmNotifier;
import java.io.PrintStream;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * The embedded default {@link ScmNotifier}: prints the sticky status of each preview as it would
 * appear in its PR comment, and keeps one comment per key, "updated in place": a new status of the
 * same PR is printed as a new version of the same comment ({@code PR acme/shop#1 - status comment
 * (updated, version 3)}). On a terminal, when nothing else of ours was printed since, the previous
 * version is overwritten with ANSI cursor movement; elsewhere (pipes, files, CI logs) it is
 * reprinted plainly.
 *
 * <p>Publishing a status whose comment is unchanged prints nothing. A {@link PreviewStatus} holds no
 * secret; control characters in what the app printed are removed, so its log lines cannot move
 * the cursor either. Thread-safe.
 */
public final class ConsoleNotifier implements ScmNotifier {
  /** The name in config: {@code notifier.provider: console}. */
  public static final String NAME = "console";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private final PrintStream out;
  private final boolean ansi;
  private final Map<PreviewKey, Comment> comments = new HashMap<>();
  private PreviewKey lastPrinted;
  private int lastPrintedLines;

  private record Comment(String body, int version) {}

  private ConsoleNotifier(Builder b) {
    this.out = b.out;
    this.ansi = b.ansi;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A notifier printing to {@code System.out}, with ANSI only when it is a terminal. */
  public static ConsoleNotifier create() {
    return builder().build();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public synchronized void publish(PreviewStatus status) {
    String body = render(status);
    Comment old = comments.get(status.key());
    if (old != null && old.body().equals(body)) {
      return;
    }
    Comment now = new Comment(body, old == null ? 1 : old.version() + 1);
    comments.put(status.key(), now);
    List<String> lines = new ArrayList<>();
    lines.add("PR " + status.key().id() + " - status comment (" + (old == null ? "created" : "updated")
        + ", version " + now.version() + ", " + TIME.format(status.updatedAt()) + ")");
    for (String line : body.split("\n", -1)) {
      if (!line.equals(status.marker())) {
        lines.add("  | " + line);
      }
    }
    StringBuilder sb = new StringBuilder();
    if (ansi && status.key().equals(lastPrinted) && lastPrintedLines > 0) {
      // cursor to the start of our previous block, then clear to the end of the screen
      sb.append("\u001b[").append(lastPrintedLines).append("F\u001b[J");
    }
    lines.forEach(l -> sb.append(l).append(System.lineSeparator()));
    out.print(sb);
    out.flush();
    lastPrinted = status.key();
    lastPrintedLines = lines.size();
  }

  /**
   * Prints a line of other output (progress, results) on the same stream. Route such lines through
   * here so that the next update of a comment is reprinted below them rather than drawn over them.
   */
  public synchronized void println(String line) {
    out.println(line);
    out.flush();
    lastPrinted = null;
    lastPrintedLines = 0;
  }

  /** The current body of {@code key}'s comment, as the PR would show it (with its hidden marker). */
  public synchronized Optional<String> comment(PreviewKey key) {
    return Optional.ofNullable(comments.get(key)).map(Comment::body);
  }

  /** How many versions of {@code key}'s comment were printed (0 if none). */
  public synchronized int version(PreviewKey key) {
    Comment c = comments.get(key);
    return c == null ? 0 : c.version();
  }

  /** The Markdown body of the PR comment for {@code status}: its marker, then what a reviewer reads. */
  public static String render(PreviewStatus s) {
    StringJoiner b = new StringJoiner("\n");
    b.add(s.marker());
    b.add("### " + symbol(s.state()) + " Preview " + title(s.state()) + ": " + s.key().id());
    if (s.url() != null) {
      b.add("- URL: " + clean(s.url().toString()));
    }
    if (s.revision() != null) {
      b.add("- Revision: `" + shortSha(s.revision()) + "`");
    }
    if (s.database() != null) {
      b.add("- Database: `" + s.database() + "`");
    }
    if (!s.links().isEmpty()) {
      StringJoiner links = new StringJoiner(", ");
      s.links().forEach((name, uri) -> links.add("[" + clean(name) + "](" + clean(String.valueOf(uri)) + ")"));
      b.add("- Links: " + links);
    }
    if (!s.steps().isEmpty()) {
      StringJoiner steps = new StringJoiner(", ");
      s.steps().forEach((name, d) -> steps.add(clean(name) + " " + format(d)));
      b.add("- Steps: " + steps);
    }
    if (s.failedStep() != null) {
      b.add("- Failed step: " + clean(s.failedStep()));
    }
    if (!s.message().isEmpty()) {
      b.add("- " + (s.state() == PreviewState.FAILED ? "Reason" : "Note") + ": " + clean(s.message()));
    }
    if (!s.changes().isEmpty()) {
      b.add("- Changes vs main: " + clean(String.join("; ", s.changes())));
    }
    if (s.lastCommand() != null && !s.lastCommand().isBlank()) {
      b.add("- Last command: " + clean(s.lastCommand()));
    }
    if (!s.logTail().isEmpty()) {
      b.add("- Last log lines:");
      b.add("```");
      s.logTail().forEach(l -> b.add(clean(l).replace("```", "'''")));
      b.add("```");
    }
    return b.toString();
  }

  /** An emoji-free symbol of the state, readable in any terminal and font. */
  static String symbol(PreviewState state) {
    return switch (state) {
      case PENDING -> "[..]";
      case WAITING -> "[::]";
      case BUILDING -> "[##]";
      case PROVISIONING -> "[~~]";
      case READY -> "[ok]";
      case FAILED -> "[!!]";
      case SLEEPING -> "[zz]";
      case DELETING -> "[--]";
      case DELETED -> "[xx]";
    };
  }

  /** The state's own name, as every notifier shows it (lower case reads better in a title). */
  private static String title(PreviewState state) {
    return state.name().toLowerCase(java.util.Locale.ROOT);
  }

  static String shortSha(String revision) {
    return revision.length() > 7 && revision.matches("[0-9a-fA-F]+") ? revision.substring(0, 7) : clean(revision);
  }

  /** {@code 812 ms}, {@code 1.2 s}, {@code 2m 05s}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    return String.format(java.util.Locale.ROOT, "%dm %02ds", ms / 60_000, (ms / 1000) % 60);
  }

  /** Removes control characters (ANSI escapes included) from text that came from outside. */
  private static String clean(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    s.codePoints().forEach(c -> {
      if (c == '\t') {
        sb.append("  ");
      } else if (!Character.isISOControl(c)) {
        sb.appendCodePoint(c);
      }
    });
    return sb.toString();
  }

  @Override
  public String toString() {
    return "ConsoleNotifier{ansi=" + ansi + "}";
  }

  /** Builds a {@link ConsoleNotifier}. Defaults: {@code System.out}, ANSI when {@code System.console() != null}. */
  public static final class Builder {
    private PrintStream out = System.out;
    private boolean ansi = System.console() != null;

    private Builder() {}

    /** Where to print. */
    public Builder out(PrintStream out) { this.out = Objects.requireNonNull(out, "out"); return this; }

    /** Whether to overwrite the previous version with ANSI cursor movement. */
    public Builder ansi(boolean ansi) { this.ansi = ansi; return this; }

    public ConsoleNotifier build() {
      return new ConsoleNotifier(this);
    }
  }

  /**
   * Makes {@code notifier.provider: console} work (registered in
   * {@code META-INF/services/dev.preview.spi.ScmNotifier$Factory}):
   *
   * <pre>{@code
   * notifier:
   *   provider: console
   *   inPlace: auto     # auto (ANSI on a terminal), always, never
   * }</pre>
   */
  public static final class Factory implements ScmNotifier.Factory {

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public ScmNotifier create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      String inPlace = config.choice("inPlace", "auto", "auto", "always", "never");
      config.validate();
      Builder b = builder();
      if (!inPlace.equals("auto")) {
        b.ansi(inPlace.equals("always"));
      }
      return b.build();
    }
  }
}
