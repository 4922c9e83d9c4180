package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ScmNotifier;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fake passes the kit, plus the fake's own helpers. */
class FakeScmNotifierTest extends ScmNotifierKit {
  private final FakeScmNotifier scm = new FakeScmNotifier();

  @Override
  protected ScmNotifier createProvider() {
    return scm.reopen();
  }

  @Override
  protected List<String> stickyComments(PreviewKey key) {
    return scm.comment(key).stream().toList();
  }

  @Test
  void historyLatestAndAllKeepEveryPublishInOrder() {
    PreviewKey a = key(1);
    PreviewKey b = key(2);
    PreviewStatus a1 = status(a, PreviewState.PROVISIONING);
    PreviewStatus b1 = status(b, PreviewState.PROVISIONING);
    PreviewStatus a2 = status(a, PreviewState.READY);
    provider().publish(a1);
    provider().publish(b1);
    provider().publish(a2);

    assertThat(scm.history(a)).containsExactly(a1, a2);
    assertThat(scm.latest(a)).contains(a2);
    assertThat(scm.latest(key(3))).isEmpty();
    assertThat(scm.all()).containsExactly(a1, b1, a2);
  }
}
