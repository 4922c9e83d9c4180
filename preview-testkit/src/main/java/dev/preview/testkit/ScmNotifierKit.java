package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.ScmNotifier;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link ScmNotifier}, as tests every notifier must pass: one sticky comment per PR,
 * updated in place. Extend it and implement {@link #createProvider()} and {@link #stickyComments}
 * (the bodies of our status comments now on the PR, as the SCM shows them; for an HTTP API
 * behind MockWebServer, the comments your dispatcher holds).
 *
 * <pre>{@code
 * class GitHubNotifierTest extends ScmNotifierKit {
 *   protected ScmNotifier createProvider() { return GitHubNotifier.builder(server.url("/").toString(), GitHubAuth.token(Secret.of("t"))).build(); }
 *   protected List<String> stickyComments(PreviewKey key) { return fakeGitHub.comments(key, "<!-- preview.dev:"); }
 * }
 * }</pre>
 *
 * <p>What a comment must show: the {@link PreviewStatus#marker() marker} exactly once, the state's
 * name (any case), the status message, the URL when READY, and the failed step and log lines when
 * FAILED. Keys belong to a repository no one else uses ({@code kit-<random>/app}).
 */
public abstract class ScmNotifierKit {
  private final String repository = KitIds.repository();
  private final String revision = KitIds.hex(40);
  private final List<ScmNotifier> opened = new CopyOnWriteArrayList<>();
  private ScmNotifier provider;

  /** A new notifier. Called once per test. */
  protected abstract ScmNotifier createProvider();

  /** The bodies of our status comments now on the PR of {@code key} (all of them, to catch duplicates). */
  protected abstract List<String> stickyComments(PreviewKey key);

  /**
   * Whether the notifier reads back what the PR shows ({@link ScmNotifier#published}); default true.
   * A notifier that cannot (a console, a chat message) returns false, and the read-back cases are skipped.
   */
  protected boolean readsBack() {
    return true;
  }

  /** How long the kit waits for concurrent publishes. */
  protected Duration timeout() {
    return Duration.ofSeconds(30);
  }

  /** The notifier of this test, created on first use. */
  protected final ScmNotifier provider() {
    if (provider == null) {
      provider = createProvider();
      opened.add(provider);
    }
    return provider;
  }

  /** This test's repository: {@code kit-<random>/app}. */
  protected final String repository() {
    return repository;
  }

  /** The key of PR {@code n} in this test's repository. */
  protected final PreviewKey key(int n) {
    return PreviewKey.pr(repository, n);
  }

  /** The preview URL the kit announces for {@code key}. */
  protected final URI url(PreviewKey key) {
    return URI.create("https://pr-" + key.number() + "-" + repository.substring(4, 12) + ".preview.example.test/");
  }

  /** A status of {@code key} in {@code state} with a unique message; READY ones carry {@link #url}. */
  protected final PreviewStatus status(PreviewKey key, PreviewState state) {
    return status(key, state, null, List.of());
  }

  private PreviewStatus status(PreviewKey key, PreviewState state, String failedStep, List<String> logTail) {
    Map<String, Duration> steps = new LinkedHashMap<>();
    steps.put("environment", Duration.ofMillis(1200));
    return new PreviewStatus(key, state, revision, state == PreviewState.READY ? url(key) : null, Map.of(),
        "kit message " + KitIds.hex(12), failedStep, logTail, steps, Instant.now());
  }

  @AfterEach
  protected final void closeNotifiers() {
    opened.forEach(ScmNotifier::close);
  }

  /** The one comment of {@code status.key()}, checked to hold the marker once and the state's message. */
  private String theComment(PreviewStatus status) {
    List<String> comments = stickyComments(status.key());
    assertThat(comments).as("one sticky comment on %s", status.key()).hasSize(1);
    String body = comments.get(0);
    assertThat(occurrences(body, status.marker())).as("the marker appears exactly once in %s", body)
        .isEqualTo(1);
    assertThat(body.toLowerCase(Locale.ROOT)).as("the comment names the state")
        .contains(status.state().name().toLowerCase(Locale.ROOT));
    assertThat(body).as("the comment shows the latest message").contains(status.message());
    return body;
  }

  private static int occurrences(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
      n++;
    }
    return n;
  }

  @Test
  public void aLifecycleLeavesOneCommentThatShowsTheLatestState() {
    PreviewKey key = key(1);
    PreviewStatus provisioning = status(key, PreviewState.PROVISIONING);
    PreviewStatus ready = status(key, PreviewState.READY);
    PreviewStatus deleted = status(key, PreviewState.DELETED);

    provider().publish(provisioning);
    theComment(provisioning);

    provider().publish(ready);
    String readyBody = theComment(ready);
    assertThat(readyBody).as("a READY comment shows the URL").contains(url(key).toString());
    assertThat(readyBody).doesNotContain(provisioning.message());

    provider().publish(deleted);
    String deletedBody = theComment(deleted);
    assertThat(deletedBody).doesNotContain(ready.message());
  }

  @Test
  public void publishingTheSameStatusTwiceLeavesOneComment() {
    PreviewStatus ready = status(key(1), PreviewState.READY);

    provider().publish(ready);
    provider().publish(ready);

    assertThat(theComment(ready)).contains(url(ready.key()).toString());
  }

  @Test
  public void twoPullRequestsGetOneCommentEach() {
    PreviewStatus first = status(key(1), PreviewState.READY);
    PreviewStatus second = status(key(2), PreviewState.PROVISIONING);

    provider().publish(first);
    provider().publish(second);
    provider().publish(status(key(1), PreviewState.READY));

    PreviewStatus latestFirst = status(key(1), PreviewState.FAILED);
    provider().publish(latestFirst);
    assertThat(theComment(latestFirst)).doesNotContain(second.marker());
    assertThat(theComment(second)).doesNotContain(first.marker()).doesNotContain(latestFirst.message());
  }

  @Test
  public void aFailedStatusShowsTheFailedStepAndTheLogTail() {
    PreviewKey key = key(1);
    String token = KitIds.hex(8);
    List<String> logTail = List.of("starting app " + token, "java.lang.IllegalStateException: boom " + token);
    PreviewStatus failed = status(key, PreviewState.FAILED, "readiness-" + token, logTail);

    provider().publish(status(key, PreviewState.PROVISIONING));
    provider().publish(failed);

    String body = theComment(failed);
    assertThat(body).contains("readiness-" + token);
    for (String line : logTail) {
      assertThat(body).contains(line);
    }
  }

  @Test
  public void concurrentPublishesOnDifferentPullRequestsLeaveOneCommentEach() throws Exception {
    List<PreviewStatus> statuses = new ArrayList<>();
    for (int n = 1; n <= 3; n++) {
      statuses.add(status(key(n), PreviewState.READY));
    }
    ScmNotifier p = provider();
    ExecutorService pool = Executors.newFixedThreadPool(statuses.size());
    try {
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      for (PreviewStatus s : statuses) {
        calls.add(CompletableFuture.runAsync(() -> p.publish(s), pool));
      }
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
          .get(timeout().toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      pool.shutdownNow();
    }

    statuses.forEach(this::theComment);
  }

  @Test
  public void publishedReadsBackWhatThePullRequestShows() {
    PreviewKey key = key(1);
    assertThat(provider().published(key)).as("nothing published yet").isEmpty();
    org.junit.jupiter.api.Assumptions.assumeTrue(readsBack(), "this notifier does not read back");

    PreviewStatus provisioning = status(key, PreviewState.PROVISIONING);
    provider().publish(provisioning);
    assertThat(provider().published(key)).contains(PublishedStatus.of(provisioning));

    PreviewStatus ready = status(key, PreviewState.READY);
    provider().publish(ready);
    assertThat(provider().published(key)).contains(PublishedStatus.of(ready));

    PreviewStatus failed = status(key, PreviewState.FAILED, "readiness", List.of("boom"));
    provider().publish(failed);
    assertThat(provider().published(key)).contains(PublishedStatus.of(failed));
    assertThat(provider().published(key(2))).as("another PR shows nothing").isEmpty();
  }

  /** A notifier that lists in bulk ({@link ScmNotifier#publishedAll}) lists what {@code published(key)} reads. */
  @Test
  public void aBulkReadBackAgreesWithTheReadsPerPullRequest() {
    PreviewKey one = key(1);
    Optional<Map<PreviewKey, PublishedStatus>> before = provider().publishedAll(one.repository());
    org.junit.jupiter.api.Assumptions.assumeTrue(before.isPresent(), "this notifier does not list in bulk");
    assertThat(before.get()).as("nothing published yet").doesNotContainKeys(one, key(2), key(3));

    PreviewStatus ready = status(one, PreviewState.READY);
    PreviewStatus failed = status(key(2), PreviewState.FAILED, "readiness", List.of("boom"));
    provider().publish(ready);
    provider().publish(failed);

    Map<PreviewKey, PublishedStatus> all = provider().publishedAll(one.repository()).orElseThrow();
    assertThat(all).containsEntry(one, PublishedStatus.of(ready)).containsEntry(key(2), PublishedStatus.of(failed))
        .as("a PR that shows nothing has no entry").doesNotContainKey(key(3));
    assertThat(all.keySet()).as("only PRs of the repository asked for").allMatch(k -> k.repository().equals(one.repository()));
    for (PreviewKey k : List.of(one, key(2))) {
      assertThat(Optional.ofNullable(all.get(k))).as("bulk and per-PR read of " + k).isEqualTo(provider().published(k));
    }
  }

  @Test
  public void aNewInstanceReadsBackWhatAnEarlierOnePublished() {
    org.junit.jupiter.api.Assumptions.assumeTrue(readsBack(), "this notifier does not read back");
    PreviewKey key = key(1);
    PreviewStatus ready = status(key, PreviewState.READY);
    provider().publish(ready);

    ScmNotifier afterRestart = createProvider();
    opened.add(afterRestart);
    assertThat(afterRestart.published(key)).as("read from the SCM, not from memory").contains(PublishedStatus.of(ready));
  }
}
