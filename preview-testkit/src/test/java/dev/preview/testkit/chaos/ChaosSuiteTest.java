package dev.preview.testkit.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The chaos suite: {@link ChaosRun}s over the fakes, one per seed. CI runs seeds 1..100; a long run
 * is {@code -Dchaos.seeds=1000} (and {@code -Dchaos.from=N} to start elsewhere). A failing seed
 * prints its violations and the run's trace; make it a named test in {@link ChaosRegressionTest}.
 * The status check (the PR shows the observed state) fails the run too, unless
 * {@code -Dchaos.strictStatus=false} (then it is only reported in the summary).
 */
class ChaosSuiteTest {
  static final int SEEDS = Integer.getInteger("chaos.seeds", 100);
  static final long FROM = Long.getLong("chaos.from", 1);
  /** On unless {@code -Dchaos.strictStatus=false} (to look at other violations while a status bug is open). */
  static final boolean STRICT_STATUS = !"false".equals(System.getProperty("chaos.strictStatus"));
  private static final Map<Long, List<String>> DIVERGED = new TreeMap<>();
  private static long started;
  private static int runs;

  @TestFactory
  Stream<DynamicTest> seeds() {
    started = System.nanoTime();
    String only = System.getProperty("chaos.only", "").trim();
    LongStream chosen = only.isEmpty() ? LongStream.range(FROM, FROM + SEEDS)
        : java.util.Arrays.stream(only.split(",")).mapToLong(s -> Long.parseLong(s.trim()));
    return chosen.mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
      ChaosRun run = runSeed(seed);
      runs++;
      if (!run.statusDivergences().isEmpty()) {
        synchronized (DIVERGED) {
          DIVERGED.put(seed, run.statusDivergences());
        }
        if (Boolean.getBoolean("chaos.trace")) {
          System.out.println("chaos: seed " + seed + " " + run.shape() + " trace:\n  " + String.join("\n  ", run.trace()));
          System.out.println("chaos: seed " + seed + " publishes:\n  " + String.join("\n  ", run.publishes));
          if (Boolean.getBoolean("chaos.log")) {
            System.out.println("chaos: seed " + seed + " log:\n" + run.log);
          }
        }
      }
      assertThat(run.violations()).as("seed %d %s; trace:%n%s", seed, run.shape(), String.join("\n", run.trace()))
          .isEmpty();
      if (STRICT_STATUS) {
        assertThat(run.statusDivergences()).as("seed %d: the status shown is not the observed state", seed).isEmpty();
      }
    }));
  }

  @AfterAll
  static void summary() {
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("chaos: %d runs in %.2f s (%.1f runs/s); %d seed(s) whose final status differs from the observed"
        + " state: %s%n", runs, seconds, runs / seconds, DIVERGED.size(), DIVERGED.keySet());
    DIVERGED.forEach((seed, d) -> System.out.println("chaos: seed " + seed + ": " + d));
    System.out.println("chaos: went through " + new TreeMap<>(ChaosRun.COUNTS));
    System.out.println("chaos: time by step (ms): " + new TreeMap<>(ChaosRun.PROFILE).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue() / 1_000_000).toList());
  }

  /** Runs one seed with the log captured (checked for secrets, and kept out of the build's output). */
  static ChaosRun runSeed(long seed) throws InterruptedException {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    ChaosRun run = new ChaosRun(seed);
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      run.run();
    } finally {
      run.close();
      System.setErr(err);
    }
    return run.check(captured.toString(StandardCharsets.UTF_8));
  }

  static List<String> lines(List<String> l) {
    return new ArrayList<>(l);
  }
}
