package dev.preview.server.gateway;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An environment provider whose {@code find} and {@code list} show the gateway's visits: the
 * {@link Labels#LAST_ACTIVITY} and {@link Labels#LAST_VISIT} labels are the later of what the
 * infrastructure holds (the last push, or a visit already written back) and the last visit in the
 * gateway's memory. The orchestrator is built on
 * it ({@link PreviewGateway#visitAware}), so {@code policy.idleTimeout} and {@code policy.sleepAfter}
 * count visits even before they are flushed, and on providers that cannot relabel at all.
 * Everything else goes to the provider unchanged.
 */
final class VisitAwareEnvironmentProvider implements EnvironmentProvider {
  private final EnvironmentProvider delegate;
  private final Visits visits;

  VisitAwareEnvironmentProvider(EnvironmentProvider delegate, Visits visits) {
    this.delegate = delegate;
    this.visits = visits;
  }

  private Environment withVisits(Environment e) {
    Optional<Instant> visit = visits.last(e.key());
    if (visit.isEmpty()) {
      return e;
    }
    Optional<Instant> held = e.lastActivity();
    Optional<Instant> heldVisit = Labels.instant(e.labels(), Labels.LAST_VISIT);
    boolean activity = held.isEmpty() || held.get().isBefore(visit.get());
    boolean visited = heldVisit.isEmpty() || heldVisit.get().isBefore(visit.get());
    if (!activity && !visited) {
      return e;
    }
    Map<String, String> labels = new LinkedHashMap<>(e.labels());
    if (activity) {
      labels.put(Labels.LAST_ACTIVITY, visit.get().toString());
    }
    if (visited) {
      labels.put(Labels.LAST_VISIT, visit.get().toString());
    }
    return new Environment(e.key(), e.revision(), e.url(), e.phase(), labels);
  }

  @Override public String name() { return delegate.name(); }

  @Override
  public Environment apply(EnvironmentSpec spec) {
    Environment applied = delegate.apply(spec);
    visits.applied(spec.key(), Labels.instant(spec.labels(), Labels.LAST_VISIT));
    return applied;
  }
  @Override public Optional<Environment> find(PreviewKey key) { return delegate.find(key).map(this::withVisits); }
  @Override public List<Environment> list() { return delegate.list().stream().map(this::withVisits).toList(); }

  @Override
  public void delete(PreviewKey key) {
    delegate.delete(key);
    visits.forget(key);
  }

  @Override public boolean supportsSuspend() { return delegate.supportsSuspend(); }
  @Override public void suspend(PreviewKey key) { delegate.suspend(key); }
  @Override public Environment resume(PreviewKey key) { return withVisits(delegate.resume(key)); }
  @Override public boolean supportsRelabel() { return delegate.supportsRelabel(); }
  @Override public Optional<Environment> relabel(PreviewKey key, Map<String, String> labels) { return delegate.relabel(key, labels); }
  @Override public List<String> logs(PreviewKey key, int lines) { return delegate.logs(key, lines); }
  @Override public Optional<dev.preview.spi.AppExit> exitStatus(PreviewKey key) { return delegate.exitStatus(key); }
  @Override public Optional<Environment> rejectRevision(PreviewKey key, String revision) {
    return delegate.rejectRevision(key, revision).map(this::withVisits);
  }
  @Override public void acceptRevision(PreviewKey key, String revision) { delegate.acceptRevision(key, revision); }
  @Override public ImageAvailability imageAvailable(String image) { return delegate.imageAvailable(image); }
  @Override public Optional<String> buildImage(dev.preview.spi.EnvironmentSpec spec, Runnable checkpoint) {
    return delegate.buildImage(spec, checkpoint);
  }
  @Override public List<String> buildCommand(PreviewKey key, java.nio.file.Path workspace, List<String> command) {
    return delegate.buildCommand(key, workspace, command);
  }
  @Override public void close() { delegate.close(); }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
