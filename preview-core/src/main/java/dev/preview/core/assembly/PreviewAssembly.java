package dev.preview.core.assembly;

import dev.preview.core.PreviewOrchestrator;
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
    ConfiguredProviders providers = config.createProviders(registry);
    var installation = config.installation();
    PreviewOrchestrator.Builder b = PreviewOrchestrator.builder()
        .environment(providers.environment())
        .notifier(providers.notifier())
        .app(config.app())
        .policy(config.policy())
        .installation(installation)
        .buildSettings(config.build());
    providers.database().ifPresent(b::database);
    providers.dns().ifPresent(b::dns);
    providers.pullRequests().ifPresent(b::pullRequests);
    try {
      customizer.accept(b);
      return b.build();
    } catch (RuntimeException | Error e) {
      providers.close();
      throw e;
    }
  }
}
