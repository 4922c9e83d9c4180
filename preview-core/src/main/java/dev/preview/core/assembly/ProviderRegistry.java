package dev.preview.core.assembly;

import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Installation;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderNotFoundException;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider factories found on the classpath (through {@link ServiceLoader}) plus those
 * registered in code, by {@link ProviderKind} and name.
 *
 * <p>Holding a factory is cheap; a provider is built only when asked for, by the section that selects
 * it ({@link #environment(ProviderSection)} etc.). Selection rules:
 * <ul>
 *   <li>A factory registered in code ({@link #withEnvironment} etc.) wins over a discovered one of
 *       the same name.</li>
 *   <li>An unknown name throws {@link ProviderNotFoundException} listing the names found and, for
 *       the providers of this project, the artifact to add.</li>
 *   <li>Two discovered factories with one name: a warning lists both classes, and the first by class
 *       name is used (deterministic, whatever the classpath order).</li>
 *   <li>A broken registration (a listed class that is missing, does not implement the interface,
 *       or whose constructor throws) is logged as a warning and skipped; the others still load.</li>
 * </ul>
 * Immutable and thread-safe; the {@code with*} methods return a new registry.
 */
public final class ProviderRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ProviderRegistry.class);
  /** Stops a ServiceLoader iterator that keeps failing on the same entry. */
  private static final int MAX_ERRORS = 100;
  private static final Map<String, String> ARTIFACTS = Map.ofEntries(
      Map.entry("docker", "dev.preview:preview-docker"),
      Map.entry("kubernetes", "dev.preview:preview-k8s"),
      Map.entry("cloudflare", "dev.preview:preview-dns"),
      Map.entry("route53", "dev.preview:preview-dns"),
      Map.entry("rfc2136", "dev.preview:preview-dns"),
      Map.entry("none", "dev.preview:preview-dns"),
      Map.entry("postgres", "dev.preview:preview-db"),
      Map.entry("mysql", "dev.preview:preview-db"),
      Map.entry("redis", "dev.preview:preview-db"),
      Map.entry("sqlite", "dev.preview:preview-db"),
      Map.entry("github", "dev.preview:preview-scm"),
      Map.entry("gitlab", "dev.preview:preview-scm"));

  /** kind -> name -> factory; sorted by name. */
  private final Map<ProviderKind, Map<String, Object>> factories;

  private ProviderRegistry(Map<ProviderKind, Map<String, Object>> factories) {
    this.factories = factories;
  }

  /** A registry with no factories; add them with the {@code with*} methods. */
  public static ProviderRegistry empty() {
    Map<ProviderKind, Map<String, Object>> m = new EnumMap<>(ProviderKind.class);
    for (ProviderKind k : ProviderKind.values()) {
      m.put(k, Collections.unmodifiableMap(new TreeMap<>()));
    }
    return new ProviderRegistry(Collections.unmodifiableMap(m));
  }

  /**
   * The factories registered through {@code META-INF/services} of the context class loader (or of
   * this library's loader when there is none). Discovery runs on every call; keep the result.
   */
  public static ProviderRegistry defaultRegistry() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return load(cl != null ? cl : ProviderRegistry.class.getClassLoader());
  }

  /** The factories registered through {@code META-INF/services} visible to {@code loader}. */
  public static ProviderRegistry load(ClassLoader loader) {
    Map<ProviderKind, Map<String, Object>> m = new EnumMap<>(ProviderKind.class);
    for (ProviderKind k : ProviderKind.values()) {
      m.put(k, Collections.unmodifiableMap(discover(k, loader)));
    }
    return new ProviderRegistry(Collections.unmodifiableMap(m));
  }

  private static Map<String, Object> discover(ProviderKind kind, ClassLoader loader) {
    Map<String, List<Object>> byName = new TreeMap<>();
    Iterator<?> it = ServiceLoader.load(kind.factoryType(), loader).iterator();
    int errors = 0;
    while (errors < MAX_ERRORS) {
      try {
        if (!it.hasNext()) {
          break;
        }
        Object factory = it.next();
        String name = nameOf(factory);
        if (name == null || name.isBlank()) {
          LOG.warn("Skipping {} factory {}: its name() is empty", kind.key(), factory.getClass().getName());
          continue;
        }
        byName.computeIfAbsent(name, n -> new ArrayList<>()).add(factory);
      } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
        // One broken jar must not take the others down: skip it, say why.
        errors++;
        LOG.warn("Skipping a broken {} provider registration (META-INF/services/{}): {}",
            kind.key(), kind.factoryType().getName(), describe(e));
      }
    }
    Map<String, Object> out = new TreeMap<>();
    byName.forEach((name, candidates) -> {
      candidates.sort((a, b) -> a.getClass().getName().compareTo(b.getClass().getName()));
      if (candidates.size() > 1) {
        LOG.warn("{} {} providers are named \"{}\": {}; using {} (first by class name). Remove one from the classpath.",
            candidates.size(), kind.key(), name, candidates.stream().map(c -> c.getClass().getName()).toList(),
            candidates.get(0).getClass().getName());
      }
      out.put(name, candidates.get(0));
    });
    return out;
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      sb.append(" (caused by ").append(c.getClass().getName()).append(": ").append(c.getMessage()).append(')');
    }
    return sb.toString();
  }

  private static String nameOf(Object factory) {
    if (factory instanceof EnvironmentProvider.Factory f) {
      return f.name();
    }
    if (factory instanceof DatabaseProvider.Factory f) {
      return f.name();
    }
    if (factory instanceof DnsProvider.Factory f) {
      return f.name();
    }
    if (factory instanceof ScmNotifier.Factory f) {
      return f.name();
    }
    if (factory instanceof PullRequestSource.Factory f) {
      return f.name();
    }
    throw new IllegalArgumentException("not a provider factory: " + factory.getClass().getName());
  }

  /** A registry that also holds {@code factory}, ahead of any discovered one with its name. */
  public ProviderRegistry withEnvironment(EnvironmentProvider.Factory factory) {
    return with(ProviderKind.ENVIRONMENT, factory);
  }

  /** A registry that also holds {@code factory}, ahead of any discovered one with its name. */
  public ProviderRegistry withDatabase(DatabaseProvider.Factory factory) {
    return with(ProviderKind.DATABASE, factory);
  }

  /** A registry that also holds {@code factory}, ahead of any discovered one with its name. */
  public ProviderRegistry withDns(DnsProvider.Factory factory) {
    return with(ProviderKind.DNS, factory);
  }

  /** A registry that also holds {@code factory}, ahead of any discovered one with its name. */
  public ProviderRegistry withNotifier(ScmNotifier.Factory factory) {
    return with(ProviderKind.SCM, factory);
  }

  /** A registry that also holds {@code factory}, ahead of any discovered one with its name. */
  public ProviderRegistry withPullRequests(PullRequestSource.Factory factory) {
    return with(ProviderKind.PULL_REQUESTS, factory);
  }

  private ProviderRegistry with(ProviderKind kind, Object factory) {
    Objects.requireNonNull(factory, "factory");
    String name = nameOf(factory);
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(kind.key() + " factory " + factory.getClass().getName() + " has no name");
    }
    Map<ProviderKind, Map<String, Object>> m = new EnumMap<>(factories);
    Map<String, Object> names = new TreeMap<>(m.get(kind));
    names.put(name, factory);
    m.put(kind, Collections.unmodifiableMap(names));
    return new ProviderRegistry(Collections.unmodifiableMap(m));
  }

  /** The names available for {@code kind}, sorted. */
  public SortedSet<String> names(ProviderKind kind) {
    return Collections.unmodifiableSortedSet(new TreeSet<>(factories.get(kind).keySet()));
  }

  /** Whether a factory named {@code name} exists for {@code kind}. */
  public boolean has(ProviderKind kind, String name) {
    return factories.get(kind).containsKey(name);
  }

  /** The factory of {@code kind} named {@code name}, if any (e.g. an {@link EnvironmentProvider.Factory}). */
  public Optional<Object> factory(ProviderKind kind, String name) {
    return Optional.ofNullable(factories.get(kind).get(name));
  }

  /**
   * Builds the environment provider that {@code section} selects, handing it the section's config
   * and the installation-wide values in a {@link ProviderContext}.
   *
   * @throws ProviderNotFoundException no factory has that name
   * @throws dev.preview.spi.ConfigurationException the provider found problems in its section
   */
  public EnvironmentProvider environment(ProviderSection section, Installation installation) {
    return create(ProviderKind.ENVIRONMENT, section, installation, EnvironmentProvider.Factory.class, EnvironmentProvider.Factory::create);
  }

  /** Builds the database provider that {@code section} selects; see {@link #environment}. */
  public DatabaseProvider database(ProviderSection section, Installation installation) {
    return create(ProviderKind.DATABASE, section, installation, DatabaseProvider.Factory.class, DatabaseProvider.Factory::create);
  }

  /** Builds the DNS provider that {@code section} selects; see {@link #environment}. */
  public DnsProvider dns(ProviderSection section, Installation installation) {
    return create(ProviderKind.DNS, section, installation, DnsProvider.Factory.class, DnsProvider.Factory::create);
  }

  /** Builds the SCM notifier that {@code section} selects; see {@link #environment}. */
  public ScmNotifier notifier(ProviderSection section, Installation installation) {
    return create(ProviderKind.SCM, section, installation, ScmNotifier.Factory.class, ScmNotifier.Factory::create);
  }

  /** Builds the pull request source that {@code section} selects; see {@link #environment}. */
  public PullRequestSource pullRequests(ProviderSection section, Installation installation) {
    return create(ProviderKind.PULL_REQUESTS, section, installation, PullRequestSource.Factory.class, PullRequestSource.Factory::create);
  }

  private <F, T> T create(ProviderKind kind, ProviderSection section, Installation installation, Class<F> type,
      java.util.function.BiFunction<F, ProviderContext, T> create) {
    Objects.requireNonNull(section, "section");
    Objects.requireNonNull(installation, "installation");
    if (section.kind() != kind) {
      throw new IllegalArgumentException("expected a " + kind.key() + " section, got " + section);
    }
    Object factory = factories.get(kind).get(section.provider());
    if (factory == null) {
      throw notFound(kind, section);
    }
    return create.apply(type.cast(factory), ProviderContext.of(section.config(), installation));
  }

  private ProviderNotFoundException notFound(ProviderKind kind, ProviderSection section) {
    String name = section.provider();
    String artifact = ARTIFACTS.get(name);
    String hint = artifact != null
        ? "Add the dependency " + artifact + ", which provides it"
        : "Check " + section.path() + ".provider for a typo, or add the jar that registers it in META-INF/services/"
            + kind.factoryType().getName();
    return new ProviderNotFoundException(kind.key(), name, new ArrayList<>(names(kind)), hint);
  }

  /** The artifact that provides the provider {@code name} of this project, if it is one of ours. */
  public static Optional<String> artifactFor(String name) {
    return Optional.ofNullable(ARTIFACTS.get(name));
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ProviderRegistry{");
    Function<ProviderKind, String> f = k -> k.key() + "=" + factories.get(k).keySet();
    for (ProviderKind k : ProviderKind.values()) {
      sb.append(k.ordinal() == 0 ? "" : ", ").append(f.apply(k));
    }
    return sb.append('}').toString();
  }
}
