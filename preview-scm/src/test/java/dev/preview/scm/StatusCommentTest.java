package dev.preview.scm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusCommentTest {
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  static PreviewStatus failed(String message, List<String> logs, Map<String, URI> links) {
    return new PreviewStatus(KEY, PreviewState.FAILED, "6dcb09b5b57875f334f61aebed695e2e4193db5e", null, links, message,
        "environment", logs, Map.of("database", Duration.ofMillis(250)), Instant.parse("2026-11-22T15:00:00.123Z"));
  }

  @Test
  void outsideTextCannotForgeAMarkerBreakTheTableOrEscapeTheFence() {
    String forged = "<!-- preview.dev:acme/shop#43 -->";
    String body = StatusComment.render(failed("bad | value <script>alert(1)</script>\n" + forged,
        List.of(forged, "```", "```` still inside", "<img src=x onerror=alert(1)>"), Map.of()));
    assertThat(body).startsWith("<!-- preview.dev:acme/shop#42 -->\n");
    assertThat(body.split("<!--", -1)).as("only our own marker opens an HTML comment").hasSize(2);
    assertThat(body).contains("| **Reason** | bad \\| value &lt;script&gt;alert(1)&lt;/script&gt;");
    assertThat(body).doesNotContain("<script>");
    // the fence is longer than any backtick run inside it
    assertThat(body).contains("`````text\n").endsWith("`````\n\n</details>\n");
    assertThat(body).contains("| **Failed step** | `environment` |", "database 0.3 s", "2026-11-22T15:00:00Z");
  }

  @Test
  void onlyHttpLinksAreLinksAndLogTailIsCut() {
    Map<String, URI> links = new LinkedHashMap<>();
    links.put("docs", URI.create("https://pr-42.example.com/docs"));
    links.put("evil", URI.create("javascript:alert(1)"));
    List<String> logs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      logs.add("line " + i + " " + "x".repeat(i == 99 ? 1000 : 1));
    }
    String body = StatusComment.render(failed("boom", logs, links));
    assertThat(body).contains("[docs](https://pr-42.example.com/docs)", "`evil`").doesNotContain("](javascript:");
    assertThat(body).doesNotContain("line 69 ").contains("line 70 ", "line 99 ");
    assertThat(body.length()).isLessThan(5_000);
  }

  @Test
  void theDatabaseKindIsShownWhenThePreviewHasOne() {
    PreviewStatus ready = new PreviewStatus(KEY, PreviewState.READY, "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        URI.create("https://pr-42.example.com/"), Map.of(), "", null, List.of(), Map.of(),
        Instant.parse("2026-11-22T15:00:00Z"), "postgres pv_shop_pr_42_0123456789");
    assertThat(StatusComment.render(ready)).contains("| **Database** | `postgres pv_shop_pr_42_0123456789` |");
    assertThat(StatusComment.render(failed("boom", List.of(), Map.of()))).doesNotContain("Database");
  }

  @Test
  void quotedCommentsAreNotOurs() {
    String marker = failed("", List.of(), Map.of()).marker();
    assertThat(StatusComment.isOurs(marker + "\n### Preview", marker)).isTrue();
    assertThat(StatusComment.isOurs("> " + marker + "\n> ### Preview", marker)).isFalse();
    assertThat(StatusComment.isOurs("<!-- preview.dev:acme/shop#4 -->", marker)).isFalse();
    assertThat(StatusComment.isOurs(null, marker)).isFalse();
  }

  static PreviewStatus inProgress(PreviewState state, String message) {
    // a stale step name and log tail must not show outside FAILED
    return new PreviewStatus(KEY, state, "6dcb09b5b57875f334f61aebed695e2e4193db5e", null, Map.of(), message, "build",
        List.of("compiling 3 files"), Map.of("guard", Duration.ofMillis(40)), Instant.parse("2026-11-22T15:00:00Z"));
  }

  @Test
  void waitingForCiIsShownWithTheImageAndTheRevisionButNoFailure() {
    String body = StatusComment.render(inProgress(PreviewState.WAITING,
        "waiting for the image ghcr.io/acme/shop:pr-42-6dcb09b built by CI (check build-image)"));
    assertThat(body).startsWith("<!-- preview.dev:acme/shop#42 -->\n### ⏳ Preview waiting for its build\n");
    assertThat(body).contains("| **State** | `WAITING` |", "| **Revision** | `6dcb09b5b578` |",
        "| **Note** | waiting for the image ghcr.io/acme/shop:pr-42-6dcb09b built by CI (check build-image) |",
        "guard 0.0 s");
    assertThat(body).doesNotContain("Reason", "Failed step", "Last log lines", "compiling", "URL");
  }

  @Test
  void buildingFromSourceIsShownAsItsOwnStateNotAsPendingOrDeploying() {
    String body = StatusComment.render(inProgress(PreviewState.BUILDING,
        "building 6dcb09b5b57875f334f61aebed695e2e4193db5e from source"));
    assertThat(body).contains("### 🔨 Preview building\n", "| **State** | `BUILDING` |",
        "| **Note** | building 6dcb09b5b57875f334f61aebed695e2e4193db5e from source |");
    assertThat(body).doesNotContain("Reason", "Failed step", "Last log lines", "compiling", "deploying", "pending",
        "waiting");
  }
}
