package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import org.junit.jupiter.api.Test;

class FakePullRequestSourceTest {
  private static final PreviewKey A = PreviewKey.pr("acme/shop", 1);
  private static final PreviewKey B = PreviewKey.pr("acme/shop", 2);
  private static final PreviewKey C = PreviewKey.pr("acme/shop", 3);
  private static final PreviewKey OTHER = PreviewKey.pr("acme/blog", 1);

  private final FakePullRequestSource scm = new FakePullRequestSource()
      .put(PullRequest.open(A, "aaaa111", "a", "main"))
      .put(PullRequest.open(B, "bbbb222", "b", "main"))
      .put(PullRequest.open(C, "cccc333", "c", "main"))
      .put(PullRequest.open(OTHER, "dddd444", "d", "main"));

  @Test
  void listOpenReturnsOnlyOpenPullRequestsOfTheRepository() {
    scm.close(A).merge(B);

    assertThat(scm.listOpen("acme/shop")).extracting(PullRequest::key).containsExactly(C);
    assertThat(scm.find(A)).get().extracting(PullRequest::state).isEqualTo(PullRequest.State.CLOSED);
    assertThat(scm.find(B)).get().extracting(PullRequest::state).isEqualTo(PullRequest.State.MERGED);
  }

  @Test
  void aPushIsAPutWithANewHeadAndRemoveMakesItUnknown() {
    scm.put(scm.find(A).orElseThrow().withHeadSha("eeee555"));
    assertThat(scm.find(A)).get().extracting(PullRequest::headSha).isEqualTo("eeee555");

    scm.remove(A);
    assertThat(scm.find(A)).isEmpty();
    assertThat(scm.all()).extracting(PullRequest::key).containsExactly(OTHER, B, C);
  }

  @Test
  void closingAnUnknownPullRequestIsATestBug() {
    assertThatThrownBy(() -> scm.close(PreviewKey.pr("acme/shop", 99)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("put() it first");
  }

  @Test
  void aDownScmThrowsInsteadOfAnsweringEmpty() {
    scm.faults().failAlways("pullRequests.find").failNext("pullRequests.listOpen");

    assertThatThrownBy(() -> scm.find(A)).isInstanceOf(ProviderException.class);
    assertThatThrownBy(() -> scm.listOpen("acme/shop")).isInstanceOf(ProviderException.class);
    assertThat(scm.listOpen("acme/shop")).hasSize(3);
    assertThat(scm.faults().calls("find")).isEqualTo(1);
  }
}
