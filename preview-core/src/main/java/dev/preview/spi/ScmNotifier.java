package dev.preview.spi;

/**
 * Tells the pull request about its preview: one sticky status per PR, created once and then
 * updated in place (a comment found again by its hidden {@link PreviewStatus#marker() marker}, plus
 * the SCM's own deployment or environment status).
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Idempotent: publishing the same status twice leaves one comment with that content.</li>
 *   <li>Never publishes a secret; a {@link PreviewStatus} holds none.</li>
 *   <li>Safe for different keys concurrently. A failure throws {@link ProviderException}; the
 *       orchestrator logs it and does not fail the preview for it.</li>
 * </ul>
 */
public interface ScmNotifier extends AutoCloseable {

  String name();

  void publish(PreviewStatus status);

  @Override
  default void close() {}

  /** Discovered from {@code META-INF/services/dev.preview.spi.ScmNotifier$Factory}. */
  interface Factory {
    String name();

    ScmNotifier create(ProviderConfig config);
  }
}
