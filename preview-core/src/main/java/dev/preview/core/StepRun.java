package dev.preview.core;

import dev.preview.spi.PreviewKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The step timings and the current step of one run (deploy or teardown): times each step and
 * reports its start and end to the listeners. Confined to the run's worker thread.
 */
class StepRun {
  final PreviewKey key;
  final Map<String, Duration> timings = new LinkedHashMap<>();
  /** The step running or last run: the one a failure is reported against. */
  String step;
  private final Listeners listeners;

  StepRun(PreviewKey key, Listeners listeners) {
    this.key = key;
    this.listeners = listeners;
  }

  <T> T step(String name, Supplier<T> body) {
    step = name;
    listeners.fire(l -> l.onStepStarted(key, name));
    long t0 = System.nanoTime();
    try {
      T r = body.get();
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      timings.put(name, took);
      listeners.stepFinished(key, name, took, null);
      return r;
    } catch (RuntimeException e) {
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      timings.put(name, took);
      if (!(e instanceof KeyScheduler.Superseded)) {
        listeners.stepFinished(key, name, took, e);
      }
      throw e;
    }
  }

  void step(String name, Runnable body) {
    step(name, () -> {
      body.run();
      return null;
    });
  }
}
