package dev.preview.examples.demo;

import dev.preview.core.AppTemplate;
import dev.preview.core.Preview;
import dev.preview.core.PreviewListener;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.console.ConsoleNotifier;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.examples.sample.SampleApp;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.Secret;
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
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code preview demo}: a whole PR lifecycle on this machine with the embedded defaults and no
 * external service. The {@code local} provider runs the {@link SampleApp} once per PR on its own
 * port, the {@code console} notifier prints the PR comments, and an in-memory SCM holds the PRs.
 *
 * <ol>
 *   <li>PR 1 and PR 2 are opened at once; each must answer at its own URL with its own revision
 *       (PR 2 carries the label {@code flag:new-checkout}, so its page shows that flag on).</li>
 *   <li>PR 1 is pushed; its page must show the new revision, and the old process must be gone.</li>
 *   <li>Both are closed; their URLs must stop answering, the state directory must be empty, and no
 *       process started by the demo may be left.</li>
 * </ol>
 *
 * Every check is printed; {@link #run()} returns 0 only if all passed, else 1.
 */
public final class PreviewDemo {
  static final String REPOSITORY = "acme/shop";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final ConsoleNotifier console;
  private final Function<ConsoleNotifier, PreviewListener> progress;
  private final List<String> appCommand;
  private final Path workDir;
  private final List<String> failures = new ArrayList<>();
  private final Map<String, Duration> phases = new LinkedHashMap<>();
  private int passed;

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
    LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(stateDir).workDir(dir)
        .command(appCommand).startCheck(Duration.ofSeconds(20)).build();
    InMemoryPullRequests scm = new InMemoryPullRequests();
    String token = "demo-" + hex(16);
    AppTemplate app = AppTemplate.builder().command(appCommand).healthPath("/health").link("docs", "/docs")
        .env("GREETING", "hello from preview demo").secret("DEMO_API_TOKEN", Secret.of(token))
        .readinessTimeout(Duration.ofSeconds(60)).readinessInterval(Duration.ofMillis(100)).build();
    PreviewOrchestrator.Builder ob = PreviewOrchestrator.builder().environment(local).notifier(console)
        .pullRequests(scm).app(app);
    if (progress != null) {
      ob.listener(progress.apply(console));
    }
    PreviewKey k1 = PreviewKey.pr(REPOSITORY, 1);
    PreviewKey k2 = PreviewKey.pr(REPOSITORY, 2);
    PullRequest pr1 = PullRequest.open(k1, hex(20), "feature/cart", "main");
    PullRequest pr2 = PullRequest.open(k2, hex(20), "feature/checkout", "main")
        .withLabels(Set.of("flag:new-checkout"));
    Map<PreviewKey, List<String>> urls = new LinkedHashMap<>();

    say("preview demo: a live environment per pull request, with the embedded defaults (no external service)");
    say("  environment: local processes, state in " + stateDir);
    say("  notifier:    console (the PR comments are printed below)");
    say("  app:         " + SampleApp.class.getName() + " (one JVM per preview)");
    try (PreviewOrchestrator o = ob.build()) {
      // 1. open both at once
      section("1. PR 1 and PR 2 opened (in parallel)");
      scm.put(pr1);
      scm.put(pr2);
      List<Preview> opened = timed("open PR 1 + PR 2 (parallel)", () -> List.of(
          o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr1)),
          o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr2))).stream()
          .map(CompletableFuture::join).toList());
      Preview p1 = opened.get(0);
      Preview p2 = opened.get(1);
      record(urls, p1);
      record(urls, p2);
      checkReady(p1, pr1, token);
      checkReady(p2, pr2, token);
      check(p1.url() != null && p2.url() != null && !p1.url().equals(p2.url()), "PR 1 and PR 2 have different URLs",
          p1.url() + " vs " + p2.url());
      if (p2.url() != null) {
        check(get(p2.url()).body().contains("FEATURE_NEW_CHECKOUT = true"), "PR 2 shows its flag new-checkout on",
            "label flag:new-checkout");
        check(!get(p1.url()).body().contains("FEATURE_NEW_CHECKOUT"), "PR 1 does not have that flag", "");
      }

      // 2. push PR 1
      section("2. PR 1 pushed (redeployed at a new revision)");
      PullRequest pushed = pr1.withHeadSha(hex(20));
      scm.put(pushed);
      Preview p1b = timed("push PR 1", () ->
          o.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pushed)).join());
      record(urls, p1b);
      checkReady(p1b, pushed, token);
      if (p1.url() != null && p1b.url() != null && !p1.url().equals(p1b.url())) {
        check(!answers(p1.url()), "the old revision of PR 1 no longer answers at " + p1.url(), "");
      }
      if (p2.url() != null) {
        check(get(p2.url()).body().contains(pr2.headSha()), "PR 2 is untouched by PR 1's push", "");
      }

      // 3. close both
      section("3. PR 1 and PR 2 closed (torn down)");
      scm.put(pushed.withState(PullRequest.State.CLOSED));
      scm.put(pr2.withState(PullRequest.State.MERGED));
      List<Preview> closed = timed("close PR 1 + PR 2", () -> List.of(
          o.handle(PullRequestEvent.of(PullRequestEvent.Action.CLOSED, pushed)),
          o.handle(PullRequestEvent.of(PullRequestEvent.Action.MERGED, pr2))).stream()
          .map(CompletableFuture::join).toList());
      for (Preview p : closed) {
        check(p.state() == PreviewState.DELETED, p.key() + " is DELETED", "state " + p.state() + " " + p.message());
      }
      for (Map.Entry<PreviewKey, List<String>> e : urls.entrySet()) {
        for (String u : e.getValue()) {
          check(!answers(URI.create(u)), e.getKey() + " no longer answers at " + u, "");
        }
      }
      check(o.list().isEmpty(), "the orchestrator lists no preview", String.valueOf(o.list()));
      List<String> left = files(stateDir);
      check(left.isEmpty(), "the state directory is empty", String.valueOf(left));
    } catch (RuntimeException e) {
      failures.add("the demo stopped: " + e);
      say("  FAILED: the demo stopped: " + e);
    } finally {
      // Whatever happened, leave nothing running.
      Stream.of(k1, k2).forEach(k -> {
        try {
          local.delete(k);
        } catch (RuntimeException e) {
          failures.add("cleanup of " + k + ": " + e.getMessage());
        }
      });
    }
    Set<Long> leftover = descendants();
    leftover.removeAll(before);
    check(leftover.isEmpty(), "no process started by the demo is left", "still alive: " + leftover);
    if (workDir == null) {
      deleteTree(dir);
    }
    phases.put("total", Duration.ofNanos(System.nanoTime() - t0));
    summary(urls);
    return failures.isEmpty() ? 0 : 1;
  }

  private void checkReady(Preview p, PullRequest pr, String token) {
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
    check(home.body().contains("hello from preview demo") && !home.body().contains(token),
        who + " page shows its settings but not its secret DEMO_API_TOKEN", "");
    Reply health = get(p.url().resolve("health"));
    check(health.status() == 200 && health.body().equals("ok"), who + " /health answers ok",
        "got " + health.status() + " " + cut(health.body()));
    Reply docs = get(p.url().resolve("docs"));
    check(docs.status() == 200, who + " /docs answers", "got " + docs.status());
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
    say("  checks: " + passed + " passed, " + failures.size() + " failed");
    if (failures.isEmpty()) {
      say("demo OK");
    } else {
      say("demo FAILED:");
      failures.forEach(f -> say("  - " + f));
    }
  }

  private static void record(Map<PreviewKey, List<String>> urls, Preview p) {
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
