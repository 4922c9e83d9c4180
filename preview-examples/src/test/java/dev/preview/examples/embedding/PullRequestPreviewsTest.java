package dev.preview.examples.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.Preview;
import dev.preview.examples.demo.PreviewDemo;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding example, for real: the local provider runs the sample app for each revision. */
class PullRequestPreviewsTest {
  static final String SHA1 = "1111111111111111111111111111111111111111";
  static final String SHA2 = "2222222222222222222222222222222222222222";
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final ByteArrayOutputStream log = new ByteArrayOutputStream();
  @TempDir Path dir;

  @Test
  void openedPushedAndClosedPullRequestAnswersAtItsUrlThenIsGone() throws Exception {
    PullRequest pr = PullRequest.open(PreviewKey.pr("acme/shop", 7), SHA1, "feature/cart", "main");
    try (PullRequestPreviews previews = new PullRequestPreviews(dir, PreviewDemo.sampleAppCommand(),
        new PrintStream(log, true, StandardCharsets.UTF_8))) {

      Preview opened = previews.opened(pr);
      assertThat(opened.state()).as(log()).isEqualTo(PreviewState.READY);
      assertThat(page(opened.url())).contains("<code id=\"revision\">" + SHA1 + "</code>", "GREETING", "hello from a CI plugin");
      assertThat(log()).contains("acme/shop#7 is READY at " + opened.url())
          .containsPattern("\\[acme/shop#7] environment +\\d+ ms")
          .contains("[acme/shop#7] -> READY");

      Preview pushed = previews.pushed(pr.withHeadSha(SHA2));
      assertThat(pushed.state()).as(log()).isEqualTo(PreviewState.READY);
      assertThat(page(pushed.url())).contains("<code id=\"revision\">" + SHA2 + "</code>");
      if (!pushed.url().equals(opened.url())) {
        await().atMost(Duration.ofSeconds(20)).until(() -> !answers(opened.url()));
      }

      Preview closed = previews.closed(pr);
      assertThat(closed.state()).as(log()).isEqualTo(PreviewState.DELETED);
      await().atMost(Duration.ofSeconds(20)).until(() -> !answers(pushed.url()));
      assertThat(stateFiles()).as("the state directory keeps nothing of the PR").isEmpty();
      assertThat(log()).contains("acme/shop#7 is DELETED");
    }
  }

  @Test
  void thePolicyDecidesWhichPullRequestsGetAPreview() throws Exception {
    try (PullRequestPreviews previews = new PullRequestPreviews(dir, PreviewDemo.sampleAppCommand(),
        new PrintStream(log, true, StandardCharsets.UTF_8))) {
      Preview labelled = previews.opened(PullRequest.open(PreviewKey.pr("acme/shop", 8), SHA1, "feature/x", "main")
          .withLabels(Set.of("no-preview")));
      Preview intoRelease = previews.opened(PullRequest.open(PreviewKey.pr("acme/shop", 9), SHA1, "feature/y", "release/1.x"));

      assertThat(labelled.state()).isEqualTo(PreviewState.DELETED);
      assertThat(labelled.url()).isNull();
      assertThat(labelled.message()).contains("no-preview");
      assertThat(intoRelease.state()).isEqualTo(PreviewState.DELETED);
      assertThat(intoRelease.url()).isNull();
      assertThat(stateFiles()).as("nothing was started").isEmpty();
    }
  }

  private String log() {
    return log.toString(StandardCharsets.UTF_8);
  }

  private String page(URI url) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private boolean answers(URI url) {
    try {
      http.send(HttpRequest.newBuilder(url.resolve("/health")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private java.util.List<Path> stateFiles() throws IOException {
    Path state = dir.resolve("state");
    if (!Files.isDirectory(state)) {
      return java.util.List.of();
    }
    try (Stream<Path> files = Files.list(state)) {
      return files.toList();
    }
  }
}
