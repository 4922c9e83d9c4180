package dev.preview.scm;

import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * Renders the one sticky comment of a preview as Markdown (GitHub and GitLab both render it). The
 * first line is the hidden {@link PreviewStatus#marker() marker}; notifiers find their comment by a
 * body that <em>starts</em> with it, so a human quoting the comment ("> ...") is never mistaken for it.
 *
 * <p>Text from outside (messages, log lines) is fenced or escaped so that it cannot close the table,
 * open HTML or forge a second marker.
 */
public final class StatusComment {
  /** GitHub refuses comments above 65,536 characters; GitLab notes allow 1,000,000. Stay well below. */
  static final int MAX_LOG_LINES = 30;
  static final int MAX_LINE = 300;
  static final int MAX_MESSAGE = 1_000;
  static final int MAX_CHANGES = 10;

  private StatusComment() {}

  /** Whether {@code body} is our sticky comment for the preview of {@code status}. */
  public static boolean isOurs(String body, String marker) {
    return body != null && body.startsWith(marker);
  }

  public static String render(PreviewStatus s) {
    StringBuilder b = new StringBuilder(512);
    b.append(s.marker()).append('\n');
    b.append("### ").append(icon(s.state())).append(" Preview ").append(headline(s.state())).append("\n\n");
    b.append("| | |\n|---|---|\n");
    row(b, "State", "`" + s.state() + "`");
    if (s.url() != null) {
      row(b, "URL", link(s.url().toString(), s.url()));
    }
    if (s.revision() != null) {
      row(b, "Revision", "`" + inline(shortSha(s.revision())) + "`");
    }
    if (s.database() != null) {
      row(b, "Database", "`" + inline(s.database()) + "`");
    }
    if (!s.links().isEmpty()) {
      StringBuilder l = new StringBuilder();
      for (Map.Entry<String, URI> e : s.links().entrySet()) {
        l.append(l.length() > 0 ? " · " : "").append(link(e.getKey(), e.getValue()));
      }
      row(b, "Links", l.toString());
    }
    if (s.state() == PreviewState.FAILED && s.failedStep() != null) {
      row(b, "Failed step", "`" + inline(s.failedStep()) + "`");
    }
    if (!s.message().isEmpty()) {
      row(b, s.state() == PreviewState.FAILED ? "Reason" : "Note", inline(cut(s.message(), MAX_MESSAGE)));
    }
    if (!s.steps().isEmpty()) {
      StringBuilder t = new StringBuilder();
      Duration total = Duration.ZERO;
      for (Map.Entry<String, Duration> e : s.steps().entrySet()) {
        t.append(t.length() > 0 ? " · " : "").append(inline(e.getKey())).append(' ').append(seconds(e.getValue()));
        total = total.plus(e.getValue());
      }
      row(b, "Timings", t + " (total " + seconds(total) + ")");
    }
    if (!s.changes().isEmpty()) {
      StringBuilder c = new StringBuilder();
      for (String line : s.changes().subList(0, Math.min(MAX_CHANGES, s.changes().size()))) {
        c.append(c.length() > 0 ? "<br>" : "").append(inline(cut(line, MAX_LINE)));
      }
      row(b, "Changes vs main", c.toString());
    }
    if (s.lastCommand() != null && !s.lastCommand().isBlank()) {
      row(b, "Last command", inline(cut(s.lastCommand(), MAX_LINE)));
    }
    row(b, "Updated", DateTimeFormatter.ISO_INSTANT.format(s.updatedAt().truncatedTo(ChronoUnit.SECONDS)));
    if (s.state() == PreviewState.FAILED && !s.logTail().isEmpty()) {
      b.append("\n<details><summary>Last log lines</summary>\n\n");
      List<String> lines = s.logTail();
      List<String> tail = lines.subList(Math.max(0, lines.size() - MAX_LOG_LINES), lines.size());
      StringBuilder logs = new StringBuilder();
      for (String line : tail) {
        logs.append(cut(line.replace("\r", ""), MAX_LINE)).append('\n');
      }
      String fence = fence(logs);
      b.append(fence).append("text\n").append(neutralise(logs.toString())).append(fence).append("\n\n</details>\n");
    }
    return b.toString();
  }

  private static void row(StringBuilder b, String name, String value) {
    b.append("| **").append(name).append("** | ").append(value).append(" |\n");
  }

  private static String link(String text, URI uri) {
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
      return "`" + inline(text) + "`";
    }
    return "[" + inline(text).replace("[", "\\[").replace("]", "\\]") + "](" + uri.toASCIIString().replace(")", "%29") + ")";
  }

  /** Text inside a table cell: one line, no pipes, no HTML, no marker. */
  static String inline(String s) {
    return neutralise(s.replaceAll("[\\r\\n]+", " "))
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("`", "'");
  }

  /** Breaks any copy of a marker so a log line cannot forge another preview's comment. */
  private static String neutralise(String s) {
    return s.replace("<!--", "<!‐‐");
  }

  /** A code fence longer than any run of backticks in the content. */
  private static String fence(CharSequence content) {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < content.length(); i++) {
      run = content.charAt(i) == '`' ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    return "`".repeat(Math.max(3, longest + 1));
  }

  private static String cut(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "…" : s;
  }

  private static String shortSha(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) : sha;
  }

  private static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private static String icon(PreviewState state) {
    return switch (state) {
      case PENDING, WAITING -> "⏳";
      case BUILDING -> "🔨";
      case PROVISIONING -> "🚧";
      case READY -> "✅";
      case FAILED -> "❌";
      case SLEEPING -> "💤";
      case DELETING, DELETED -> "🗑️";
    };
  }

  private static String headline(PreviewState state) {
    return switch (state) {
      case PENDING -> "pending";
      case WAITING -> "waiting for its build";
      case BUILDING -> "building";
      case PROVISIONING -> "deploying";
      case READY -> "ready";
      case FAILED -> "failed";
      case SLEEPING -> "sleeping";
      case DELETING -> "being deleted";
      case DELETED -> "deleted";
    };
  }
}
