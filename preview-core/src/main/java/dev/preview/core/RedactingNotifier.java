package dev.preview.core;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.ScmNotifier;
import java.util.Optional;

/**
 * The one exit of every {@link PreviewStatus} to the PR: the orchestrator's notifier behind a
 * {@link Redaction}. Message, failed step and log tail lose every known secret before the real
 * notifier (a PR comment, a console) sees them, whichever part of the orchestrator built the status.
 */
final class RedactingNotifier implements ScmNotifier {
  private final ScmNotifier delegate;
  private final Redaction redaction;

  private RedactingNotifier(ScmNotifier delegate, Redaction redaction) {
    this.delegate = delegate;
    this.redaction = redaction;
  }

  /** {@code notifier} behind {@code redaction}; null stays null (no notifier configured). */
  static ScmNotifier wrap(ScmNotifier notifier, Redaction redaction) {
    return notifier == null ? null : new RedactingNotifier(notifier, redaction);
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public void publish(PreviewStatus s) {
    delegate.publish(redacted(s, redaction));
  }

  /** What the PR shows, read from the real notifier (nothing of it is secret: state, revision, URL, step). */
  @Override
  public Optional<PublishedStatus> published(PreviewKey key) {
    return delegate.published(key);
  }

  @Override
  public Optional<java.util.Map<PreviewKey, PublishedStatus>> publishedAll(String repository) {
    return delegate.publishedAll(repository);
  }

  static PreviewStatus redacted(PreviewStatus s, Redaction r) {
    return new PreviewStatus(s.key(), s.state(), s.revision(), s.url(), s.links(), r.text(s.message()),
        r.text(s.failedStep()), r.lines(s.logTail()), s.steps(), s.updatedAt(), r.text(s.database()), r.lines(s.changes()), r.text(s.lastCommand()));
  }

  @Override
  public void close() {
    // the orchestrator closes the notifier it was given
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
