package dev.preview.benchmarks;

/** How big a run is: the full one ({@code -Pbench}) or the CI smoke run (tiny N, same code paths). */
record Scale(boolean full, int warmup, int rounds) {
  static Scale fromSystem() {
    boolean full = Boolean.getBoolean("preview.benchmark");
    return full ? new Scale(true, Integer.getInteger("bench.warmup", 2), Integer.getInteger("bench.rounds", 7))
        : new Scale(false, 1, 3);
  }

  /** {@code full} in a full run, {@code smoke} in the smoke run. */
  int n(int full, int smoke) {
    return this.full ? full : smoke;
  }

  String describe() {
    return full ? "full run: " + rounds + " rounds after " + warmup + " warm-up" : "smoke run: tiny N, figures not meaningful";
  }
}
