package dev.preview.core;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewState;
import java.util.List;

/**
 * Step "wait", before the database and the environment, when {@link BuildSettings#waits()}: a
 * revision whose image CI has not built yet does not fail; the run publishes WAITING (with the
 * image and the CI checks it waits for) and ends, holding no thread. {@link BuildWaits} submits the
 * deploy again when the build is done, failed, or timed out; this step then goes on, or fails with
 * the reason. Immutable.
 */
final class WaitForImageStep implements DeployStep {
  private final BuildSettings settings;
  private final BuildWaits waits;
  private final AppTemplate app;
  private final EnvironmentProvider environment;
  private final StatusPublisher status;
  private final Listeners listeners;

  WaitForImageStep(BuildSettings settings, BuildWaits waits, AppTemplate app, EnvironmentProvider environment,
      StatusPublisher status, Listeners listeners) {
    this.settings = settings;
    this.waits = waits;
    this.app = app;
    this.environment = environment;
    this.status = status;
    this.listeners = listeners;
  }

  @Override
  public String name() {
    return "wait";
  }

  @Override
  public boolean appliesTo(DeployRun run) {
    return settings.waits();
  }

  @Override
  public void run(DeployRun run) {
    String image = app.image(run.key, run.revision, run.pr.headRef()); // the image the environment step deploys
    if (image == null) {
      throw new IllegalStateException("build.waitFor and build.pollImage wait for app.image, but app.image is not set;"
          + " set app.image to the image CI builds (e.g. registry.example/shop:{sha}) or remove them");
    }
    String running = environment.find(run.key).map(Environment::revision).orElse(null);
    run.buildWait = waits.check(run.pr, image, running);
    if (run.buildWait instanceof BuildWaits.Fail f) {
      throw new IllegalStateException(f.reason());
    }
  }

  @Override
  public void then(DeployRun run) {
    if (run.buildWait instanceof BuildWaits.Wait w) {
      listeners.transition(run.key, PreviewState.WAITING, w.message());
      status.publish(run.key, PreviewState.WAITING, run.revision, null, w.message(), null, List.of(), run.timings);
      run.finish(new Preview(run.key, PreviewState.WAITING, run.revision, null, null, w.message(), null, run.timings,
          null, null));
    }
  }
}
