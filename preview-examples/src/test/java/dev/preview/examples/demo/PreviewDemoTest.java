package dev.preview.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.console.ConsoleNotifier;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PreviewDemoTest {
  /** Every check of a demo where everything works (DemoCommandTest and PreviewJarIT of preview-cli expect the same number). */
  static final int CHECKS = 63;

  // The same run through `preview demo`, with the CLI's step lines, is DemoCommandTest of preview-cli.
  @Test
  void theDemoRunsTheWholeLifecycleAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ConsoleNotifier console = ConsoleNotifier.builder().out(new PrintStream(out, true, StandardCharsets.UTF_8))
        .ansi(false).build();
    long before = ProcessHandle.current().descendants().count();

    int code = PreviewDemo.builder().console(console).build().run();

    String printed = out.toString(StandardCharsets.UTF_8);
    System.out.println(printed);
    assertThat(code).as(printed).isZero();
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
        .containsPattern("check: acme/shop#1 page shows the 3 baseline rows of its own database shop-pr-1-[0-9a-f]+\\.db \\.\\.\\. ok")
        .containsPattern("check: acme/shop#2 page shows the 3 baseline rows of its own database shop-pr-2-[0-9a-f]+\\.db \\.\\.\\. ok")
        .contains("check: PR 1 and PR 2 have their own database files ... ok",
            "check: PR 1's page shows the new row ... ok",
            "check: PR 2's page does not show it (its database is its own), only the baseline rows ... ok",
            "check: PR 1's greeting survived the redeploy (same database) ... ok",
            "check: the database files are gone ... ok",
            "checks: " + CHECKS + " passed, 0 failed")
        // each PR runs its own code: its head fetched from the demo's git repository, built and run in its checkout
        .contains("== 4b. A late delivery for PR 1's older commit (labeled, at ")
        .containsPattern("check: acme/shop#1 runs its own code: greeting.txt of [0-9a-f]{7} says \"PR 1: the cart remembers what you put in it\" \\.\\.\\. ok")
        .containsPattern("check: acme/shop#2 runs its own code: greeting.txt of [0-9a-f]{7} says \"PR 2: a one-page checkout\" \\.\\.\\. ok")
        .containsPattern("check: acme/shop#1 runs its own code: greeting.txt of [0-9a-f]{7} says \"PR 1, second commit: the cart shows a total\" \\.\\.\\. ok")
        .containsPattern("check: acme/shop#2 app.build ran in its checkout at [0-9a-f]{7} \\.\\.\\. ok")
        .contains("check: neither PR shows the other's change (nor main's greeting) ... ok",
            "check: PR 1 no longer shows its first commit's greeting ... ok",
            "check: the webhook server accepts pull_request.labeled of acme/shop#1 (202) ... ok",
            "check: PR 1 still shows its second commit's greeting and revision ... ok",
            "check: the workspaces (the PRs' checkouts) are gone ... ok")
        .containsPattern("check: PR 1 is not rolled back: its revision is still [0-9a-f]{7}, not [0-9a-f]{7} \\.\\.\\. ok")
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

  @Test
  void aDemoWhoseAppCannotStartExitsOneAndSaysWhatFailed() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ConsoleNotifier console = ConsoleNotifier.builder().out(new PrintStream(out, true, StandardCharsets.UTF_8))
        .ansi(false).build();

    int code = PreviewDemo.builder().console(console)
        .appCommand(List.of("sh", "-c", "echo 'sample app: missing config' >&2; exit 3")).build().run();

    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isEqualTo(1);
    assertThat(printed)
        .contains("check: acme/shop#1 is READY at null ... FAILED (state FAILED at step environment")
        .contains("exited at once with code 3")
        .contains("sample app: missing config")
        .contains("### [!!] Preview failed: acme/shop#1")
        .contains("demo FAILED:")
        .contains("check: the state directory is empty ... ok")
        .contains("check: the webhook server answers 401 to a bad X-Hub-Signature-256 ... ok")
        .contains("check: the database files are gone ... ok");
  }

  @Test
  void aDemoWhoseAppDoesNotGetItsDatabaseFailsTheDatabaseChecks() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ConsoleNotifier console = ConsoleNotifier.builder().out(new PrintStream(out, true, StandardCharsets.UTF_8))
        .ansi(false).build();
    // the real sample app, but started without the DATABASE_URL the sqlite provider hands it
    List<String> app = new ArrayList<>(List.of("sh", "-c", "unset DATABASE_URL; exec \"$0\" \"$@\""));
    app.addAll(PreviewDemo.sampleAppCommand());

    int code = PreviewDemo.builder().console(console).appCommand(app).build().run();

    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isEqualTo(1);
    // exactly the eight database checks fail (PR 2 migration table included): the rest of the lifecycle works without a database
    assertThat(printed)
        .contains("checks: " + (CHECKS - 8) + " passed, 8 failed")
        .contains("check: acme/shop#1 is READY at http://")
        .containsPattern("check: acme/shop#1 page shows the 3 baseline rows of its own database \\S+ \\.\\.\\. FAILED")
        .contains("rows missing [hello from the baseline, bonjour, hallo], the page does not show DATABASE_URL=jdbc:sqlite:")
        .containsPattern("check: PR 1's app stored the greeting .* \\.\\.\\. FAILED \\(got 404 no SQLite database")
        .contains("check: PR 1's greeting survived the redeploy (same database) ... FAILED")
        .contains("demo FAILED:")
        .contains("check: the database files are gone ... ok")
        .contains("check: no process started by the demo is left ... ok");
  }
}
