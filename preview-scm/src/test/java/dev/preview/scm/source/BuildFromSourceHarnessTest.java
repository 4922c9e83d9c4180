package dev.preview.scm.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.SourceFetcher;
import dev.preview.testkit.Servers;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code build.from: source} costs against doing the same by hand. Off by default (skipped
 * with the reason); run it with:
 *
 * <pre>
 * mvn -B -q -o -pl preview-scm -am verify -Dtest=BuildFromSourceHarnessTest -Dpreview.benchmark=true \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=none
 * </pre>
 *
 * A repository shaped like {@code preview demo}'s ({@code greeting.txt}, a few source files) is served
 * over HTTP by {@code git http-backend} behind busybox httpd. The build is the demo's: a precompiled
 * JDK-only class (the same code as the demo's {@code SampleBuild}: reads {@code greeting.txt}, writes
 * {@code build.txt}) run with the demo's JVM flags. Each round pushes a new commit to a new PR and
 * measures, in alternating order:
 * <ol>
 *   <li><b>orchestrator</b>: the step {@code build} of a real deploy (orchestrator, local provider,
 *       {@code build.from: source}, {@link GitSource}): JGit's shallow fetch of the PR's head into a
 *       fresh workspace, checkout, then {@code app.build} there ({@link Preview#timings()});
 *   <li><b>baseline</b>: {@code git clone --depth 1 --branch <the PR's branch> URL DIR} then the same
 *       build command in {@code DIR}, both with {@link ProcessBuilder}, wall time.
 * </ol>
 * Medians and the ratio are printed and written to {@code preview-scm/target/build-from-source.txt}.
 * Rounds: {@code -Dpreview.benchmark.rounds} (default 15), after 2 warm-up rounds.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true",
    disabledReason = "a harness: run with -Dpreview.benchmark=true")
class BuildFromSourceHarnessTest {
  private static final Path BUSYBOX = Path.of("/bin/busybox");
  private static final Path GIT = Path.of("/usr/bin/git");
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final PersonIdent WHO = new PersonIdent("t", "t@example.com");
  private static final int WARMUP = 2;

  /** The demo's SampleBuild, as a class of its own (preview-scm cannot see preview-examples). */
  private static final String BUILD = """
      import java.nio.charset.StandardCharsets;
      import java.nio.file.*;
      public class SampleBuild {
        public static void main(String[] a) throws Exception {
          Path greeting = Path.of("greeting.txt");
          String first = Files.isRegularFile(greeting)
              ? Files.readString(greeting, StandardCharsets.UTF_8).strip().lines().findFirst().orElse("") : "(none)";
          String text = "built " + System.getenv().getOrDefault("PREVIEW_REVISION", "unknown") + " greeting=" + first;
          Files.writeString(Path.of("build.txt"), text + "\\n", StandardCharsets.UTF_8);
          System.out.println(text);
        }
      }
      """;
  private static final String SERVE = """
      import com.sun.net.httpserver.HttpServer;
      import java.net.InetSocketAddress;
      import java.nio.file.*;
      public class SampleServe {
        public static void main(String[] a) throws Exception {
          HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(System.getenv("PORT"))), 0);
          s.createContext("/", x -> {
            byte[] body = Files.readAllBytes(Path.of("build.txt"));
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
          });
          s.start();
        }
      }
      """;

  @TempDir Path tmp;

  @Test
  void buildFromSourceAgainstGitCloneAndTheSameBuild() throws Exception {
    Servers.require("busybox httpd (/bin/busybox) and git http-backend (/usr/bin/git)",
        Files.isExecutable(BUSYBOX) && Files.isExecutable(GIT), ".ci/servers/docker.sh (installs busybox-static); apt-get install git");
    int rounds = Integer.getInteger("preview.benchmark.rounds", 15);
    Path classes = compile();
    List<String> build = jvm(classes, "SampleBuild");

    Path repos = Files.createDirectories(tmp.resolve("repos"));
    Git.init().setBare(true).setDirectory(repos.resolve("origin.git").toFile()).setInitialBranch("main").call().close();
    try (Git author = Git.cloneRepository().setURI(repos.resolve("origin.git").toUri().toString())
            .setDirectory(tmp.resolve("author").toFile()).call()) {
      RevCommit main = commit(author, demoFiles("hello from main"));
      author.push().setRemote("origin").setRefSpecs(new RefSpec("HEAD:refs/heads/main")).call();
      Process httpd = httpd(repos);
      try {
        String url = "http://127.0.0.1:" + port + "/cgi-bin/git/origin.git";
        LocalEnvironmentProvider local = LocalEnvironmentProvider.builder().stateDir(tmp.resolve("state")).build();
        AppTemplate app = AppTemplate.builder().command(jvm(classes, "SampleServe")).build(build)
            .buildTimeout(Duration.ofMinutes(2)).healthPath("/").readinessInterval(Duration.ofMillis(50)).build();
        Path workspaces = tmp.resolve("workspaces");
        List<Long> orchestrator = new ArrayList<>();
        List<Long> baseline = new ArrayList<>();
        List<Long> clones = new ArrayList<>();
        try (PreviewOrchestrator previews = PreviewOrchestrator.builder()
            .environment(local).app(app).policy(PreviewPolicy.defaults())
            .buildSettings(BuildSettings.builder().from(BuildSettings.From.SOURCE).workspaces(workspaces).build())
            .sources(GitSource.create(new SourceFetcher.Origin("github", null, url, null)))
            .build()) {
          for (int i = 0; i < WARMUP + rounds; i++) {
            int number = 100 + i;
            author.reset().setMode(ResetCommand.ResetType.HARD).setRef(main.name()).call();
            RevCommit head = commit(author, demoFiles("hello from PR " + number));
            author.push().setRemote("origin").setForce(true).setRefSpecs(
                new RefSpec("+" + head.name() + ":refs/pull/" + number + "/head"),
                new RefSpec("+" + head.name() + ":refs/heads/pr-" + number)).call();
            long o;
            long b;
            if (i % 2 == 0) {
              o = viaOrchestrator(previews, number, head);
              b = viaClone(url, number, head, build, clones);
            } else {
              b = viaClone(url, number, head, build, clones);
              o = viaOrchestrator(previews, number, head);
            }
            if (i >= WARMUP) {
              orchestrator.add(o);
              baseline.add(b);
            } else {
              clones.remove(clones.size() - 1);
            }
          }
        }
        long mo = median(orchestrator);
        long mb = median(baseline);
        List<String> report = List.of(
            "build from source vs git clone + build, " + rounds + " rounds (after " + WARMUP + " warm-up), alternating order",
            "repository: " + demoFiles("x").size() + " files over HTTP (git http-backend behind busybox httpd)",
            "build: " + String.join(" ", build).replace(classes.toString(), "<classes>"),
            String.format(Locale.ROOT, "orchestrator step build (JGit shallow fetch + checkout + app.build): median %d ms, min %d, max %d",
                mo, Collections.min(orchestrator), Collections.max(orchestrator)),
            String.format(Locale.ROOT, "baseline git clone --depth 1 + the same build: median %d ms, min %d, max %d",
                mb, Collections.min(baseline), Collections.max(baseline)),
            String.format(Locale.ROOT, "  of which git clone --depth 1 alone: median %d ms", median(clones)),
            String.format(Locale.ROOT, "ratio orchestrator / baseline (medians): %.2f", (double) mo / mb),
            "orchestrator ms: " + orchestrator,
            "baseline ms:     " + baseline);
        report.forEach(System.out::println);
        Path out = Path.of("target", "build-from-source.txt");
        Files.createDirectories(out.getParent());
        Files.write(out, report, StandardCharsets.UTF_8);
        assertThat(orchestrator).hasSize(rounds);
      } finally {
        httpd.destroyForcibly();
      }
    }
  }

  /** The step {@code build}'s time of a deploy of a new PR (a fresh workspace), then its teardown (not timed). */
  private long viaOrchestrator(PreviewOrchestrator previews, int number, RevCommit head) throws Exception {
    PreviewKey key = PreviewKey.pr("acme/shop", number);
    PullRequest pr = new PullRequest(key, PullRequest.State.OPEN, head.name(), "pr-" + number, "main", "dev", Set.of(),
        false, false);
    Preview p = previews.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(3, TimeUnit.MINUTES);
    assertThat(p.state()).as(p.toString()).isEqualTo(PreviewState.READY);
    Duration d = p.timings().get("build");
    assertThat(d).as("the step build's time in " + p.timings()).isNotNull();
    Path built = tmp.resolve("workspaces").resolve(dev.preview.spi.Names.dnsLabel(key)).resolve("build.txt");
    assertThat(Files.readString(built)).isEqualTo("built " + head.name() + " greeting=hello from PR " + number + "\n");
    previews.teardown(key, "round over").get(60, TimeUnit.SECONDS);
    return d.toMillis();
  }

  /** {@code git clone --depth 1} of the PR's branch, then the build in the clone: wall time (the clone's alone to {@code clones}). */
  private long viaClone(String url, int number, RevCommit head, List<String> build, List<Long> clones)
      throws Exception {
    Path dir = tmp.resolve("clone-" + number);
    long t0 = System.nanoTime();
    run(List.of(GIT.toString(), "clone", "-q", "--depth", "1", "--branch", "pr-" + number, url, dir.toString()), tmp,
        Map.of());
    clones.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    run(build, dir, Map.of("PREVIEW_REVISION", head.name()));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(Files.readString(dir.resolve("build.txt"))).isEqualTo("built " + head.name() + " greeting=hello from PR "
        + number + "\n");
    return ms;
  }

  private static void run(List<String> argv, Path dir, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).as(argv + " finished").isTrue();
    assertThat(p.exitValue()).as(argv + " exit code; output: " + out).isZero();
  }

  /** The demo's files: the greeting the app shows and a few sources, as a small app's checkout has. */
  private static Map<String, String> demoFiles(String greeting) {
    return Map.of("greeting.txt", greeting + "\n", "src/SampleBuild.java", BUILD, "src/SampleServe.java", SERVE,
        "README.md", "the demo's sample app\n", "db/migration/V1__init.sql", "create table visit (id integer);\n");
  }

  private static RevCommit commit(Git author, Map<String, String> files) throws Exception {
    Path dir = author.getRepository().getWorkTree().toPath();
    for (var e : files.entrySet()) {
      Path f = dir.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.writeString(f, e.getValue());
    }
    author.add().addFilepattern(".").call();
    return author.commit().setMessage(files.get("greeting.txt").strip()).setAuthor(WHO).setCommitter(WHO).call();
  }

  /** The demo's JVM flags ({@code PreviewDemo.sampleAppCommand}) with {@code classes} as the classpath. */
  private static List<String> jvm(Path classes, String main) {
    return List.of(JAVA, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m", "-Xshare:auto", "-cp",
        classes.toString(), main);
  }

  private Path compile() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Path classes = Files.createDirectories(tmp.resolve("classes"));
    Files.writeString(src.resolve("SampleBuild.java"), BUILD);
    Files.writeString(src.resolve("SampleServe.java"), SERVE);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, null, Stream.of("-d", classes.toString(), src.resolve("SampleBuild.java").toString(),
        src.resolve("SampleServe.java").toString()).toArray(String[]::new));
    assertThat(rc).as("javac of the sample build").isZero();
    return classes;
  }

  private int port;

  private Process httpd(Path repos) throws Exception {
    Path cgi = Files.createDirectories(tmp.resolve("www/cgi-bin")).resolve("git");
    Files.writeString(cgi, "#!/bin/sh\nGIT_PROJECT_ROOT='" + repos + "' GIT_HTTP_EXPORT_ALL=1 exec " + GIT + " http-backend\n");
    Files.setPosixFilePermissions(cgi, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process p = new ProcessBuilder(BUSYBOX.toString(), "httpd", "-f", "-p", "127.0.0.1:" + port, "-h",
        tmp.resolve("www").toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("httpd.log").toFile()).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> answers(port));
    return p;
  }

  private static boolean answers(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static long median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
