package dev.preview.core.assembly;

import dev.preview.core.BuildSettings;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.SourceFetcher;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Wires a {@link PreviewOrchestrator} from a {@code preview.yaml}: the providers found through a
 * {@link ProviderRegistry} (ServiceLoader by default), each built from its section and the file's
 * {@link PreviewConfig#installation() installation}, plus the app template, the policy, the
 * instance and the DNS target and TTL. The orchestrator itself holds no wiring code.
 *
 * <pre>{@code
 * try (PreviewOrchestrator previews = PreviewAssembly.orchestrator(PreviewConfig.load(Path.of("preview.yaml")))) {
 *   previews.reconcile(false);
 * }
 * }</pre>
 */
public final class PreviewAssembly {
  private PreviewAssembly() {}

  /**
   * The fetcher of {@code build.from: source}, found by ServiceLoader ({@code SourceFetcher.Factory},
   * in preview-scm), for the {@code scm} section's provider and base URL and {@code build.repository}
   * and {@code build.token}; null when the build is not from source, or with its problems added.
   */
  static SourceFetcher sources(PreviewConfig config, List<String> problems) {
    BuildSettings build = config.build();
    if (build.from() != BuildSettings.From.SOURCE) {
      return null;
    }
    List<SourceFetcher.Factory> factories = new ArrayList<>();
    Iterator<SourceFetcher.Factory> it = ServiceLoader.load(SourceFetcher.Factory.class).iterator();
    while (it.hasNext()) {
      try {
        factories.add(it.next());
      } catch (ServiceConfigurationError e) {
        problems.add("build.from: a SourceFetcher could not be loaded: " + e.getMessage());
      }
    }
    if (factories.isEmpty()) {
      if (problems.isEmpty()) {
        problems.add("build.from: source needs dev.preview:preview-scm on the classpath (its GitSource fetches the"
            + " PR's code with JGit); add it, or set build.from: image");
      }
      return null;
    }
    if (factories.size() > 1) {
      problems.add("build.from: several source fetchers are on the classpath ("
          + String.join(", ", factories.stream().map(SourceFetcher.Factory::name).toList()) + "); keep one");
      return null;
    }
    ProviderSection scm = config.scm();
    Object baseUrl = scm.values().get("baseUrl");
    try {
      return factories.get(0).create(new SourceFetcher.Origin(scm.provider(),
          baseUrl == null ? null : baseUrl.toString(), build.repository().orElse(null), build.token().orElse(null)));
    } catch (ConfigurationException e) {
      problems.addAll(e.problems());
      return null;
    }
  }

  /**
   * An orchestrator wired from {@code config} with the default registry.
   *
   * @throws dev.preview.spi.ConfigurationException listing every problem of the whole file at once
   */
  public static PreviewOrchestrator orchestrator(PreviewConfig config) {
    return orchestrator(config, ProviderRegistry.defaultRegistry(), b -> {});
  }

  /**
   * Like {@link #orchestrator(PreviewConfig)} with a given registry, and a hook to adjust the builder
   * (listeners, clock, health check) before it is built. If building fails, the providers already
   * built are closed: nothing half-built stays open.
   */
  public static PreviewOrchestrator orchestrator(PreviewConfig config, ProviderRegistry registry,
      Consumer<PreviewOrchestrator.Builder> customizer) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(customizer, "customizer");
    List<String> sourceProblems = new ArrayList<>();
    SourceFetcher sources = sources(config, sourceProblems);
    ConfiguredProviders providers;
    try {
      providers = config.createProviders(registry);
    } catch (ConfigurationException e) {
      if (sourceProblems.isEmpty()) {
        throw e;
      }
      List<String> all = new ArrayList<>(e.problems());
      all.addAll(sourceProblems);
      throw new ConfigurationException(config.redact(all));
    }
    if (!sourceProblems.isEmpty()) {
      providers.close();
      throw new ConfigurationException(config.redact(sourceProblems));
    }
    var installation = config.installation();
    PreviewOrchestrator.Builder b = PreviewOrchestrator.builder()
        .environment(providers.environment())
        .notifier(providers.notifier())
        .app(config.app())
        .policy(config.policy())
        .installation(installation)
        .buildSettings(config.build())
        .redeployMissing(config.redeployMissing())
        .reconcileParallelism(config.reconcileParallelism())
        .parallelism(config.parallelism())
        .repositories(config.repository().map(List::of).orElse(List.of()))
        .redactor(config.redactor());
    providers.database().ifPresent(b::database);
    providers.dns().ifPresent(b::dns);
    providers.pullRequests().ifPresent(b::pullRequests);
    if (sources != null) {
      b.sources(sources);
    }
    try {
      customizer.accept(b);
      return b.build();
    } catch (RuntimeException | Error e) {
      providers.close();
      throw e;
    }
  }
}
