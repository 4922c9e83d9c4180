package dev.preview.testkit;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * An in-memory {@link EnvironmentProvider} named {@code fake}. Its "infrastructure" is an object
 * shared by every instance made with {@link #reopen()}, so a reopened instance sees what an earlier
 * one created, as after a restart. Thread-safe; every call goes through {@link #faults()} with the
 * operations {@code environment.apply|find|list|delete|suspend|resume|logs|imageAvailable} (the
 * key of {@code imageAvailable} is the image).
 *
 * <p>{@link #imageAvailable} answers what {@link #image} set for that image, UNKNOWN otherwise, and
 * counts the looks ({@link #looks}).
 *
 * <p>Applied environments are {@link Environment.Phase#RUNNING RUNNING} at
 * {@code http://<spec.hostname() or Names.dnsLabel(key)>.fake.test/} with the spec's labels.
 */
public final class FakeEnvironmentProvider implements EnvironmentProvider {
  public static final String NAME = "fake";

  private final Faults faults;
  private final Infra infra;

  public FakeEnvironmentProvider() {
    this(new Faults());
  }

  public FakeEnvironmentProvider(Faults faults) {
    this(faults, new Infra());
  }

  private FakeEnvironmentProvider(Faults faults, Infra infra) {
    this.faults = Objects.requireNonNull(faults, "faults");
    this.infra = infra;
  }

  /** A new instance over the same simulated infrastructure and faults: a restarted process. */
  public FakeEnvironmentProvider reopen() {
    return new FakeEnvironmentProvider(faults, infra);
  }

  public Faults faults() {
    return faults;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Environment apply(EnvironmentSpec spec) {
    Objects.requireNonNull(spec, "spec");
    return faults.call(NAME, "environment.apply", spec.key(), () -> {
      String host = spec.hostname() != null ? spec.hostname() : Names.dnsLabel(spec.key()) + ".fake.test";
      Environment env = new Environment(spec.key(), spec.revision(), URI.create("http://" + host + "/"),
          Environment.Phase.RUNNING, spec.labels());
      synchronized (infra) {
        infra.history.add(spec);
        infra.specs.put(spec.key(), spec);
        infra.environments.put(spec.key(), env);
      }
      return env;
    });
  }

  @Override
  public Optional<Environment> find(PreviewKey key) {
    return faults.call(NAME, "environment.find", key, () -> {
      synchronized (infra) {
        return Optional.ofNullable(infra.environments.get(key));
      }
    });
  }

  @Override
  public List<Environment> list() {
    return faults.call(NAME, "environment.list", null, () -> {
      synchronized (infra) {
        return List.copyOf(infra.environments.values());
      }
    });
  }

  @Override
  public void delete(PreviewKey key) {
    faults.run(NAME, "environment.delete", key, () -> {
      synchronized (infra) {
        infra.environments.remove(key);
        infra.specs.remove(key);
        infra.deleted.add(key);
      }
    });
  }

  @Override
  public boolean supportsSuspend() {
    return true;
  }

  @Override
  public void suspend(PreviewKey key) {
    faults.run(NAME, "environment.suspend", key, () -> setPhase(key, Environment.Phase.SUSPENDED));
  }

  @Override
  public Environment resume(PreviewKey key) {
    return faults.call(NAME, "environment.resume", key, () -> setPhase(key, Environment.Phase.RUNNING));
  }

  private Environment setPhase(PreviewKey key, Environment.Phase phase) {
    synchronized (infra) {
      Environment e = infra.environments.get(key);
      if (e == null) {
        throw new ProviderException(NAME, "no environment for " + key + " (apply it first)", false);
      }
      Environment changed = new Environment(e.key(), e.revision(), e.url(), phase, e.labels());
      infra.environments.put(key, changed);
      return changed;
    }
  }

  /**
   * From now on (also for {@link #reopen()}ed instances), a revision that failed its readiness gate
   * ({@link #rejectRevision}) is stopped: phase FAILED, marked with {@link Labels#FAILED_REVISION},
   * as a provider that cannot roll back does. Without it the fake does what the SPI's default does:
   * nothing (the app is left running).
   */
  public FakeEnvironmentProvider stopsFailedRevisions() {
    synchronized (infra) {
      infra.stopsFailedRevisions = true;
    }
    return this;
  }

  @Override
  public Optional<Environment> rejectRevision(PreviewKey key, String revision) {
    return faults.call(NAME, "environment.rejectRevision", key, () -> {
      synchronized (infra) {
        Environment e = infra.environments.get(key);
        if (!infra.stopsFailedRevisions || e == null || !revision.equals(e.revision())) {
          return Optional.ofNullable(e);
        }
        infra.rejected.add(revision);
        java.util.Map<String, String> labels = new java.util.LinkedHashMap<>(e.labels());
        labels.put(Labels.FAILED_REVISION, revision);
        Environment stopped = new Environment(e.key(), e.revision(), e.url(), Environment.Phase.FAILED, labels);
        infra.environments.put(key, stopped);
        return Optional.of(stopped);
      }
    });
  }

  /** The revisions {@link #rejectRevision} stopped, in order (with {@link #stopsFailedRevisions()}). */
  public List<String> rejected() {
    synchronized (infra) {
      return List.copyOf(infra.rejected);
    }
  }

  @Override
  public boolean supportsRelabel() {
    return true;
  }

  @Override
  public Optional<Environment> relabel(PreviewKey key, java.util.Map<String, String> labels) {
    Labels.requireLifecycle(labels);
    return faults.call(NAME, "environment.relabel", key, () -> {
      synchronized (infra) {
        Environment e = infra.environments.get(key);
        if (e == null) {
          return Optional.<Environment>empty();
        }
        java.util.Map<String, String> merged = new java.util.LinkedHashMap<>(e.labels());
        labels.forEach((name, value) -> {
          if (value.isEmpty()) {
            merged.remove(name);
          } else {
            merged.put(name, value);
          }
        });
        Environment changed = new Environment(e.key(), e.revision(), e.url(), e.phase(), merged);
        infra.environments.put(key, changed);
        return Optional.of(changed);
      }
    });
  }

  @Override
  public List<String> logs(PreviewKey key, int lines) {
    return faults.call(NAME, "environment.logs", key, () -> {
      synchronized (infra) {
        List<String> all = infra.logs.getOrDefault(key, List.of());
        return List.copyOf(all.subList(Math.max(0, all.size() - Math.max(0, lines)), all.size()));
      }
    });
  }

  @Override
  public ImageAvailability imageAvailable(String image) {
    return faults.call(NAME, "environment.imageAvailable", image, () -> {
      synchronized (infra) {
        infra.looks.merge(image, 1, Integer::sum);
        return infra.images.getOrDefault(image, ImageAvailability.UNKNOWN);
      }
    });
  }

  /** What {@link #imageAvailable} answers for {@code image} from now on (CI pushed it: PRESENT). */
  public FakeEnvironmentProvider image(String image, ImageAvailability availability) {
    synchronized (infra) {
      infra.images.put(image, Objects.requireNonNull(availability, "availability"));
    }
    return this;
  }

  /** How many times {@link #imageAvailable} was asked about {@code image}. */
  public int looks(String image) {
    synchronized (infra) {
      return infra.looks.getOrDefault(image, 0);
    }
  }

  /** The canned output {@link #logs} returns for {@code key} (oldest first). */
  public FakeEnvironmentProvider setLogs(PreviewKey key, List<String> lines) {
    synchronized (infra) {
      infra.logs.put(key, List.copyOf(lines));
    }
    return this;
  }

  /** Every spec applied successfully, in order (also those of since-deleted environments). */
  public List<EnvironmentSpec> applied() {
    synchronized (infra) {
      return List.copyOf(infra.history);
    }
  }

  /** The specs applied successfully for {@code key}, in order. */
  public List<EnvironmentSpec> applied(PreviewKey key) {
    synchronized (infra) {
      return infra.history.stream().filter(s -> s.key().equals(key)).toList();
    }
  }

  /** The spec the environment of {@code key} now runs; empty if it does not exist or was planted. */
  public Optional<EnvironmentSpec> current(PreviewKey key) {
    synchronized (infra) {
      return Optional.ofNullable(infra.specs.get(key));
    }
  }

  /** The keys that have an environment now, sorted. */
  public Set<PreviewKey> keys() {
    synchronized (infra) {
      return new TreeSet<>(infra.environments.keySet());
    }
  }

  /** Every successful {@link #delete} call, in order (absent keys included). */
  public List<PreviewKey> deleted() {
    synchronized (infra) {
      return List.copyOf(infra.deleted);
    }
  }

  /** Puts an environment on the "infrastructure" without a spec: a leftover or an orphan. */
  public FakeEnvironmentProvider plant(Environment e) {
    synchronized (infra) {
      infra.environments.put(e.key(), e);
      infra.specs.remove(e.key());
    }
    return this;
  }

  @Override
  public String toString() {
    return "FakeEnvironmentProvider" + keys();
  }

  private static final class Infra {
    final List<EnvironmentSpec> history = new ArrayList<>();
    final Map<PreviewKey, EnvironmentSpec> specs = new LinkedHashMap<>();
    final Map<PreviewKey, Environment> environments = new LinkedHashMap<>();
    final Map<PreviewKey, List<String>> logs = new LinkedHashMap<>();
    final List<PreviewKey> deleted = new ArrayList<>();
    final Map<String, ImageAvailability> images = new LinkedHashMap<>();
    final Map<String, Integer> looks = new LinkedHashMap<>();
    boolean stopsFailedRevisions;
    final List<String> rejected = new ArrayList<>();
  }
}
