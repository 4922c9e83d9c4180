package dev.preview.examples.demo;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewListener;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.console.ConsoleNotifier;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.db.sqlite.SqliteBaseline;
import dev.preview.db.sqlite.SqliteDatabaseProvider;
import dev.preview.examples.sample.SampleApp;
import dev.preview.examples.sample.SampleBuild;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.scm.source.GitSource;
import dev.preview.server.WebhookServer;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import dev.preview.spi.SourceFetcher;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code preview demo}: a whole PR lifecycle on this machine with the embedded defaults and no
 * external service. Each preview runs its own PR's code: the demo makes a git repository with JGit
 * in its temp dir ({@link DemoRepository}: {@code main}, {@code refs/pull/1/head} and
 * {@code refs/pull/2/head}, each with its own {@code greeting.txt}), and with
 * {@code build.from: source} the orchestrator fetches each PR's head into its own workspace with
 * {@link GitSource}, runs {@code app.build} ({@link SampleBuild}) there, and the {@code local}
 * provider runs the {@link SampleApp} in that checkout, once per PR on its own
 * port. The {@code sqlite} database provider gives each PR its own file cloned from a baseline
 * built in the temp dir, the {@code console} notifier prints the PR comments, and an in-memory SCM
 * answers the orchestrator's "is this PR still open?". Events arrive as in production: the demo
 * plays GitHub and POSTs signed {@code pull_request} deliveries to an in-process
 * {@link WebhookServer}; it follows the runs only through the orchestrator's listener.
 *
 * <ol>
 *   <li>PR 1 and PR 2 are opened at once; each must answer at its own URL with its own revision, its
 *       own branch's greeting (and not the other's), its build's output and the baseline rows of its
 *       own database (PR 2 carries the label {@code flag:new-checkout}); PR 2 adds a migration
 *       ({@code db/migration/V2__release_notes.sql}), which its database has and PR 1's has not.</li>
 *   <li>A greeting is written through PR 1's app: PR 1 shows it, PR 2 does not.</li>
 *   <li>A delivery signed with another secret is answered 401 and deploys nothing.</li>
 *   <li>PR 1 is pushed (a second commit); its page must show the new commit's greeting, the new
 *       revision and still the greeting row, and the old process must be gone. Then a late
 *       {@code labeled} delivery at PR 1's older commit must not roll it back.</li>
 *   <li>PR 1 is closed and PR 2 merged; their URLs must stop answering, the state and database
 *       workspace and database directories must be empty, and no process started by the demo may be left.</li>
 * </ol>
 *
 * Every check is printed; {@link #run()} returns 0 only if all passed, else 1.
 */
public final class PreviewDemo {
  static final String REPOSITORY = "acme/shop";
  /** The rows of the baseline's table {@code greetings}: every preview's database starts with them. */
  static final List<String> BASELINE_ROWS = List.of("hello from the baseline", "bonjour", "hallo");
  /** {@code greeting.txt} on each branch of the demo's repository: what each PR's code shows. */
  static final String MAIN_GREETING = "hello from main";
  static final String PR1_GREETING = "PR 1: the cart remembers what you put in it";
  static final String PR1_PUSHED_GREETING = "PR 1, second commit: the cart shows a total";
  static final String PR2_GREETING = "PR 2: a one-page checkout";
  /** Where the demo's repository keeps its Flyway migrations ({@code database.branchMigrations}). */
  static final String MIGRATIONS = "db/migration";
  /** The row of the table that PR 2's own migration {@code V2__release_notes.sql} creates. */
  static final String PR2_RELEASE_NOTE = "one-page checkout, behind flag new-checkout";
  /** How long the demo waits for a deploy or a teardown before it calls it failed. */
  private static final Duration DEADLINE = Duration.ofSeconds(90);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final ConsoleNotifier console;
  private final Function<ConsoleNotifier, PreviewListener> progress;
  private final List<String> appCommand;
  private final Path workDir;
  private final List<String> failures = new ArrayList<>();
  private final Map<String, Duration> phases = new LinkedHashMap<>();
  private int passed;
  private final Map<Integer, Integer> hookAnswers = new java.util.TreeMap<>();

  private PreviewDemo(Builder b) {
    this.console = b.console;
    this.progress = b.progress;
    this.appCommand = b.appCommand;
    this.workDir = b.workDir;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The command that runs the sample app with this JVM and this classpath (a jar or the build's classes). */
  public static List<String> sampleAppCommand() {
    String javaBin = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Absolute entries: the app runs in another working directory.
    String classpath = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(e -> !e.isEmpty()).map(e -> Path.of(e).toAbsolutePath().toString())
        .collect(Collectors.joining(java.io.File.pathSeparator));
    return List.of(javaBin, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m", "-Xshare:auto",
        "-cp", classpath, SampleApp.class.getName());
  }

  /** The {@code app.build} of the demo: {@link SampleBuild} with this JVM and this classpath, run in the PR's checkout. */
  public static List<String> sampleBuildCommand() {
    List<String> c = new ArrayList<>(sampleAppCommand());
    c.set(c.size() - 1, SampleBuild.class.getName());
    return List.copyOf(c);
  }

  /** Runs the demo; 0 if every check passed, 1 otherwise. */
  public int run() {
    long t0 = System.nanoTime();
    Set<Long> before = descendants();
    Path dir;
    try {
      dir = workDir != null ? workDir : Files.createTempDirectory("preview-demo-");
    } catch (IOException e) {
      say("cannot create a temporary directory: " + e.getMessage());
      return 1;
    }
    Path stateDir = dir.resolve("local");
    Path databases = dir.resolve("databases");
    Path workspaces = dir.resolve("workspaces");
    DemoRepository git;
    String pr1Sha;
    String pr2Sha;
    Path baseline;
    try {
      git = DemoRepository.create(dir.resolve("git"));
    } catch (RuntimeException e) {
      check(false, "the demo's git repository is created", e.toString());
      return finish(t0, dir, Map.of());
    }
    try {
      String mainSha = timed("git repository (JGit)", () -> git.commit(null, MAIN_GREETING,
          Map.of(MIGRATIONS + "/V1__greetings.sql", "CREATE TABLE greetings(id INTEGER PRIMARY KEY, text TEXT NOT NULL);\n"),
          "the sample app", "refs/heads/main"));
      // the known-good baseline: main's migrations, then the seed rows
      Path mainMigrations = git.worktree().resolve(MIGRATIONS);
      baseline = timed("baseline database", () -> SqliteBaseline.builder().file(dir.resolve("baseline.db"))
          .migrations(List.of("filesystem:" + mainMigrations))
          .sql("seed", BASELINE_ROWS.stream().map(r -> "INSERT INTO greetings(text) VALUES ('" + r + "');")
              .collect(Collectors.joining("\n")))
          .build().refresh());
      pr1Sha = git.commit(mainSha, PR1_GREETING, "cart: remember the items", "refs/pull/1/head");
      pr2Sha = git.commit(mainSha, PR2_GREETING, Map.of(MIGRATIONS + "/V2__release_notes.sql",
          "CREATE TABLE release_notes(text TEXT NOT NULL);\nINSERT INTO release_notes(text) VALUES ('" + PR2_RELEASE_NOTE + "');\n"),
          "checkout on one page, with a migration", "refs/pull/2/head");
    } catch (RuntimeException e) {
      git.close();
      check(false, "the demo's git repository and the baseline database are made", e.toString());
      return finish(t0, dir, Map.of());
    }
    LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(stateDir).workDir(dir)
        .command(appCommand).startCheck(Duration.ofSeconds(20)).build();
    InMemoryPullRequests scm = new InMemoryPullRequests();
    DemoWatch watch = new DemoWatch();
    String token = "demo-" + hex(16);
    AppTemplate app = AppTemplate.builder().command(appCommand).build(sampleBuildCommand()).buildTimeout(Duration.ofMinutes(2))
        .healthPath("/health").link("docs", "/docs")
        .env("GREETING", "hello from preview demo").secret("DEMO_API_TOKEN", Secret.of(token))
        .readinessTimeout(Duration.ofSeconds(60)).readinessInterval(Duration.ofMillis(100)).build();
    PreviewKey k1 = PreviewKey.pr(REPOSITORY, 1);
    PreviewKey k2 = PreviewKey.pr(REPOSITORY, 2);
    PreviewKey k3 = PreviewKey.pr(REPOSITORY, 3);
    PullRequest pr1 = PullRequest.open(k1, pr1Sha, "feature/cart", "main");
    PullRequest pr2 = PullRequest.open(k2, pr2Sha, "feature/checkout", "main")
        .withLabels(Set.of("flag:new-checkout"));
    Map<PreviewKey, List<String>> urls = new LinkedHashMap<>();
    SqliteDatabaseProvider sqlite = null;
    Secret hookSecret = Secret.of(hex(32));

    say("preview demo: a live environment per pull request, with the embedded defaults (no external service)");
    say("  environment: local processes, state in " + stateDir);
    say("  database:    sqlite, one file per PR in " + databases + ", cloned from baseline.db (main's"
        + " migrations + seed); each PR's own migrations in " + MIGRATIONS + " applied to its file");
    say("  notifier:    console (the PR comments are printed below)");
    say("  source:      build.from: source, build.repository: " + git.uri() + " (made with JGit: main,"
        + " refs/pull/1/head, refs/pull/2/head), one checkout per PR in " + workspaces);
    say("  app:         " + SampleApp.class.getName() + " (one JVM per preview, in its PR's checkout;"
        + " app.build: " + SampleBuild.class.getSimpleName() + ")");
    try {
      sqlite = SqliteDatabaseProvider.builder().directory(databases).baseline(baseline).branchMigrations(MIGRATIONS)
          .build();
    } catch (RuntimeException e) {
      check(false, "the database provider is configured", e.toString());
      git.close();
      return finish(t0, dir, urls);
    }
    PreviewOrchestrator.Builder ob = PreviewOrchestrator.builder().environment(local).database(sqlite)
        .notifier(console).pullRequests(scm).app(app).listener(watch)
        .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).repository(git.uri().toString())
            .workspaces(workspaces).build())
        .sources(GitSource.create(new SourceFetcher.Origin("github", null, git.uri().toString(), null)));
    if (progress != null) {
      ob.listener(progress.apply(console));
    }
    try (PreviewOrchestrator o = ob.build();
         WebhookServer server = WebhookServer.builder().orchestrator(o).bind("127.0.0.1").port(0).threads(4)
             .source(GitHubWebhookSource.builder(hookSecret).build()).start()) {
      URI endpoint = server.url().resolve("/webhooks/github");
      GitHubDeliveries github = new GitHubDeliveries(endpoint, hookSecret);
      say("  webhooks:    " + endpoint + " (GitHub-shaped pull_request deliveries, signed with a generated secret)");
      Demo d = new Demo(o, server, watch, github, sqlite, token);

      // 1. open both at once
      section("1. PR 1 and PR 2 opened (in parallel, two webhook deliveries)");
      scm.put(pr1);
      scm.put(pr2);
      timed("open PR 1 + PR 2 (parallel)", () -> {
        d.deliver("opened", pr1, null);
        d.deliver("opened", pr2, null);
        return d.awaitSettled(Map.of(k1, pr1.headSha(), k2, pr2.headSha()));
      });
      Seen p1 = d.seen(k1);
      Seen p2 = d.seen(k2);
      record(urls, p1);
      record(urls, p2);
      d.checkReady(p1, pr1, PR1_GREETING);
      d.checkReady(p2, pr2, PR2_GREETING);
      if (p1.url() != null && p2.url() != null) {
        String page1 = get(p1.url()).body();
        String page2 = get(p2.url()).body();
        check(!page1.contains(SampleApp.esc(PR2_GREETING)) && !page2.contains(SampleApp.esc(PR1_GREETING))
            && !page1.contains(MAIN_GREETING) && !page2.contains(MAIN_GREETING),
            "neither PR shows the other's change (nor main's greeting)", "");
      }
      Path ws1 = workspaces.resolve(Names.dnsLabel(k1));
      Path ws2 = workspaces.resolve(Names.dnsLabel(k2));
      check(Files.isRegularFile(ws1.resolve(SampleApp.GREETING_FILE)) && Files.isRegularFile(ws2.resolve(SampleApp.GREETING_FILE)),
          "PR 1 and PR 2 have their own checkouts " + workspaces.getFileName() + "/" + ws1.getFileName() + " and "
              + ws2.getFileName(), String.valueOf(files(workspaces)));
      check(p1.url() != null && p2.url() != null && !p1.url().equals(p2.url()), "PR 1 and PR 2 have different URLs",
          p1.url() + " vs " + p2.url());
      check(!sqlite.path(k1).equals(sqlite.path(k2)) && Files.isRegularFile(sqlite.path(k1))
          && Files.isRegularFile(sqlite.path(k2)), "PR 1 and PR 2 have their own database files",
          sqlite.path(k1) + ", " + sqlite.path(k2));
      if (p1.url() != null && p2.url() != null) {
        String page1 = get(p1.url()).body();
        String page2 = get(p2.url()).body();
        check(page2.contains("<h3>release_notes</h3>") && page2.contains(SampleApp.esc(PR2_RELEASE_NOTE)),
            "PR 2's own migration " + MIGRATIONS + "/V2__release_notes.sql ran on its database (table release_notes and its row)",
            "PR 2's page shows no release_notes table");
        check(!page1.contains("release_notes"), "PR 1's database has no release_notes table (PR 2's migration is PR 2's)",
            "PR 1's page shows release_notes");
      }
      if (p2.url() != null) {
        check(get(p2.url()).body().contains("FEATURE_NEW_CHECKOUT = true"), "PR 2 shows its flag new-checkout on",
            "label flag:new-checkout");
        check(!get(p1.url()).body().contains("FEATURE_NEW_CHECKOUT"), "PR 1 does not have that flag", "");
      }

      // 2. data written in PR 1 stays in PR 1
      String greeting = "written in PR 1 at " + java.time.LocalTime.now().withNano(0);
      section("2. A greeting written in PR 1's database (POST /greetings)");
      if (p1.url() != null && p2.url() != null) {
        Reply added = timed("write in PR 1", () -> post(p1.url().resolve("greetings"), "text=" + java.net.URLEncoder
            .encode(greeting, java.nio.charset.StandardCharsets.UTF_8)));
        check(added.status() == 201, "PR 1's app stored the greeting \"" + greeting + "\"", "got " + added.status()
            + " " + cut(added.body()));
        check(get(p1.url()).body().contains("<td>" + SampleApp.esc(greeting) + "</td>"),
            "PR 1's page shows the new row", "");
        Reply other = get(p2.url());
        boolean leaked = other.body().contains(SampleApp.esc(greeting));
        check(!leaked && d.showsBaseline(other.body()),
            "PR 2's page does not show it (its database is its own), only the baseline rows",
            leaked ? "PR 2 shows PR 1's greeting" : "PR 2 does not show the baseline rows");
      } else {
        check(false, "PR 1 and PR 2 are up to write into", "no URL");
      }

      // 3. a delivery nobody signed with our secret
      section("3. A forged delivery (signed with another secret) for PR 3");
      scm.put(PullRequest.open(k3, hex(20), "evil/branch", "main"));
      GitHubDeliveries.Delivery forged = github.forge("opened", PullRequest.open(k3, hex(20), "evil/branch", "main"),
          Secret.of(hex(32)));
      hookAnswers.merge(forged.status(), 1, Integer::sum);
      say("  POST " + endpoint.getPath() + "  pull_request.opened " + k3 + " (bad signature) -> " + forged.status());
      check(forged.status() == 401, "the webhook server answers 401 to a bad X-Hub-Signature-256",
          "got " + forged.status() + " " + cut(forged.body()));
      check(!watch.touched(k3) && o.get(k3).isEmpty() && !Files.exists(sqlite.path(k3)),
          "nothing was deployed for " + k3 + " (no step, no environment, no database)", "");
      scm.put(PullRequest.open(k3, hex(20), "evil/branch", "main").withState(PullRequest.State.CLOSED));

      // 4. push PR 1
      section("4. PR 1 pushed (redeployed at a new revision)");
      PullRequest pushed = pr1.withHeadSha(git.commit(pr1.headSha(), PR1_PUSHED_GREETING, "cart: show the total",
          "refs/pull/1/head"));
      say("  pushed " + pushed.headSha().substring(0, 7) + " to refs/pull/1/head (on top of " + pr1.headSha().substring(0, 7) + ")");
      scm.put(pushed);
      timed("push PR 1", () -> {
        d.deliver("synchronize", pushed, pr1.headSha());
        return d.awaitSettled(Map.of(k1, pushed.headSha()));
      });
      Seen p1b = d.seen(k1);
      record(urls, p1b);
      d.checkReady(p1b, pushed, PR1_PUSHED_GREETING);
      if (p1b.url() != null) {
        check(!get(p1b.url()).body().contains(SampleApp.esc(PR1_GREETING)), "PR 1 no longer shows its first commit's greeting", "");
      }
      if (p1.url() != null && p1b.url() != null && !p1.url().equals(p1b.url())) {
        check(!answers(p1.url()), "the old revision of PR 1 no longer answers at " + p1.url(), "");
      }
      if (p1b.url() != null) {
        check(get(p1b.url()).body().contains("<td>" + SampleApp.esc(greeting) + "</td>"),
            "PR 1's greeting survived the redeploy (same database)", "");
      }
      if (p2.url() != null) {
        check(get(p2.url()).body().contains(pr2.headSha()), "PR 2 is untouched by PR 1's push", "");
      }

      // 4b. GitHub delivers late: an event for PR 1's older commit, after the push
      section("4b. A late delivery for PR 1's older commit (labeled, at " + pr1.headSha().substring(0, 7) + ")");
      scm.put(pushed.withLabels(Set.of("reviewed")));
      GitHubDeliveries.Delivery late = github.labeled(pr1.withLabels(Set.of("reviewed")), "reviewed");
      hookAnswers.merge(late.status(), 1, Integer::sum);
      say("  POST " + endpoint.getPath() + "  pull_request.labeled " + k1 + " at the old " + pr1.headSha().substring(0, 7)
          + " -> " + late.status() + " (delivery " + late.id().substring(0, 8) + ")");
      check(late.status() == 202, "the webhook server accepts pull_request.labeled of " + k1 + " (202)",
          "got " + late.status() + " " + cut(late.body()));
      timed("late delivery for PR 1", () -> watch.await(() -> server.inFlight() == 0, DEADLINE));
      Seen p1c = d.seen(k1);
      record(urls, p1c);
      String revision = o.get(k1).map(Preview::revision).orElse(null);
      check(pushed.headSha().equals(revision) && watch.settled(k1, pushed.headSha()),
          "PR 1 is not rolled back: its revision is still " + pushed.headSha().substring(0, 7) + ", not "
              + pr1.headSha().substring(0, 7), "revision " + revision + ", state " + p1c.state() + " " + p1c.message());
      Reply after = p1c.url() == null ? new Reply(-1, "no URL") : get(p1c.url());
      check(after.body().contains("<code id=\"greeting\">" + SampleApp.esc(PR1_PUSHED_GREETING) + "</code>")
          && after.body().contains("<code id=\"revision\">" + pushed.headSha() + "</code>"),
          "PR 1 still shows its second commit's greeting and revision", cut(after.body()));

      // 5. close one, merge the other
      section("5. PR 1 closed, PR 2 merged (torn down)");
      PullRequest closed1 = pushed.withState(PullRequest.State.CLOSED);
      PullRequest merged2 = pr2.withState(PullRequest.State.MERGED);
      scm.put(closed1);
      scm.put(merged2);
      timed("close PR 1 + merge PR 2", () -> {
        d.deliver("closed", closed1, null);
        d.deliver("closed", merged2, null);
        return d.awaitDeleted(List.of(k1, k2));
      });
      for (PreviewKey k : List.of(k1, k2)) {
        check(watch.state(k) == PreviewState.DELETED, k + " is DELETED", "state " + watch.state(k) + " " + watch.message(k));
      }
      check(watch.message(k2).contains("merged") && watch.message(k1).contains("closed"),
          "the deliveries read as PR 1 closed, PR 2 merged (merged: true)", watch.message(k1) + " / " + watch.message(k2));
      for (Map.Entry<PreviewKey, List<String>> e : urls.entrySet()) {
        for (String u : e.getValue()) {
          check(!answers(URI.create(u)), e.getKey() + " no longer answers at " + u, "");
        }
      }
      check(o.list().isEmpty(), "the orchestrator lists no preview", String.valueOf(o.list()));
      List<String> left = files(stateDir);
      check(left.isEmpty(), "the state directory is empty", String.valueOf(left));
      List<String> checkouts = files(workspaces);
      check(checkouts.isEmpty(), "the workspaces (the PRs' checkouts) are gone", String.valueOf(checkouts));
      List<String> dbs = files(databases);
      check(dbs.isEmpty() && sqlite.list().isEmpty(), "the database files are gone", String.valueOf(dbs));
    } catch (IOException | RuntimeException e) {
      failures.add("the demo stopped: " + e);
      say("  FAILED: the demo stopped: " + e);
    } finally {
      git.close();
      // Whatever happened, leave nothing running.
      for (PreviewKey k : List.of(k1, k2, k3)) {
        cleanup(k, "environment", () -> local.delete(k));
        SqliteDatabaseProvider db = sqlite;
        cleanup(k, "database", () -> db.drop(k));
      }
    }
    Set<Long> leftover = descendants();
    leftover.removeAll(before);
    check(leftover.isEmpty(), "no process started by the demo is left", "still alive: " + leftover);
    return finish(t0, dir, urls);
  }

  private void cleanup(PreviewKey key, String what, Runnable delete) {
    try {
      delete.run();
    } catch (RuntimeException e) {
      failures.add("cleanup of the " + what + " of " + key + ": " + e.getMessage());
    }
  }

  private int finish(long t0, Path dir, Map<PreviewKey, List<String>> urls) {
    if (workDir == null) {
      deleteTree(dir);
    }
    phases.put("total", Duration.ofNanos(System.nanoTime() - t0));
    summary(urls);
    return failures.isEmpty() ? 0 : 1;
  }

  /** A preview as the demo sees it: the listener's state and the environment's URL. */
  record Seen(PreviewKey key, PreviewState state, URI url, String failedStep, String message) {}

  /** One run's tools: sends deliveries, waits on the listener, checks pages. */
  private final class Demo {
    private final PreviewOrchestrator o;
    private final WebhookServer server;
    private final DemoWatch watch;
    private final GitHubDeliveries github;
    private final SqliteDatabaseProvider sqlite;
    private final String token;

    Demo(PreviewOrchestrator o, WebhookServer server, DemoWatch watch, GitHubDeliveries github,
        SqliteDatabaseProvider sqlite, String token) {
      this.o = o;
      this.server = server;
      this.watch = watch;
      this.github = github;
      this.sqlite = sqlite;
      this.token = token;
    }

    void deliver(String action, PullRequest pr, String before) {
      GitHubDeliveries.Delivery d = github.send(action, pr, before);
      hookAnswers.merge(d.status(), 1, Integer::sum);
      String what = "pull_request." + action + (action.equals("closed") ? " (merged: "
          + (pr.state() == PullRequest.State.MERGED) + ")" : "");
      say("  POST /webhooks/github  " + what + " " + pr.key() + " -> " + d.status() + " (delivery " + d.id().substring(0, 8) + ")");
      check(d.status() == 202, "the webhook server accepts " + what + " of " + pr.key() + " (202)",
          "got " + d.status() + " " + cut(d.body()));
    }

    /** Until each key is READY (or FAILED) at its revision and no event is in flight. */
    boolean awaitSettled(Map<PreviewKey, String> revisions) {
      boolean ok = watch.await(() -> server.inFlight() == 0
          && revisions.entrySet().stream().allMatch(e -> watch.settled(e.getKey(), e.getValue())), DEADLINE);
      if (!ok) {
        check(false, "the previews settled within " + DEADLINE.toSeconds() + " s", revisions.keySet().stream()
            .map(k -> k + " " + watch.state(k)).collect(Collectors.joining(", ")));
      }
      return ok;
    }

    boolean awaitDeleted(List<PreviewKey> keys) {
      boolean ok = watch.await(() -> server.inFlight() == 0 && keys.stream().allMatch(watch::tornDown), DEADLINE);
      if (!ok) {
        check(false, "the teardowns ended within " + DEADLINE.toSeconds() + " s", keys.stream()
            .map(k -> k + " " + watch.state(k)).collect(Collectors.joining(", ")));
      }
      return ok;
    }

    Seen seen(PreviewKey key) {
      PreviewState state = watch.state(key);
      URI url = state == PreviewState.READY ? o.get(key).map(Preview::url).orElse(null) : null;
      return new Seen(key, state, url, watch.failedStep(key), watch.message(key));
    }

    boolean showsBaseline(String page) {
      return BASELINE_ROWS.stream().allMatch(r -> page.contains("<td>" + SampleApp.esc(r) + "</td>"));
    }

    private String databaseProblem(String page, PreviewKey key) {
      List<String> missing = BASELINE_ROWS.stream().filter(r -> !page.contains("<td>" + SampleApp.esc(r) + "</td>")).toList();
      return "rows missing " + missing + (page.contains("jdbc:sqlite:" + sqlite.path(key)) ? ""
          : ", the page does not show DATABASE_URL=jdbc:sqlite:" + sqlite.path(key));
    }

    void checkReady(Seen p, PullRequest pr, String greeting) {
      String who = p.key().id();
      if (!check(p.state() == PreviewState.READY && p.url() != null, who + " is READY at " + p.url(),
          "state " + p.state() + (p.failedStep() != null ? " at step " + p.failedStep() : "") + ": " + p.message())) {
        return;
      }
      Reply home = get(p.url());
      check(home.status() == 200 && home.body().contains("<code id=\"revision\">" + pr.headSha() + "</code>"),
          who + " answers at " + p.url() + " with revision " + pr.headSha().substring(0, 7),
          "got " + home.status() + " " + cut(home.body()));
      check(home.body().contains("<code id=\"key\">" + who + "</code>"), who + " page shows its own key", cut(home.body()));
      check(home.body().contains("<code id=\"greeting\">" + SampleApp.esc(greeting) + "</code>"),
          who + " runs its own code: greeting.txt of " + pr.headSha().substring(0, 7) + " says \"" + greeting + "\"",
          cut(home.body()));
      check(home.body().contains("<code id=\"build\">" + SampleApp.esc("built " + pr.headSha() + " greeting=" + greeting) + "</code>"),
          who + " app.build ran in its checkout at " + pr.headSha().substring(0, 7), cut(home.body()));
      check(home.body().contains("hello from preview demo") && !home.body().contains(token),
          who + " page shows its settings but not its secret DEMO_API_TOKEN", "");
      check(showsBaseline(home.body()) && home.body().contains("jdbc:sqlite:" + sqlite.path(p.key())),
          who + " page shows the " + BASELINE_ROWS.size() + " baseline rows of its own database "
              + sqlite.path(p.key()).getFileName(), databaseProblem(home.body(), p.key()));
      Reply health = get(p.url().resolve("health"));
      check(health.status() == 200 && health.body().equals("ok"), who + " /health answers ok",
          "got " + health.status() + " " + cut(health.body()));
      Reply docs = get(p.url().resolve("docs"));
      check(docs.status() == 200, who + " /docs answers", "got " + docs.status());
    }
  }

  private boolean check(boolean ok, String what, String detail) {
    if (ok) {
      passed++;
      say("  check: " + what + " ... ok");
    } else {
      failures.add(what + (detail.isEmpty() ? "" : " (" + detail + ")"));
      say("  check: " + what + " ... FAILED" + (detail.isEmpty() ? "" : " (" + detail + ")"));
    }
    return ok;
  }

  private <T> T timed(String phase, java.util.function.Supplier<T> body) {
    long t = System.nanoTime();
    try {
      return body.get();
    } finally {
      Duration d = Duration.ofNanos(System.nanoTime() - t);
      phases.put(phase, d);
      say("  " + phase + ": " + ConsoleNotifier.format(d));
    }
  }

  private void summary(Map<PreviewKey, List<String>> urls) {
    section("Summary");
    phases.forEach((phase, d) -> say(String.format(Locale.ROOT, "  %-30s %9s", phase, ConsoleNotifier.format(d))));
    urls.forEach((k, u) -> say("  " + k + ": " + String.join(" -> ", u) + " (removed)"));
    if (!hookAnswers.isEmpty()) {
      say("  webhook deliveries: " + hookAnswers.entrySet().stream().map(e -> e.getValue() + " answered " + e.getKey())
          .collect(Collectors.joining(", ")));
    }
    say("  checks: " + passed + " passed, " + failures.size() + " failed");
    if (failures.isEmpty()) {
      say("demo OK");
    } else {
      say("demo FAILED:");
      failures.forEach(f -> say("  - " + f));
    }
  }

  private static void record(Map<PreviewKey, List<String>> urls, Seen p) {
    if (p.url() != null) {
      List<String> l = urls.computeIfAbsent(p.key(), k -> new ArrayList<>());
      if (!l.contains(p.url().toString())) {
        l.add(p.url().toString());
      }
    }
  }

  private void section(String title) {
    say("");
    say("== " + title);
  }

  private void say(String line) {
    console.println(line);
  }

  record Reply(int status, String body) {}

  static Reply get(URI url) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Reply(-1, "no answer: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Reply(-1, "interrupted");
    }
  }

  static Reply post(URI url, String form) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Reply(-1, "no answer: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Reply(-1, "interrupted");
    }
  }

  private static boolean answers(URI url) {
    return get(url).status() > 0;
  }

  private static String cut(String s) {
    String one = s.replaceAll("\\s+", " ");
    return one.length() > 200 ? one.substring(0, 200) + "..." : one;
  }

  private static Set<Long> descendants() {
    return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid)
        .collect(Collectors.toCollection(java.util.HashSet::new));
  }

  private static List<String> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      return List.of("cannot list: " + e.getMessage());
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp dir left behind is harmless
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** Builds a {@link PreviewDemo}. Defaults: a console notifier on {@code System.out}, the sample app of this classpath, a temp dir. */
  public static final class Builder {
    private ConsoleNotifier console;
    private Function<ConsoleNotifier, PreviewListener> progress;
    private List<String> appCommand = sampleAppCommand();
    private Path workDir;

    private Builder() {}

    /** Where everything is printed: the PR comments, the steps and the checks. */
    public Builder console(ConsoleNotifier c) { this.console = Objects.requireNonNull(c); return this; }

    /** The progress listener, built over the console (lines go through {@link ConsoleNotifier#println}). */
    public Builder progress(Function<ConsoleNotifier, PreviewListener> p) { this.progress = p; return this; }

    /** The command that starts the sample app (it must listen on {@code PORT}). */
    public Builder appCommand(List<String> c) { this.appCommand = List.copyOf(c); return this; }

    /** A directory for the state and logs (kept afterwards); default a temp dir, removed afterwards. */
    public Builder workDir(Path dir) { this.workDir = dir; return this; }

    public PreviewDemo build() {
      if (console == null) {
        console = ConsoleNotifier.create();
      }
      return new PreviewDemo(this);
    }
  }
}
