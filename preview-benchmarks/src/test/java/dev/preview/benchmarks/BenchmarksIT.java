package dev.preview.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every benchmark, one after the other, into {@code target/benchmarks.md}.
 *
 * <pre>
 * mvn -B -pl preview-benchmarks -am verify -Pbench     # the full run (or: bench/run)
 * </pre>
 *
 * Without {@code -Pbench} (CI) the same code runs with tiny N as a smoke test: each benchmark must
 * produce its figures (a benchmark whose server is missing fails in CI, as every IT does).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BenchmarksIT {
  static final Scale SCALE = Scale.fromSystem();
  static final Report REPORT = new Report(SCALE.describe());
  static final Path OUT = Path.of("target", "benchmarks.md");

  @BeforeAll
  static void announce() {
    System.out.println("benchmarks: " + SCALE.describe() + "; report in " + OUT.toAbsolutePath());
  }

  @AfterAll
  static void write() throws Exception {
    REPORT.write(OUT);
    System.out.println(REPORT.markdown());
  }

  static void assertFigures(String benchmark, int atLeast) {
    List<Report.Figure> mine = new ArrayList<>();
    for (Report.Figure f : REPORT.figures()) {
      if (f.benchmark().startsWith(benchmark)) {
        mine.add(f);
      }
    }
    assertThat(mine).as(benchmark + " figures").hasSizeGreaterThanOrEqualTo(atLeast);
    for (Report.Figure f : mine) {
      assertThat(f.subjectValues()).as(f.metric() + " of " + f.subject()).hasSize(SCALE.rounds() > 3 && f.metric().contains("10,000")
          ? Math.min(SCALE.rounds(), 3) : f.subjectValues().size()).allMatch(v -> v > 0 && Double.isFinite(v));
      assertThat(f.floorValues()).as(f.metric() + " of " + f.floor()).isNotEmpty().allMatch(v -> v > 0 && Double.isFinite(v));
      assertThat(f.ratio()).as(f.metric() + " ratio").isFinite().isPositive();
    }
  }

  @Test
  @Order(1)
  void webhookVerifyAndParse() throws Exception {
    WebhookParseBenchmark.run(SCALE, REPORT);
    assertFigures("Webhook verify + parse", 1);
  }

  @Test
  @Order(2)
  void webhookAck() throws Exception {
    WebhookAckBenchmark.run(SCALE, REPORT);
    assertFigures("Webhook ack", 4);
  }

  @Test
  @Order(3)
  void dnsChurn() throws Exception {
    DnsChurnBenchmark.run(SCALE, REPORT);
    assertFigures("DNS churn", 2);
  }

  @Test
  @Order(4)
  void databaseReady() throws Exception {
    DatabaseReadyBenchmark.run(SCALE, REPORT);
    assertFigures("Database ready", 3);
  }

  @Test
  @Order(5)
  void reconcile() throws Exception {
    ReconcileBenchmark.run(SCALE, REPORT);
    assertFigures("Reconcile", 4);
  }

  @Test
  @Order(6)
  void gateway() throws Exception {
    GatewayBenchmark.run(SCALE, REPORT);
    assertFigures("Gateway", 7);
  }
}
