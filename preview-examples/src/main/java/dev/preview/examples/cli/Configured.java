package dev.preview.examples.cli;

import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ProviderRegistry;
import dev.preview.core.config.ConfiguredProviders;
import dev.preview.core.config.PreviewConfig;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What a command built from a {@code preview.yaml}: the providers, an orchestrator over them with
 * the CLI's progress listener, and where to print. Closing it waits for running work and closes
 * the providers.
 */
final class Configured implements AutoCloseable {
  private final PreviewConfig config;
  private final ConfiguredProviders providers;
  private final Progress progress;
  private final PreviewOrchestrator orchestrator;
  private final Consumer<String> lines;

  private Configured(PreviewConfig config, ConfiguredProviders providers, Progress progress,
      PreviewOrchestrator orchestrator, Consumer<String> lines) {
    this.config = config;
    this.providers = providers;
    this.progress = progress;
    this.orchestrator = orchestrator;
    this.lines = lines;
  }

  /** Reads {@code file} and builds everything; every problem of the file and its providers is reported at once. */
  static Configured load(Path file, PreviewCli cli) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigurationException("--config: no such file: " + file.toAbsolutePath());
    }
    PreviewConfig config = PreviewConfig.read(file, System::getenv);
    ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry());
    Progress progress = null;
    try {
      progress = cli.progress(providers.notifier());
      PreviewOrchestrator o = PreviewOrchestrator.builder()
          .environment(providers.environment())
          .database(providers.database().orElse(null))
          .dns(providers.dns().orElse(null))
          .notifier(providers.notifier())
          .pullRequests(providers.pullRequests().orElse(null))
          .app(config.app())
          .policy(config.policy())
          .instance(config.instance())
          .listener(progress)
          .closeProviders(false)
          .build();
      return new Configured(config, providers, progress, o, cli.lines(providers.notifier()));
    } catch (RuntimeException e) {
      if (progress != null) {
        progress.close();
      }
      providers.close();
      throw e;
    }
  }

  PreviewOrchestrator orchestrator() {
    return orchestrator;
  }

  EnvironmentProvider environment() {
    return providers.environment();
  }

  Optional<String> repository() {
    return config.repository();
  }

  /** The providers in use, for a first line. */
  String summary() {
    return "environment " + providers.environment().name()
        + providers.database().map(d -> ", database " + d.name()).orElse("")
        + providers.dns().map(d -> ", dns " + d.name()).orElse("")
        + ", scm " + providers.notifier().name();
  }

  void say(String line) {
    lines.accept(line);
  }

  @Override
  public void close() {
    try {
      orchestrator.close();
    } finally {
      progress.close();
      providers.close();
    }
  }
}
