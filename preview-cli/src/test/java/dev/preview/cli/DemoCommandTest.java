package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code preview demo} through the command line: the demo of preview-examples with the CLI's
 * progress lines (every step with its timing). The demo's own tests are in preview-examples
 * ({@code PreviewDemoTest}).
 */
class DemoCommandTest {
  /** Every check of a demo where everything works (PreviewDemoTest and PreviewJarIT expect the same number). */
  static final int CHECKS = 63;

  @Test
  void theDemoRunsTheWholeLifecycleAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long before = ProcessHandle.current().descendants().count();

    int code = PreviewCli.run(new String[] {"demo"}, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));

    String printed = out.toString(StandardCharsets.UTF_8);
    System.out.println(printed);
    assertThat(code).as(printed + err).isZero();
    assertThat(printed)
        .contains("== 1. PR 1 and PR 2 opened (in parallel", "== 2. A greeting written in PR 1's database",
            "== 3. A forged delivery", "== 4. PR 1 pushed", "== 5. PR 1 closed, PR 2 merged")
        // events arrive as signed GitHub deliveries through the webhook server
        .containsPattern("POST /webhooks/github  pull_request\\.opened acme/shop#1 -> 202 \\(delivery [0-9a-f]{8}\\)")
        .contains("POST /webhooks/github  pull_request.synchronize acme/shop#1 -> 202",
            "POST /webhooks/github  pull_request.closed (merged: false) acme/shop#1 -> 202",
            "POST /webhooks/github  pull_request.closed (merged: true) acme/shop#2 -> 202",
            "check: the webhook server answers 401 to a bad X-Hub-Signature-256 ... ok",
            "check: nothing was deployed for acme/shop#3 (no step, no environment, no database) ... ok",
            "check: the deliveries read as PR 1 closed, PR 2 merged (merged: true) ... ok",
            "webhook deliveries: 6 answered 202, 1 answered 401")
        // each PR's own database, cloned from the baseline, isolated, kept across a push, gone at teardown
        .containsPattern("\\[acme/shop#1] database +\\d")
        .containsPattern("check: acme/shop#1 page shows the 3 baseline rows of its own database shop-pr-1-[0-9a-f]+\\.db \\.\\.\\. ok")
        .containsPattern("check: acme/shop#2 page shows the 3 baseline rows of its own database shop-pr-2-[0-9a-f]+\\.db \\.\\.\\. ok")
        .contains("check: PR 1 and PR 2 have their own database files ... ok",
            "check: PR 1's page shows the new row ... ok",
            "check: PR 2's page does not show it (its database is its own), only the baseline rows ... ok",
            "check: PR 1's greeting survived the redeploy (same database) ... ok",
            "check: the database files are gone ... ok",
            "checks: " + CHECKS + " passed, 0 failed")
        .containsPattern("\\[acme/shop#1] environment +\\d")
        .containsPattern("\\[acme/shop#2] readiness +\\d")
        .containsPattern("\\[acme/shop#1] teardown.environment +\\d")
        .containsPattern("open PR 1 \\+ PR 2 \\(parallel\\) +[\\d.]+ m?s")
        .containsPattern("push PR 1 +[\\d.]+ m?s")
        .contains("PR acme/shop#1 - status comment (created, version 1")
        .contains("### [ok] Preview ready: acme/shop#2")
        .contains("### [xx] Preview deleted: acme/shop#1")
        .contains("check: the state directory is empty ... ok")
        .contains("check: no process started by the demo is left ... ok")
        .doesNotContain("FAILED")
        .endsWith("demo OK" + System.lineSeparator());
    // PR 1 had two URLs (before and after its push), PR 2 one: all distinct
    Matcher m = Pattern.compile("acme/shop#1: (http://127\\.0\\.0\\.1:\\d+/) -> (http://127\\.0\\.0\\.1:\\d+/) \\(removed\\)").matcher(printed);
    assertThat(m.find()).as(printed).isTrue();
    Matcher m2 = Pattern.compile("acme/shop#2: (http://127\\.0\\.0\\.1:\\d+/) \\(removed\\)").matcher(printed);
    assertThat(m2.find()).as(printed).isTrue();
    assertThat(List.of(m.group(1), m.group(2), m2.group(1))).doesNotHaveDuplicates();
    assertThat(ProcessHandle.current().descendants().count()).isLessThanOrEqualTo(before);
  }
}
