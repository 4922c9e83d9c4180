package dev.preview.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs several arms of one benchmark in the same JVM, interleaved: warm-up rounds of every arm
 * first (not kept), then round after round of A, B, A, B... (the order alternating per round, so
 * neither arm always runs right after the other's garbage), one value per arm and round.
 */
final class Interleaved {
  /** One measured round of an arm: returns the figure of that round (ms, ns/op, records/s...). */
  @FunctionalInterface
  interface Arm {
    double round() throws Exception;
  }

  private Interleaved() {}

  static Map<String, List<Double>> run(int warmup, int rounds, Map<String, Arm> arms) throws Exception {
    List<String> names = new ArrayList<>(arms.keySet());
    Map<String, List<Double>> out = new LinkedHashMap<>();
    names.forEach(n -> out.put(n, new ArrayList<>()));
    for (int w = 0; w < warmup; w++) {
      for (String n : names) {
        arms.get(n).round();
      }
    }
    for (int r = 0; r < rounds; r++) {
      List<String> order = new ArrayList<>(names);
      if (r % 2 == 1) {
        java.util.Collections.reverse(order);
      }
      for (String n : order) {
        out.get(n).add(arms.get(n).round());
      }
    }
    return out;
  }

  static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(Double::compare);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  static double min(List<Double> xs) {
    return xs.stream().mapToDouble(d -> d).min().orElse(Double.NaN);
  }

  static double max(List<Double> xs) {
    return xs.stream().mapToDouble(d -> d).max().orElse(Double.NaN);
  }

  /** The value at {@code q} (0..1) of {@code xs}, nearest rank. */
  static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
