package dev.preview.cli;

import dev.preview.core.Preview;
import dev.preview.core.ReconcileReport;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
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
    subcommands = {PreviewCli.Up.class, PreviewCli.Down.class, PreviewCli.ListCommand.class,
        PreviewCli.Reconcile.class, PreviewCli.Logs.class, PreviewCli.Demo.class, ServeCommand.class, DbCommand.class, CommandLine.HelpCommand.class})
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
    // Providers built from a config (the console notifier) print to System.out: make that ours.
    PrintStream previous = System.out;
    System.setOut(out);
    try {
      return cmd.execute(args);
    } finally {
      System.setOut(previous);
    }
  }

  @Override
  public Integer call() {
    err.println("preview: a command is required (up, down, list, reconcile, demo, serve); see preview --help");
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

  /** Options shared by the commands that read a {@code preview.yaml}. */
  abstract static class ConfigCommand implements Callable<Integer> {
    @ParentCommand PreviewCli cli;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the preview.yaml to use")
    Path config;

    PreviewKey key(String repo, int pr, Configured c) {
      return key(repo != null ? repo : c.repository().orElse(null), pr);
    }

    PreviewKey key(String repository, int pr) {
      if (repository == null) {
        throw new ConfigurationException("--repo: is required (or set repository: owner/name in " + config + ")");
      }
      try {
        return PreviewKey.pr(repository, pr);
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException("--repo/--pr: " + e.getMessage());
      }
    }
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = "Deploy (or update) the preview of a pull request at a revision and wait until it is ready.")
  static final class Up extends ConfigCommand {
    @Option(names = "--repo", paramLabel = "OWNER/NAME", description = "the repository (default: repository in the config)")
    String repo;
    @Option(names = "--pr", required = true, paramLabel = "N", description = "the pull request number")
    int pr;
    @Option(names = "--sha", required = true, paramLabel = "SHA", description = "the head commit to deploy")
    String sha;
    @Option(names = "--label", paramLabel = "LABEL", description = "a label on the PR (repeatable), e.g. flag:new-checkout")
    List<String> labels = new ArrayList<>();
    @Option(names = "--branch", paramLabel = "BRANCH", description = "the head branch (default: pr-<N>)")
    String branch;
    @Option(names = "--base", paramLabel = "BRANCH", defaultValue = "main", description = "the target branch (default: ${DEFAULT-VALUE})")
    String base;
    @Option(names = "--draft", description = "the PR is a draft")
    boolean draft;
    @Option(names = "--image", paramLabel = "IMAGE", description = "the image to run instead of app.image; may be a"
        + " template like it, e.g. ghcr.io/acme/shop:{sha} (placeholders: sha, shortSha, number, branch, repo, owner)")
    String image;

    @Override
    public Integer call() {
      try (Configured c = Configured.load(config, cli, image)) {
        PreviewKey key = key(repo, pr, c);
        PullRequest request;
        try {
          request = PullRequest.open(key, sha, branch != null ? branch : "pr-" + pr, base)
              .withLabels(new LinkedHashSet<>(labels)).withDraft(draft);
        } catch (IllegalArgumentException e) {
          throw new ConfigurationException("--sha/--branch/--base: " + e.getMessage());
        }
        c.say("preview up " + key + " at " + sha + " with " + c.summary());
        long t0 = System.nanoTime();
        Preview p = c.orchestrator().handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, request)).join();
        String took = ConsoleNotifier.format(Duration.ofNanos(System.nanoTime() - t0));
        switch (p.state()) {
          case READY -> {
            c.say(key + " is READY at " + p.url() + " (revision " + shortSha(p.revision()) + ", " + took + ")");
            return OK;
          }
          case PENDING -> {
            c.say(key + " is PENDING: " + p.message());
            return OK;
          }
          case DELETED -> {
            c.say(key + " gets no preview: " + p.message());
            return OK;
          }
          default -> {
            c.say(key + " " + p.state() + (p.failedStep() != null ? " at step " + p.failedStep() : "") + ": "
                + p.message());
            return FAILED;
          }
        }
      }
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true,
      description = "Remove the preview of a pull request (environment, DNS, database). Removing an absent one is fine.")
  static final class Down extends ConfigCommand {
    @Option(names = "--repo", paramLabel = "OWNER/NAME", description = "the repository (default: repository in the config)")
    String repo;
    @Option(names = "--pr", required = true, paramLabel = "N", description = "the pull request number")
    int pr;

    @Override
    public Integer call() {
      try (Configured c = Configured.load(config, cli)) {
        PreviewKey key = key(repo, pr, c);
        long t0 = System.nanoTime();
        Preview p = c.orchestrator().teardown(key, "removed with preview down").join();
        String took = ConsoleNotifier.format(Duration.ofNanos(System.nanoTime() - t0));
        if (p.state() == PreviewState.DELETED) {
          c.say(key + " is removed (" + took + ")");
          return OK;
        }
        c.say(key + " " + p.state() + ": " + p.message());
        return FAILED;
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the previews that exist, as observed on the infrastructure.")
  static final class ListCommand extends ConfigCommand {
    @Override
    public Integer call() {
      try (Configured c = Configured.load(config, cli)) {
        List<Preview> all = c.orchestrator().list();
        if (all.isEmpty()) {
          c.say("no previews");
          return OK;
        }
        c.say(String.format(Locale.ROOT, "%-32s %-12s %-9s %-36s %s", "PREVIEW", "STATE", "REVISION", "URL", "EXPIRES"));
        for (Preview p : all) {
          c.say(String.format(Locale.ROOT, "%-32s %-12s %-9s %-36s %s", p.key(), p.state(), shortSha(p.revision()),
              p.url() == null ? "-" : p.url(), p.expires() == null ? "-" : p.expires()));
        }
        return OK;
      }
    }
  }

  @Command(name = "reconcile", mixinStandardHelpOptions = true,
      description = "Compare what exists with the open PRs and the policy, and repair (remove orphans and expired previews, finish teardowns).")
  static final class Reconcile extends ConfigCommand {
    @Option(names = "--dry-run", description = "only print what would be done")
    boolean dryRun;

    @Override
    public Integer call() {
      try (Configured c = Configured.load(config, cli)) {
        ReconcileReport r = c.orchestrator().reconcile(dryRun);
        if (r.actions().isEmpty()) {
          c.say("nothing to repair");
        }
        for (ReconcileReport.Action a : r.actions()) {
          c.say((dryRun ? "would " : a.done() ? "did " : "failed to ") + a.kind().name().toLowerCase(Locale.ROOT)
              + " " + a.key() + ": " + a.reason());
        }
        if (r.scmUnknown()) {
          c.say("the SCM could not be asked about " + r.unknownRepositories() + ": nothing of theirs was removed");
        }
        r.errors().forEach(e -> c.say("error: " + e));
        return r.errors().isEmpty() ? OK : FAILED;
      }
    }
  }

  @Command(name = "logs", mixinStandardHelpOptions = true,
      description = "Print the last lines of a preview's app output (where the environment provider keeps it).")
  static final class Logs extends ConfigCommand {
    @Option(names = "--repo", paramLabel = "OWNER/NAME", description = "the repository (default: repository in the config)")
    String repo;
    @Option(names = "--pr", required = true, paramLabel = "N", description = "the pull request number")
    int pr;
    @Option(names = {"-n", "--lines"}, defaultValue = "50", paramLabel = "N", description = "how many lines (default: ${DEFAULT-VALUE})")
    int lines;

    @Override
    public Integer call() {
      Consumer<String> say = cli.out::println;
      PreviewConfig cfg = Configured.read(config);
      try (ConfiguredProviders p = cfg.createProviders(ProviderRegistry.defaultRegistry())) {
        PreviewKey key = key(repo != null ? repo : cfg.repository().orElse(null), pr);
        List<String> tail = p.environment().logs(key, lines);
        if (tail.isEmpty()) {
          say.accept("no logs for " + key + " (" + p.environment().name() + ")");
        }
        tail.forEach(say);
        return OK;
      }
    }
  }

  @Command(name = "demo", mixinStandardHelpOptions = true,
      description = "Run a whole PR lifecycle on this machine, with no external service: signed GitHub webhooks to an "
          + "in-process webhook server open two PRs in parallel (each with its own SQLite database cloned from a baseline), "
          + "a forged one is refused, a push, then both closed; every URL and database is checked. "
          + "Exit code 0 only if all checks pass.")
  static final class Demo implements Callable<Integer> {
    @ParentCommand PreviewCli cli;

    @Option(names = "--keep-dir", paramLabel = "DIR", description = "keep state, logs and databases in DIR (default: a temp dir, removed)")
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
