package dev.preview.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code target/benchmarks.md}: every figure beside its floor, measured in the same run.
 * A figure is "lower is better" (a time) or "higher is better" (a rate); the ratio is always
 * subject median / floor median, so read it with the unit.
 */
final class Report {
  /** One figure: the project's arm against its floor, with the values of every round. */
  record Figure(String benchmark, String metric, String unit, boolean higherIsBetter,
      String subject, List<Double> subjectValues, String floor, List<Double> floorValues, String goal) {
    double ratio() {
      return Interleaved.median(subjectValues) / Interleaved.median(floorValues);
    }

    /** Whether the goal holds; null when the figure has none. */
    Boolean met() {
      if (goal == null || goal.isBlank()) {
        return null;
      }
      String g = goal.replace(" ", "");
      double r = ratio();
      if (g.startsWith("<=")) {
        return r <= Double.parseDouble(g.substring(2).replace("x", ""));
      }
      if (g.startsWith(">=")) {
        return r >= Double.parseDouble(g.substring(2).replace("x", ""));
      }
      return null;
    }
  }

  private final List<Figure> figures = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final List<String> skipped = new ArrayList<>();
  private final String scale;

  Report(String scale) {
    this.scale = scale;
  }

  synchronized void add(Figure f) {
    figures.add(f);
  }

  synchronized void note(String benchmark, String line) {
    notes.add("**" + benchmark + "**: " + line);
  }

  synchronized void skipped(String benchmark, String why) {
    skipped.add("**" + benchmark + "**: " + why);
  }

  synchronized List<Figure> figures() {
    return List.copyOf(figures);
  }

  synchronized String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# preview benchmarks\n\n");
    b.append("Generated ").append(Instant.now()).append(" by `mvn -B -pl preview-benchmarks -am verify -Pbench` (")
        .append(scale).append("), ").append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
        .append(System.getProperty("java.version")).append(".\n\n");
    b.append("Each figure is measured beside its floor in the same run, interleaved (A, B, A, B...), after warm-up rounds;"
        + " median and min (for rates: median and the worst round) over the rounds; ratio = median / floor median.\n\n");
    String current = null;
    for (Figure f : figures) {
      if (!f.benchmark().equals(current)) {
        current = f.benchmark();
        b.append("## ").append(current).append("\n\n");
        b.append("| figure | unit | subject | median | ").append(f.higherIsBetter() ? "worst" : "min")
            .append(" | floor | median | ").append(f.higherIsBetter() ? "worst" : "min").append(" | ratio | goal | rounds |\n");
        b.append("|---|---|---|---:|---:|---|---:|---:|---:|---|---:|\n");
      }
      List<Double> s = f.subjectValues();
      List<Double> fl = f.floorValues();
      Boolean met = f.met();
      b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %.2fx | %s | %d |%n",
          f.metric(), f.unit(), f.subject(), num(Interleaved.median(s)), num(f.higherIsBetter() ? Interleaved.min(s) : Interleaved.min(s)),
          f.floor(), num(Interleaved.median(fl)), num(Interleaved.min(fl)), f.ratio(),
          f.goal() == null ? "" : f.goal() + (met == null ? "" : met ? " (met)" : " (**not met**)"), s.size()));
    }
    if (!notes.isEmpty()) {
      b.append("\n## Notes\n\n");
      notes.forEach(n -> b.append("- ").append(n).append('\n'));
    }
    if (!skipped.isEmpty()) {
      b.append("\n## Not measured in this run\n\n");
      skipped.forEach(n -> b.append("- ").append(n).append('\n'));
    }
    return b.toString();
  }

  private static String num(double d) {
    if (Double.isNaN(d)) {
      return "-";
    }
    if (Math.abs(d) >= 100) {
      return String.format(Locale.ROOT, "%,.0f", d);
    }
    if (Math.abs(d) >= 10) {
      return String.format(Locale.ROOT, "%.1f", d);
    }
    return String.format(Locale.ROOT, "%.3f", d);
  }

  Path write(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, markdown());
    return file;
  }
}
