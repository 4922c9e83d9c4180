package dev.preview.spi;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs the environments of previews: local processes, containers on a Docker host, a namespace on
 * Kubernetes.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Every method is safe to call from several threads at once for <em>different</em> keys. The
 *       orchestrator never calls it concurrently for the same key.</li>
 *   <li>{@link #apply} and {@link #delete} are idempotent, and a crash at any point inside them is
 *       repaired by the next call: whatever a half-finished call left behind is adopted or removed.</li>
 *   <li>State lives on the infrastructure: everything created carries the spec's
 *       {@link EnvironmentSpec#labels() labels} (see {@link Labels}); {@link #list()} and
 *       {@link #find} read them back and never answer from memory, so a new instance of the
 *       provider (after a restart) sees exactly what an old one created.</li>
 *   <li>Secrets are injected into the running app and never appear in labels, logs or exceptions.</li>
 *   <li>Failures throw {@link ProviderException} (with {@code retryable} set where a retry may help).</li>
 * </ul>
 */
public interface EnvironmentProvider extends AutoCloseable {

  /** The provider's name, as in config ({@code local}, {@code docker}, {@code kubernetes}). */
  String name();

  /**
   * Creates the environment of {@code spec.key()}, or updates it to the spec (a new revision, new
   * env vars). Returns once the environment is started; readiness is checked by the caller.
   * Idempotent: applying the same spec twice leaves one environment. A suspended environment is
   * started again (a push wakes a sleeping preview through {@code apply}, never through {@link #resume}).
   *
   * @return the environment as now observed, with its URL
   */
  Environment apply(EnvironmentSpec spec);

  /** The environment of {@code key}, if one exists (in any phase). */
  Optional<Environment> find(PreviewKey key);

  /** Every environment this provider manages, found by ownership labels. May be empty, never null. */
  List<Environment> list();

  /** Removes everything of {@code key}. Idempotent: deleting an absent environment is fine. */
  void delete(PreviewKey key);

  /** Whether {@link #suspend} and {@link #resume} work. */
  default boolean supportsSuspend() {
    return false;
  }

  /** Scales the environment to zero, keeping what a {@link #resume} needs. Idempotent. */
  default void suspend(PreviewKey key) {
    throw new UnsupportedOperationException(name() + " cannot suspend environments");
  }

  /** Starts a suspended environment again. Idempotent. */
  default Environment resume(PreviewKey key) {
    throw new UnsupportedOperationException(name() + " cannot resume environments");
  }

  /**
   * Whether {@link #relabel} works for this provider. Without it, lifecycle labels change only with a
   * deploy, and the gateway keeps the visits it sees in its own memory.
   */
  default boolean supportsRelabel() {
    return false;
  }

  /**
   * Merges lifecycle labels into the environment's labels on the infrastructure without redeploying
   * it (the app keeps running, the revision is unchanged): only {@link Labels#LIFECYCLE}
   * ({@code last-activity}, {@code last-visit}, {@code expires}, {@code pinned}, {@code time-to-url}) may
   * be changed; a value of {@code ""}
   * removes the label. Used by the gateway (a visit is activity) and by operator actions (extend, pin).
   * Idempotent; an absent environment is {@link Optional#empty()}, never an error.
   *
   * @return the environment as the infrastructure holds it now
   * @throws IllegalArgumentException for a label outside {@link Labels#LIFECYCLE}
   * @throws UnsupportedOperationException unless {@link #supportsRelabel()}
   */
  default Optional<Environment> relabel(PreviewKey key, Map<String, String> labels) {
    throw new UnsupportedOperationException(name() + " cannot change labels of a running environment");
  }

  /** The last {@code lines} lines of the app's output, oldest first; empty if unknown. */
  default List<String> logs(PreviewKey key, int lines) {
    return List.of();
  }

  /**
   * How the app of {@code key} ended, if its process (container, pod) has exited or been restarted
   * since it was started for its current revision; empty while it runs untroubled, when there is no
   * environment, when it is suspended, or when the provider cannot tell. The readiness gate calls it
   * between two probes (about once per {@code app.readiness.interval}), so that a crash fails the
   * deploy at once with its exit code instead of when the readiness timeout runs out: it must be
   * cheap (one lookup), must not change anything, and must not throw for an absent environment.
   * What it returns goes into the PR's status: never a secret.
   *
   * <p>Default: empty; the gate then relies on {@link #find} reporting {@link Environment.Phase#FAILED}.
   */
  default Optional<AppExit> exitStatus(PreviewKey key) {
    return Optional.empty();
  }

  /**
   * {@code revision} of {@code key} failed the readiness gate: takes it out of service, so that no
   * one (a later {@link #list}, another process, a restarted orchestrator) takes it for READY. A
   * provider that kept the previous healthy revision serving until the new one was healthy rolls
   * back to it (then {@link #find} reports that revision, RUNNING); any other stops the failed
   * revision (then {@link #find} reports it {@link Environment.Phase#FAILED}). Either way it records
   * {@link Labels#FAILED_REVISION} on the infrastructure where it can, and keeps the app's logs for
   * {@link #logs}; the next {@link #apply} starts afresh and clears the mark. Idempotent; does nothing
   * when the environment is absent or runs another revision.
   *
   * <p>Default: does nothing (the app keeps running) and returns {@link #find}; the orchestrator then
   * says so in the FAILED status. Providers should override it.
   *
   * @return the environment as now observed: at another revision and RUNNING when rolled back
   */
  default Optional<Environment> rejectRevision(PreviewKey key, String revision) {
    return find(key);
  }

  /**
   * {@code revision} of {@code key} passed the readiness gate: a provider that kept the previous
   * revision (to roll back to in {@link #rejectRevision}) lets it go now. The orchestrator calls it
   * once the gate passes; a crash before that leaves the previous revision to the next
   * {@link #apply}, which must then not keep more than one. Idempotent; does nothing when the
   * environment is absent, runs another revision, or keeps nothing.
   *
   * <p>Default: does nothing.
   */
  default void acceptRevision(PreviewKey key, String revision) {}

  /**
   * Whether {@code image} exists now, so that a deploy waiting for CI to build it can look
   * ({@code build.pollImage}). Must be cheap (one local lookup or one registry request), must not
   * pull or build anything, must never throw (an error is {@link ImageAvailability#UNKNOWN}) and
   * must not put credentials in a log or a message. Thread-safe.
   *
   * <p>Default: {@link ImageAvailability#UNKNOWN}, for providers that cannot look; a wait then
   * relies on CI events ({@code build.waitFor}) and its timeout.
   */
  default ImageAvailability imageAvailable(String image) {
    return ImageAvailability.UNKNOWN;
  }

  /**
   * The command line that runs {@code command}, the PR's build ({@code app.build} with
   * {@code build.from: source}: code the PR controls), in this provider's isolation for {@code key},
   * in {@code workspace} (the PR's own checkout, which the provider may hand to the preview's user).
   * Called on the server's host before {@link #apply}.
   *
   * <p>Default: {@code command} unchanged, so the build runs as the server's own user; the deploy then
   * refuses to run a fork PR's build while the server runs as root. The local provider with
   * {@code environment.user} runs it as the preview's own uid, as it runs the app.
   */
  default List<String> buildCommand(PreviewKey key, java.nio.file.Path workspace, List<String> command) {
    return command;
  }

  /**
   * Builds the image of {@code spec} from its {@link EnvironmentSpec#buildContext()} ahead of
   * {@link #apply}, for a deploy's {@code build} step: so that a failed build is reported as the
   * build's (with its last lines) and a newer push can stop it. Calls {@code checkpoint} every second
   * or so while building; it throws (an unchecked exception the provider must let through, after
   * stopping the build) when the build is of no use any more. Returns the image to run (then
   * {@code apply} gets a spec with that image instead of the build context), or empty for a provider
   * that does not build images, or builds them only in {@code apply}. Idempotent: an image already
   * built for the revision is returned as it is.
   */
  default java.util.Optional<String> buildImage(EnvironmentSpec spec, Runnable checkpoint) {
    return java.util.Optional.empty();
  }

  /** Releases clients and connections; does not touch any environment. */
  @Override
  default void close() {}

  /**
   * Discovered with {@link java.util.ServiceLoader} from
   * {@code META-INF/services/dev.preview.spi.EnvironmentProvider$Factory}. Must be cheap to
   * construct: heavy clients are built in {@link #create}, only for the provider config selects.
   */
  interface Factory {
    /** The name users put in {@code environment.provider}. */
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
    EnvironmentProvider create(ProviderContext context);
  }
}
