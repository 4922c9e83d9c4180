package dev.preview.cli;

import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderSection;
import dev.preview.core.console.ConsoleNotifier;
import dev.preview.db.postgres.PostgresBaseline;
import dev.preview.db.sqlite.SqliteBaseline;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code preview db ...}: work on the previews' databases that is not tied to one preview.
 *
 * <p>{@code preview db baseline --config preview.yaml} builds or refreshes the baseline that the
 * configured {@code database} provider clones for every preview, from Flyway migrations
 * ({@code database.build.migrations}) and seed SQL files ({@code database.build.seed}): a template
 * database or schema for {@code postgres} ({@link PostgresBaseline}), a file for {@code sqlite}
 * ({@link SqliteBaseline}). The new baseline is built aside and swapped in when complete, so running
 * it again is safe and previews keep cloning the old one meanwhile.
 *
 * <p>Exit codes as for every command: 0 built; 1 the build failed (server unreachable, a migration or
 * seed file failed; the old baseline is left in place); 2 the command line or configuration is wrong,
 * or the provider cannot build baselines ({@code mysql}, {@code redis}).
 */
@Command(name = "db", mixinStandardHelpOptions = true,
    description = "The previews' databases: build the baseline they are cloned from.",
    subcommands = {DbCommand.Baseline.class})
public final class DbCommand implements Callable<Integer> {
  @ParentCommand PreviewCli cli;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.root().commandLine().getErr().println("preview db: a subcommand is required (baseline); see preview db --help");
    return PreviewCli.USAGE;
  }

  @Command(name = "baseline", mixinStandardHelpOptions = true,
      description = {"Build or refresh the baseline of the configured database provider from Flyway migrations "
          + "(database.build.migrations) and seed SQL files (database.build.seed).",
          "postgres: a template database (mode database) or schema (mode schema) named database.baseline; "
              + "sqlite: the file database.baseline. Built aside, then swapped in: safe to run again."})
  static final class Baseline implements Callable<Integer> {
    @ParentCommand DbCommand db;
    @Spec CommandSpec spec;

    @picocli.CommandLine.Mixin PreviewCli.ConfigOption configOption;

    @Override
    public Integer call() {
      Consumer<String> out = db.cli.lines(null); // the CLI's own stream (what tests and the status line see)
      Path config = configOption.config;
      PreviewConfig cfg = Configured.read(config, db.cli.env);
      // Only the database section matters here: the file's other problems (an app without image,
      // say) must not stop a baseline build, but a database value that could not be read must.
      List<String> fileProblems = cfg.problems().stream().filter(p -> p.startsWith("database")).toList();
      ProviderSection section = cfg.database().orElseThrow(() -> new ConfigurationException(
          "database: no database section in " + config + "; nothing to build"));
      String provider = section.provider();
      switch (provider) {
        case "postgres" -> {
          PostgresBaseline baseline = validated(fileProblems, () -> PostgresBaseline.fromConfig(section.config()));
          out.accept("preview db baseline: building the postgres baseline " + nameOf(section.config()) + " ...");
          PostgresBaseline.Result r = baseline.refresh();
          out.accept(report("postgres baseline " + r.name(), r.migrationsApplied(), r.seedFiles(), r.sizeBytes(), r.took()));
          return PreviewCli.OK;
        }
        case "sqlite" -> {
          SqliteBaseline baseline = validated(fileProblems, () -> SqliteBaseline.fromConfig(section.config()));
          out.accept("preview db baseline: building the sqlite baseline " + nameOf(section.config()) + " ...");
          SqliteBaseline.Result r = baseline.rebuild();
          out.accept(report("sqlite baseline " + r.file(), r.migrationsApplied(), r.seedFiles(), r.sizeBytes(), r.took()));
          return PreviewCli.OK;
        }
        default -> {
          spec.root().commandLine().getErr().println("preview db baseline: building a baseline is not supported for database provider "
              + provider + ": " + unsupportedReason(provider));
          return PreviewCli.USAGE;
        }
      }
    }

    /** What is built, for the first line (a fresh view of the section, never validated). */
    private static String nameOf(ProviderConfig c) {
      return c.string("baseline").orElse("?");
    }

    /** Builds from the section; its problems and the file's database problems are reported together. */
    private static <T> T validated(List<String> fileProblems, Supplier<T> build) {
      List<String> all = new ArrayList<>(fileProblems);
      T built = null;
      try {
        built = build.get();
      } catch (ConfigurationException e) {
        e.problems().stream().filter(p -> !all.contains(p)).forEach(all::add);
      }
      if (!all.isEmpty()) {
        throw new ConfigurationException(all);
      }
      return built;
    }

    private static String unsupportedReason(String provider) {
      return switch (provider) {
        case "mysql" -> "it copies each preview's database from an existing database (database.baseline); "
            + "build that one with your usual migration tool (e.g. Flyway against it), then previews clone it";
        case "redis" -> "it copies the keys under the database.baseline prefix into each preview; "
            + "write those keys with your own seed script";
        default -> "unknown provider (baselines can be built for: postgres, sqlite)";
      };
    }

    static String report(String what, int migrations, int seedFiles, long bytes, Duration took) {
      return what + " is ready: " + migrations + " migration" + (migrations == 1 ? "" : "s") + " applied, "
          + seedFiles + " seed file" + (seedFiles == 1 ? "" : "s") + ", " + size(bytes) + ", in "
          + ConsoleNotifier.format(took);
    }

    static String size(long bytes) {
      if (bytes < 1024) {
        return bytes + " B";
      }
      double kb = bytes / 1024.0;
      return kb < 1024 ? String.format(Locale.ROOT, "%.1f kB", kb) : String.format(Locale.ROOT, "%.1f MB", kb / 1024);
    }
  }
}
