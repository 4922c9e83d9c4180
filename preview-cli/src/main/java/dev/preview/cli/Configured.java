package dev.preview.cli;

import dev.preview.core.assembly.PreviewAssembly;
import dev.preview.core.ImageTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderSection;
import dev.preview.core.console.ConsoleNotifier;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ScmNotifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * What a command built from a {@code preview.yaml}: the orchestrator of
 * {@link PreviewAssembly#orchestrator} with the CLI's progress listener, and where to print.
 * Closing it waits for running work and closes the providers.
 */
final class Configured implements AutoCloseable {
  private final PreviewConfig config;
  private final Progress progress;
  private final PreviewOrchestrator orchestrator;
  private final Consumer<String> lines;

  private Configured(PreviewConfig config, Progress progress, PreviewOrchestrator orchestrator, Consumer<String> lines) {
    this.config = config;
    this.progress = progress;
    this.orchestrator = orchestrator;
    this.lines = lines;
  }

  /**
   * Reads {@code file}, {@code ${NAME}} values from {@code env}; every problem of the file and of its
   * providers is reported at once (later, by {@link #load}). A YAML syntax error is reported here, with
   * the parser's whole explanation (see {@link Validation#syntax}): nothing else of such a file is read.
   */
  static PreviewConfig read(Path file, Map<String, String> env) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigurationException("--config: no such file: " + file.toAbsolutePath()
          + (file.equals(Path.of(PreviewCli.ConfigOption.DEFAULT)) ? " (the default; give -c FILE, or write one with preview init)" : ""));
    }
    PreviewConfig config = PreviewConfig.read(file, env::get);
    if (config.problems().stream().anyMatch(Validation::isSyntaxProblem)) {
      throw new ConfigurationException(Validation.problems(config, file));
    }
    return config;
  }

  /**
   * Builds the orchestrator of {@code config}, with {@code image} (a template like
   * {@code app.image}; null: none) in place of the file's {@code app.image} and {@code app.buildContext}.
   * A bad image is reported together with every problem of the file.
   */
  static Configured load(PreviewConfig config, PreviewCli cli, String image) {
    if (image != null) {
      List<String> problems = new ArrayList<>(ImageTemplate.problems(image).stream().map(p -> "--image: " + p).toList());
      if (!problems.isEmpty()) {
        problems.addAll(config.problems());
        throw new ConfigurationException(problems);
      }
    }
    // The console notifier is built by the registry; keep hold of it so that progress lines are
    // printed through it (it then never draws an updated comment over them).
    AtomicReference<ScmNotifier> console = new AtomicReference<>();
    ProviderRegistry registry = ProviderRegistry.defaultRegistry().withNotifier(new ScmNotifier.Factory() {
      @Override
      public String name() {
        return ConsoleNotifier.NAME;
      }

      @Override
      public ScmNotifier create(ProviderContext c) {
        ScmNotifier n = new ConsoleNotifier.Factory().create(c);
        console.set(n);
        return n;
      }
    });
    AtomicReference<Progress> progress = new AtomicReference<>();
    try {
      PreviewOrchestrator o = PreviewAssembly.orchestrator(config, registry, b -> {
        if (image != null) {
          b.app(config.app().toBuilder().image(image).buildContext(null).build());
        }
        progress.set(cli.progress(console.get()));
        b.listener(progress.get());
      });
      return new Configured(config, progress.get(), o, cli.lines(console.get()));
    } catch (RuntimeException e) {
      if (progress.get() != null) {
        progress.get().close();
      }
      throw e;
    }
  }

  PreviewOrchestrator orchestrator() {
    return orchestrator;
  }

  Optional<String> repository() {
    return config.repository();
  }

  /** The providers in use, for a first line. */
  static String summary(PreviewConfig config) {
    return "environment " + config.environment().provider()
        + config.database().map(d -> ", database " + d.provider()).orElse("")
        + config.dns().map(d -> ", dns " + d.provider()).orElse("")
        + ", scm " + config.scm().provider()
        + config.pullRequests().map(ProviderSection::provider).map(p -> ", pull requests " + p).orElse("");
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
    }
  }
}
