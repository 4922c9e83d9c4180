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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
    description = "A live, isolated environment for every pull request.")
public final class PreviewCli implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;

  private final PrintStream out;
  private final PrintStream err;
  private final StatusLine status;
  /** The environment: where CI facts and {@code ${NAME}} values of the config come from. */
  final Map<String, String> env;

  private PreviewCli(PrintStream out, PrintStream err, StatusLine status, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.status = status;
    this.env = env;
  }

  /** The commands that build an orchestrator, whose readiness gate builds an HTTP client (and the JDK's default TLS context). */
  private static final java.util.Set<String> ORCHESTRATING = java.util.Set.of("up", "ci", "down", "reconcile", "serve");

  public static void main(String[] args) {
    if (args.length > 0 && ORCHESTRATING.contains(args[0])) {
      warmUpTls();
    }
    // Providers log through SLF4J; on a command line only their warnings matter (-D... overrides).
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    // Everything printed on stdout (the console notifier included) goes through the status line,
    // so the spinner of a terminal never mixes with real output.
    StatusLine status = new StatusLine(System.out, System.console() != null);
    PrintStream out = status.printStream();
    System.setOut(out);
    System.exit(run(args, out, System.err, status, System.getenv()));
  }

  /**
   * Loads the JDK's default TLS context (its trust store: a third of a second of one core) on a
   * daemon thread, while the main thread parses the command line and the configuration; the
   * orchestrator's HTTP client then finds it ready. Nothing depends on it finishing.
   */
  private static void warmUpTls() {
    Thread t = new Thread(() -> {
      try {
        javax.net.ssl.SSLContext.getDefault();
      } catch (java.security.NoSuchAlgorithmException | RuntimeException e) {
        // the HTTP client reports it when it needs TLS
      }
    }, "preview-tls-warm-up");
    t.setDaemon(true);
    t.start();
  }

  /** Runs the command line in this JVM, printing to {@code out} and {@code err}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  /**
   * Like {@link #run(String[], PrintStream, PrintStream)} with {@code env} in place of the process
   * environment (CI variables, {@code ${NAME}} values of the config).
   */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    return run(args, out, err, new StatusLine(out, false), env);
  }

  /**
   * The subcommands, in the order of {@code --help}. picocli builds the model of every subcommand it
   * is given (reflection over each class and its options): a command line that names one gets only
   * that one, the others ({@code --help}, {@code help}, a typo) get them all.
   */
  private static final Map<String, java.util.function.Supplier<Object>> SUBCOMMANDS = subcommands();

  private static Map<String, java.util.function.Supplier<Object>> subcommands() {
    Map<String, java.util.function.Supplier<Object>> m = new java.util.LinkedHashMap<>();
    m.put("up", Up::new);
    m.put("down", Down::new);
    m.put("ci", Ci::new);
    m.put("list", ListCommand::new);
    m.put("reconcile", Reconcile::new);
    m.put("logs", Logs::new);
    m.put("validate", Validate::new);
    m.put("init", InitCommand::new);
    m.put("demo", Demo::new);
    m.put("serve", ServeCommand::new);
    m.put("db", DbCommand::new);
    m.put("help", CommandLine.HelpCommand::new);
    m.put("generate-completion", Completion::new);
    return java.util.Collections.unmodifiableMap(m);
  }

  static int run(String[] args, PrintStream out, PrintStream err, StatusLine status, Map<String, String> env) {
    PreviewCli cli = new PreviewCli(out, err, status, Map.copyOf(env));
    CommandLine cmd = new CommandLine(cli);
    String first = args.length == 0 ? "" : args[0];
    SUBCOMMANDS.forEach((name, command) -> {
      if (!SUBCOMMANDS.containsKey(first) || first.equals("help") || first.equals("generate-completion")
          || first.equals(name)) {
        cmd.addSubcommand(name, command.get());
      }
    });
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
    err.println("preview: a command is required (up, down, ci, list, validate, init, reconcile, logs, demo, serve); see preview --help");
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

  void outPrintln(String line) {
    out.println(line);
  }

  void errPrintln(String line) {
    err.println(line);
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

    @Mixin ConfigOption configOption;

    Path config() {
      return configOption.config;
    }

    PreviewKey key(String repo, int pr, Configured c) {
      return key(repo != null ? repo : c.repository().orElse(null), pr);
    }

    PreviewKey key(String repository, int pr) {
      if (repository == null) {
        throw new ConfigurationException("--repo: is required (or set repository: owner/name in " + config() + ")");
      }
      try {
        return PreviewKey.pr(repository, pr);
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException("--repo/--pr: " + e.getMessage());
      }
    }
  }

  /** {@code -c/--config}, defaulting to {@code ./preview.yaml} for every command that reads one. */
  static final class ConfigOption {
    static final String DEFAULT = "preview.yaml";

    @Option(names = {"-c", "--config"}, defaultValue = DEFAULT, paramLabel = "FILE",
        description = "the preview.yaml to use (default: ./${DEFAULT-VALUE})")
    Path config;
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = {"Deploy (or update) the preview of a pull request at a revision and wait until it is ready.",
          "In GitHub Actions or GitLab CI the PR facts come from the CI's event (flags override); "
              + "--from-ci decides up or down from the event, like preview ci."})
  static final class Up extends ConfigCommand {
    @Mixin PrOptions facts;
    @Option(names = "--from-ci", description = "decide up or down from the CI's event (as preview ci does)")
    boolean fromCi;

    @Override
    public Integer call() {
      return fromCi ? cli.ci(config(), facts) : cli.up(config(), facts, CiEvent.detect(cli.env).orElse(null), false);
    }
  }

  @Command(name = "ci", mixinStandardHelpOptions = true,
      description = {"Run in a CI job for a pull request event: deploy on opened, synchronize, reopened, labeled, "
          + "ready_for_review...; remove on closed (GitHub Actions pull_request events; GitLab CI merge request "
          + "pipelines, and their environment's on_stop job). Flags override the event's facts.",
          "Exit code 0 also when the event needs nothing (e.g. an assigned PR)."})
  static final class Ci extends ConfigCommand {
    @Mixin PrOptions facts;

    @Override
    public Integer call() {
      return cli.ci(config(), facts);
    }
  }

  /** The event of this process's CI, or a usage error. */
  int ci(Path config, PrOptions facts) {
    Optional<CiEvent> detected = CiEvent.detect(env);
    if (detected.isEmpty()) {
      err.println("preview ci: " + CiEvent.notFound());
      return USAGE;
    }
    CiEvent ci = detected.get();
    if (ci.action() == null) {
      out.println("preview ci: " + ci.ci() + " event " + ci.event() + ": nothing to do");
      return OK;
    }
    if (ci.down()) {
      return down(config, facts.repo, facts.pr, ci);
    }
    return up(config, facts, ci, true);
  }

  int up(Path config, PrOptions facts, CiEvent ci, boolean fromEvent) {
    PreviewConfig cfg = Configured.read(config, env);
    PullRequest request = facts.request(cfg, ci);
    PullRequestEvent.Action action = fromEvent && ci != null && ci.action() != null && !ci.action().ends()
        ? ci.action() : PullRequestEvent.Action.OPENED;
    // The first line comes before any provider is built: a user sees at once what is being done.
    out.println((ci != null ? "preview " + (fromEvent ? "ci" : "up") + " (" + ci.ci() + " " + ci.event() + "): " : "preview up ")
        + request.key() + " at " + request.headSha() + (request.fromFork() ? " from a fork" : "")
        + " with " + Configured.summary(cfg));
    try (Configured c = Configured.load(cfg, this, facts.image)) {
      long t0 = System.nanoTime();
      Preview p = c.orchestrator().handle(PullRequestEvent.of(action, request)).join();
      String took = ConsoleNotifier.format(Duration.ofNanos(System.nanoTime() - t0));
      PreviewKey key = request.key();
      if (facts.dotenv != null) {
        writeDotenv(facts.dotenv, p);
      }
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

  private static void writeDotenv(Path file, Preview p) {
    String text = "PREVIEW_URL=" + (p.url() == null ? "" : p.url()) + "\nPREVIEW_STATE=" + p.state() + "\n";
    try {
      java.nio.file.Files.writeString(file, text, java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new ConfigurationException("--dotenv: " + file + " cannot be written: " + e.getMessage());
    }
  }

  int down(Path config, String repo, Integer pr, CiEvent ci) {
    PreviewConfig cfg = Configured.read(config, env);
    PreviewKey key = PrOptions.key(cfg, config, repo, pr, ci);
    String reason = ci == null || !ci.down() ? "removed with preview down"
        : "PR " + (ci.action() == PullRequestEvent.Action.MERGED ? "merged" : "closed") + " (" + ci.ci() + " " + ci.event() + ")";
    if (ci != null) {
      out.println("preview " + (ci.down() ? "ci" : "down") + " (" + ci.ci() + " " + ci.event() + "): " + key + " down");
    }
    try (Configured c = Configured.load(cfg, this, null)) {
      long t0 = System.nanoTime();
      Preview p = c.orchestrator().teardown(key, reason).join();
      String took = ConsoleNotifier.format(Duration.ofNanos(System.nanoTime() - t0));
      if (p.state() == PreviewState.DELETED) {
        c.say(key + " is removed (" + took + ")");
        return OK;
      }
      c.say(key + " " + p.state() + ": " + p.message());
      return FAILED;
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true,
      description = {"Remove the preview of a pull request (environment, DNS, database). Removing an absent one is fine.",
          "In GitHub Actions or GitLab CI the PR comes from the CI's event unless --pr is given."})
  static final class Down extends ConfigCommand {
    @Option(names = "--repo", paramLabel = "OWNER/NAME", description = "the repository (default: the CI's, else repository in the config)")
    String repo;
    @Option(names = "--pr", paramLabel = "N", description = "the pull request number (default: the CI's)")
    Integer pr;

    @Override
    public Integer call() {
      return cli.down(config(), repo, pr, CiEvent.detect(cli.env).orElse(null));
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the previews that exist, as observed on the infrastructure (only the environment provider is asked).")
  static final class ListCommand extends ConfigCommand {
    enum Format { table, json }

    @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
        description = "table or json (one object per preview: key, repository, number, state, revision, url, expires, lastActivity)")
    Format format;

    @Override
    public Integer call() {
      PreviewConfig cfg = Configured.read(config(), cli.env);
      List<Listing.Row> all = Listing.rows(cfg);
      if (format == Format.json) {
        cli.out.println(Listing.json(all));
        return OK;
      }
      if (all.isEmpty()) {
        cli.out.println("no previews");
        return OK;
      }
      cli.out.println(String.format(Locale.ROOT, "%-32s %-12s %-9s %-36s %s", "PREVIEW", "STATE", "REVISION", "URL", "EXPIRES"));
      for (Listing.Row p : all) {
        cli.out.println(String.format(Locale.ROOT, "%-32s %-12s %-9s %-36s %s", p.key(), p.state(), shortSha(p.revision()),
            p.url() == null ? "-" : p.url(), p.expires() == null ? "-" : p.expires()));
      }
      return OK;
    }
  }

  @Command(name = "validate", mixinStandardHelpOptions = true,
      description = {"Check a preview.yaml: every problem at once, each with its path (YAML syntax errors with line,"
          + " column and the parser's explanation). Builds each provider to check its keys, contacts no server.",
          "Exit code 0 valid, 2 not."})
  static final class Validate extends ConfigCommand {
    @Override
    public Integer call() {
      List<String> problems = Validation.problems(config(), cli.env);
      if (problems.isEmpty()) {
        cli.out.println(config() + ": valid (" + Configured.summary(Configured.read(config(), cli.env)) + ")");
        return OK;
      }
      cli.err.println(config() + ": " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + ":");
      problems.forEach(p -> cli.err.println("  - " + p));
      return USAGE;
    }
  }

  @Command(name = "reconcile", mixinStandardHelpOptions = true,
      description = "Compare what exists with the open PRs and the policy, and repair (remove orphans and expired previews, finish teardowns).")
  static final class Reconcile extends ConfigCommand {
    @Option(names = "--dry-run", description = "only print what would be done")
    boolean dryRun;

    @Override
    public Integer call() {
      try (Configured c = Configured.load(Configured.read(config(), cli.env), cli, null)) {
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
    @Option(names = "--pr", paramLabel = "N", description = "the pull request number (default: the CI's)")
    Integer pr;
    @Option(names = {"-n", "--lines"}, defaultValue = "50", paramLabel = "N", description = "how many lines (default: ${DEFAULT-VALUE})")
    int lines;

    @Override
    public Integer call() {
      Consumer<String> say = cli.out::println;
      PreviewConfig cfg = Configured.read(config(), cli.env);
      try (ConfiguredProviders p = cfg.createProviders(ProviderRegistry.defaultRegistry())) {
        PreviewKey key = PrOptions.key(cfg, config(), repo, pr, CiEvent.detect(cli.env).orElse(null));
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

  @Command(name = "generate-completion", mixinStandardHelpOptions = true,
      description = {"Print a bash (and zsh) completion script for preview (picocli's AutoComplete):",
          "  source <(preview generate-completion)"})
  static final class Completion implements Callable<Integer> {
    @ParentCommand PreviewCli cli;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      cli.out.print(AutoComplete.bash("preview", spec.root().commandLine()));
      cli.out.flush();
      return OK;
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
