package dev.preview.spi;

import java.util.Map;
import java.util.Optional;

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

  /**
   * Reads back what the PR shows now (the last published state, from the sticky comment's marker or
   * the SCM's deployment status), so reconcile re-publishes only where it differs from the observed
   * state. {@link Optional#empty()} when nothing was ever published for this PR, or when the notifier
   * cannot read back (the default); a read that fails throws {@link ProviderException} and counts as
   * unknown, never as "nothing published".
   */
  default Optional<PublishedStatus> published(PreviewKey key) {
    return Optional.empty();
  }

  /**
   * Reads back, in one listing (a few pages at most), what every PR of {@code repository} shows: the
   * bulk form of {@link #published(PreviewKey)}, which reconcile uses instead of one read per PR when
   * it can. Optional; the default returns {@link Optional#empty()}: this notifier cannot list in bulk,
   * and the caller reads each PR with {@link #published(PreviewKey)}.
   *
   * <p>A present map has an entry for every PR of the repository that shows a status of ours, keyed
   * by its preview; a PR without an entry shows nothing of ours (as {@code published(key)} would
   * answer empty). A listing that fails throws {@link ProviderException}: what every PR of the
   * repository shows is then unknown, never "nothing published". Safe to call concurrently with
   * {@link #publish} for other keys.
   *
   * @param repository {@code owner/name}, as in {@link PreviewKey#repository()}
   */
  default Optional<Map<PreviewKey, PublishedStatus>> publishedAll(String repository) {
    return Optional.empty();
  }

  @Override
  default void close() {}

  /** Discovered from {@code META-INF/services/dev.preview.spi.ScmNotifier$Factory}. */
  interface Factory {
    /** The name users put in the {@code provider} key of the section. */
    String name();

    /**
     * Builds the provider from {@code context}: reads its settings from {@link ProviderContext#config()},
     * then calls {@link ProviderConfig#validate()} so all problems are reported at once; takes the
     * installation-wide values (instance, clock, hostnames, DNS target and TTL) from
     * {@link ProviderContext#installation()}, never from its own section. Must not contact any
     * server for a config that fails validation.
     *
     * @throws ConfigurationException listing every problem of the section
     */
    ScmNotifier create(ProviderContext context);
  }
}
