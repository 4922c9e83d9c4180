package dev.preview.examples.cli;

import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.core.console.ConsoleNotifier;
import dev.preview.examples.demo.PreviewDemo;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The {@code preview} command line: deploy, remove, list and reconcile previews described by a
 * {@code preview.yaml}, or run {@code preview demo}.
 *
 * <p>Exit codes: 0 done; 1 the work failed (a deploy FAILED, a teardown incomplete, a demo check
 * failed, a provider error); 2 the command line or the configuration is wrong (every problem of the
 * configuration is printed).
 */
@Command(name = "preview", mixinStandardHelpOptions = true, versionProvider = PreviewCli.Version.class,
    description = "A live, isolated environment for every pull request.",
    subcommands = {PreviewCli.Demo.class, CommandLine.HelpCommand.class})
public final class PreviewCli implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;

  private final PrintStream out;
  private final PrintStream err;
  private final StatusLine status;

  private PreviewCli(PrintStream out, PrintStream err, StatusLine status) {
    this.out = out;
    this.err = err;
    this.status = status;
  }

  public static void main(String[] args) {
    // Providers log through SLF4J; on a command line only their warnings matter (-D... overrides).
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    // Everything printed on stdout (the console notifier included) goes through the status line,
    // so the spinner of a terminal never mixes with real output.
    StatusLine status = new StatusLine(System.out, System.console() != null);
    PrintStream out = status.printStream();
    System.setOut(out);
    System.exit(run(args, out, System.err, status));
  }

  /** Runs the command line in this JVM, printing to {@code out} and {@code err}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, new StatusLine(out, false));
  }

  static int run(String[] args, PrintStream out, PrintStream err, StatusLine status) {
    PreviewCli cli = new PreviewCli(out, err, status);
    CommandLine cmd = new CommandLine(cli);
    cmd.setOut(new java.io.PrintWriter(out, true));
    cmd.setErr(new java.io.PrintWriter(err, true));
    cmd.setExecutionExceptionHandler((e, line, parsed) -> cli.failure(e));
    return cmd.execute(args);
  }

  @Override
  public Integer call() {
    err.println("preview: a command is required (up, down, list, reconcile, demo); see preview --help");
    return USAGE;
  }

  private int failure(Exception e) {
    if (e instanceof ConfigurationException ce) {
      err.println("preview: the configuration is invalid (" + ce.problems().size() + " problem"
          + (ce.problems().size() == 1 ? "" : "s") + "):");
      ce.problems().forEach(p -> err.println("  - " + p));
      return USAGE;
    }
    if (e instanceof PreviewException) {
      err.println("preview: " + e.getMessage());
      return FAILED;
    }
    err.println("preview: unexpected error: " + e);
    e.printStackTrace(err);
    return FAILED;
  }

  /** Prints a line below the PR comments (through the console notifier when there is one). */
  Consumer<String> lines(Object notifier) {
    if (notifier instanceof ConsoleNotifier c) {
      return c::println;
    }
    return out::println;
  }

  Progress progress(Object notifier) {
    return new Progress(lines(notifier), status);
  }

  @Command(name = "demo", mixinStandardHelpOptions = true,
      description = "Run a whole PR lifecycle on this machine, with no external service: two PRs opened in parallel, "
          + "a push, then both closed; every URL is checked. Exit code 0 only if all checks pass.")
  static final class Demo implements Callable<Integer> {
    @ParentCommand PreviewCli cli;

    @Option(names = "--keep-dir", paramLabel = "DIR", description = "keep state and logs in DIR (default: a temp dir, removed)")
    Path dir;

    @Override
    public Integer call() {
      ConsoleNotifier console = ConsoleNotifier.builder().out(cli.out).ansi(cli.status.enabled()).build();
      try (Progress progress = cli.progress(console)) {
        return PreviewDemo.builder().console(console).progress(n -> progress).workDir(dir).build().run();
      }
    }
  }

  static String shortSha(String sha) {
    return sha == null ? "-" : sha.length() > 7 ? sha.substring(0, 7) : sha;
  }

  /** {@code preview --version}: the version of the jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = PreviewCli.class.getPackage().getImplementationVersion();
      return new String[] {"preview " + (v == null ? "(development build)" : v)};
    }
  }
}
