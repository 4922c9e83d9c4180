package dev.preview.spi;

import java.net.URI;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the pull request shows now, read back from the SCM by {@link ScmNotifier#published}: the state
 * the sticky status last published (kept in a small hidden marker of the comment, or the SCM's own
 * deployment status), so a reconcile can compare it with what the infrastructure holds and re-publish
 * when they differ, also after a restart.
 *
 * @param key the preview
 * @param state the state the PR shows
 * @param revision the revision it names (null if none)
 * @param url the URL it shows (null unless READY)
 * @param failedStep the failed step it names (null unless FAILED)
 */
public record PublishedStatus(
    PreviewKey key, PreviewState state, @Nullable String revision, @Nullable URI url, @Nullable String failedStep) {

  public PublishedStatus {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
  }

  /** What {@code status} shows once published. */
  public static PublishedStatus of(PreviewStatus status) {
    return new PublishedStatus(status.key(), status.state(), status.revision(), status.url(), status.failedStep());
  }

  /** Whether publishing {@code status} would change what the PR shows. */
  public boolean differsFrom(PreviewStatus status) {
    return !equals(of(status));
  }
}
