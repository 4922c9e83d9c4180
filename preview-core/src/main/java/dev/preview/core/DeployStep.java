package dev.preview.core;

/**
 * One step of a deploy, run by the {@link DeployPipeline} in list order over a shared
 * {@link DeployRun}. Between two steps the pipeline checks for a newer event (a safe point), so a
 * step's work is never abandoned midway; steps must be idempotent, since an abandoned run's
 * resources are adopted by the next one.
 *
 * <p>A new step (building the image, waiting for CI, running migrations) is added to the list in
 * {@link DeploySteps#standard()}; neither the pipeline nor the scheduler changes.
 */
interface DeployStep {

  /** The name listeners, timings and a FAILED status show ("policy", "database", ...). */
  String name();

  /** Whether this run has the step at all (no database provider: no "database" step). */
  default boolean appliesTo(DeployRun run) {
    return true;
  }

  /** Work the step needs before it starts, not timed nor reported as the step (building its input). */
  default void prepare(DeployRun run) {}

  /** The step's work: timed, and reported to the listeners as {@link #name()}. */
  void run(DeployRun run);

  /** Work on the step's result once it is reported done; may end the run with {@link DeployRun#finish}. */
  default void then(DeployRun run) {}
}
