package dev.preview.core.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalEnvironmentProviderUnitTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dir;
  private final List<PreviewKey> made = new ArrayList<>();

  private LocalEnvironmentProvider provider() {
    return provider(Duration.ofSeconds(30)); // apply returns as soon as the app listens
  }

  /** Apps that never listen (sh scripts) make apply wait the whole start check: keep it short for them. */
  private LocalEnvironmentProvider provider(Duration startCheck) {
    return LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(startCheck).stopTimeout(Duration.ofSeconds(5)).build();
  }

  private PreviewKey key() {
    PreviewKey k = PreviewKey.pr("acme/shop-" + UUID.randomUUID().toString().substring(0, 8), 1);
    made.add(k);
    return k;
  }

  static List<String> javaApp() {
    return List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
        System.getProperty("java.class.path"), TestApp.class.getName());
  }

  private static EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).command(javaApp()).labels(Labels.ownership(key, revision));
  }

  /** A provider of instance {@code instance} on the same state directory as {@link #provider()}. */
  private LocalEnvironmentProvider provider(String instance) {
    LocalEnvironmentProvider p = LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .installation(Installation.builder().instance(instance).build())
        .startCheck(Duration.ofSeconds(30)).stopTimeout(Duration.ofSeconds(5)).build();
    others.add(instance);
    return p;
  }

  private final List<String> others = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    LocalEnvironmentProvider p = provider();
    made.forEach(p::delete);
    for (String instance : List.copyOf(others)) {
      LocalEnvironmentProvider o = provider(instance);
      made.forEach(o::delete);
    }
  }

  static String get(URI url, String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (IOException e) {
      return "unreachable: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void appRunsOnItsOwnPortWithEnvAndSecretsAndTheStateFileHoldsNoSecret() throws IOException {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    Environment env = p.apply(spec(key, "aaaa1111").env("GREETING", "hello")
        .secret("API_TOKEN", Secret.of("s3cr3t-value-42")).build());

    assertThat(env.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(env.url().toString()).matches("http://127\\.0\\.0\\.1:\\d+/");
    assertThat(env.revision()).isEqualTo("aaaa1111");
    assertThat(get(env.url(), "/health")).isEqualTo("200 ok");
    assertThat(get(env.url(), "/env/GREETING")).isEqualTo("200 hello");
    assertThat(get(env.url(), "/env/API_TOKEN")).isEqualTo("200 s3cr3t-value-42");
    assertThat(get(env.url(), "/env/PORT")).isEqualTo("200 " + env.url().getPort());
    // the orchestrator's own environment does not leak into a preview
    assertThat(get(env.url(), "/env/MAVEN_CMD_LINE_ARGS")).isEqualTo("200 <unset>");

    try (var files = Files.list(p.stateDir())) {
      for (Path f : files.toList()) {
        assertThat(Files.readString(f)).doesNotContain("s3cr3t-value-42");
      }
    }
    assertThat(env.labels()).containsEntry(Labels.KEY, key.id()).containsEntry(Labels.REVISION, "aaaa1111");
  }

  @Test
  void applyingTheSameSpecKeepsTheProcessAndANewRevisionReplacesIt() {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    Environment first = p.apply(spec(key, "aaaa1111").build());
    long pid1 = pidOf(p, key);
    Environment again = p.apply(spec(key, "aaaa1111").build());
    assertThat(pidOf(p, key)).isEqualTo(pid1);
    assertThat(again.url()).isEqualTo(first.url());

    Environment second = p.apply(spec(key, "bbbb2222").env("REV", "bbbb2222").build());
    assertThat(second.revision()).isEqualTo("bbbb2222");
    assertThat(pidOf(p, key)).isNotEqualTo(pid1);
    assertThat(ProcessHandle.of(pid1).map(ProcessHandle::isAlive).orElse(false))
        .as("the previous revision serves until the readiness gate accepts the new one").isTrue();
    p.acceptRevision(key, "bbbb2222");
    assertThat(ProcessHandle.of(pid1).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(get(second.url(), "/env/REV")).isEqualTo("200 bbbb2222");
    assertThat(p.list()).extracting(Environment::key).containsExactly(key);
  }

  @Test
  void changedEnvAtTheSameRevisionRestartsTheApp() {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    p.apply(spec(key, "aaaa1111").secret("TOKEN", Secret.of("one")).build());
    long pid1 = pidOf(p, key);
    Environment e = p.apply(spec(key, "aaaa1111").secret("TOKEN", Secret.of("two")).build());
    assertThat(pidOf(p, key)).isNotEqualTo(pid1);
    assertThat(get(e.url(), "/env/TOKEN")).isEqualTo("200 two");
  }

  @Test
  void aNewInstanceReadingTheSameDirectorySeesThePreviewsAndTheirDeath() {
    PreviewKey key = key();
    Environment e = provider().apply(spec(key, "aaaa1111").build());

    LocalEnvironmentProvider restarted = provider();
    assertThat(restarted.find(key)).get().satisfies(found -> {
      assertThat(found.phase()).isEqualTo(Environment.Phase.RUNNING);
      assertThat(found.url()).isEqualTo(e.url());
      assertThat(found.labels()).containsEntry(Labels.REVISION, "aaaa1111");
    });
    assertThat(restarted.list()).extracting(Environment::key).containsExactly(key);

    ProcessHandle.of(pidOf(restarted, key)).orElseThrow().destroyForcibly();
    await().atMost(Duration.ofSeconds(10)).until(() -> restarted.find(key).orElseThrow().phase() == Environment.Phase.FAILED);
    // the next apply repairs it
    Environment repaired = restarted.apply(spec(key, "aaaa1111").build());
    assertThat(repaired.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(get(repaired.url(), "/health")).isEqualTo("200 ok");
  }

  @Test
  void deleteStopsTheWholeProcessTreeAndRemovesTheState() throws IOException {
    LocalEnvironmentProvider p = provider(Duration.ofMillis(200));
    PreviewKey key = key();
    Path pidFile = dir.resolve("grandchild.pid");
    p.apply(EnvironmentSpec.builder(key, "aaaa1111").labels(Labels.ownership(key, "aaaa1111"))
        .command(List.of("sh", "-c", "sleep 300 & echo $! > " + pidFile + "; wait")).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
    long grandchild = Long.parseLong(Files.readString(pidFile).trim());
    long child = pidOf(p, key);
    assertThat(ProcessHandle.of(grandchild).orElseThrow().parent().map(ProcessHandle::pid)).contains(child);

    p.delete(key);

    assertThat(ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(p.find(key)).isEmpty();
    assertThat(p.list()).isEmpty();
    try (var files = Files.list(p.stateDir())) {
      assertThat(files.toList()).isEmpty();
    }
    p.delete(key); // idempotent
    p.delete(PreviewKey.pr("acme/never-made", 9));
  }

  @Test
  void anAppThatIgnoresSigtermIsKilledAfterTheStopTimeout() throws IOException {
    LocalEnvironmentProvider p = LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(Duration.ofMillis(200)).stopTimeout(Duration.ofMillis(300)).build();
    PreviewKey key = key();
    Path pidFile = dir.resolve("stubborn.pid");
    // The ignored SIGTERM is inherited by the sleep: only SIGKILL stops either of them.
    p.apply(EnvironmentSpec.builder(key, "aaaa1111")
        .command(List.of("sh", "-c", "trap '' TERM; sleep 300 & echo $! > " + pidFile + "; wait")).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
    long grandchild = Long.parseLong(Files.readString(pidFile).trim());
    long child = pidOf(p, key);

    p.delete(key);

    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(p.find(key)).isEmpty();
  }

  @Test
  void aRecycledPidIsNeverTakenForOurs() throws IOException {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    p.apply(spec(key, "aaaa1111").build());
    long appPid = pidOf(p, key);
    // Point the state at a live process that is not ours (this JVM), started at another instant.
    ObjectNode state = readState(p, key);
    state.put("pid", ProcessHandle.current().pid());
    state.put("startedAt", "2001-01-01T00:00:00Z");
    writeState(p, key, state);

    assertThat(p.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.FAILED);
    p.delete(key); // must not kill this JVM
    assertThat(ProcessHandle.current().isAlive()).isTrue();
    ProcessHandle.of(appPid).ifPresent(ProcessHandle::destroyForcibly);
  }

  @Test
  void aCrashBetweenWritingTheStateAndStartingIsRepairedByTheNextApply() throws IOException {
    PreviewKey key = key();
    LocalEnvironmentProvider before = provider();
    before.apply(spec(key, "aaaa1111").build());
    long oldPid = pidOf(before, key);
    // What a crash leaves after "record the old process as previous, write the new state" and before the start.
    ObjectNode state = readState(before, key);
    ObjectNode prev = state.putArray("previous").addObject();
    prev.put("pid", oldPid);
    prev.set("startedAt", state.get("startedAt"));
    state.put("pid", 0);
    state.remove("startedAt");
    state.put("revision", "bbbb2222");
    writeState(before, key, state);

    LocalEnvironmentProvider after = provider();
    assertThat(after.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.STARTING);
    Environment e = after.apply(spec(key, "bbbb2222").env("REV", "bbbb2222").build());
    assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(get(e.url(), "/env/REV")).isEqualTo("200 bbbb2222");
    assertThat(ProcessHandle.of(oldPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(readState(after, key).get("previous")).isEmpty();
  }

  @Test
  void suspendStopsTheAppAndResumeStartsItAgain() {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    p.apply(spec(key, "aaaa1111").secret("TOKEN", Secret.of("t0k")).build());
    long pid = pidOf(p, key);
    assertThat(p.supportsSuspend()).isTrue();

    p.suspend(key);
    p.suspend(key);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(p.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.SUSPENDED);

    Environment resumed = p.resume(key);
    assertThat(resumed.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(get(resumed.url(), "/env/TOKEN")).isEqualTo("200 t0k");

    p.suspend(key);
    assertThatThrownBy(() -> provider().resume(key))
        .isInstanceOf(ProviderException.class).hasMessageContaining("[TOKEN]").hasMessageNotContaining("t0k");
  }

  @Test
  void anAppThatExitsAtOnceFailsWithItsLastLogLines() {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    assertThatThrownBy(() -> p.apply(EnvironmentSpec.builder(key, "aaaa1111")
        .command(List.of("sh", "-c", "echo starting; echo 'DATABASE_URL is not set' >&2; exit 3")).build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("exited at once with code 3")
        .hasMessageContaining("DATABASE_URL is not set")
        .hasMessageContaining("starting");
    assertThat(p.find(key).orElseThrow().phase()).isEqualTo(Environment.Phase.FAILED);
    assertThat(p.logs(key, 1)).containsExactly("DATABASE_URL is not set");
  }

  @Test
  void aMissingCommandSaysHowToSetIt() {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    assertThatThrownBy(() -> p.apply(EnvironmentSpec.builder(key, "aaaa1111").build()))
        .isInstanceOf(ProviderException.class).hasMessageContaining("app.command").hasMessageContaining("environment.command");
    assertThatThrownBy(() -> p.apply(EnvironmentSpec.builder(key, "aaaa1111").command(List.of("no-such-binary-xyz")).build()))
        .isInstanceOf(ProviderException.class).hasMessageContaining("\"no-such-binary-xyz\"").hasMessageContaining("app.command");
  }

  @Test
  void logsTailTheAppOutput() {
    LocalEnvironmentProvider p = provider(Duration.ofMillis(200));
    PreviewKey key = key();
    p.apply(EnvironmentSpec.builder(key, "aaaa1111")
        .command(List.of("sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; exec sleep 300")).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> p.logs(key, 2).equals(List.of("line-4", "line-5")));
    assertThat(p.logs(key, 100)).first().asString().startsWith("--- preview: starting revision aaaa1111");
  }

  @Test
  void theFactoryIsFoundByNameAndReportsEveryConfigProblem() {
    EnvironmentProvider.Factory f = ServiceLoader.load(EnvironmentProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(x -> x.name().equals("local")).findFirst().orElseThrow();
    assertThat(f.create(ProviderContext.of(ProviderConfig.of("environment", Map.of("provider", "local",
        "stateDir", dir.resolve("s").toString(), "command", List.of("java", "-version")))))).isInstanceOf(LocalEnvironmentProvider.class);
    assertThatThrownBy(() -> f.create(ProviderContext.of(ProviderConfig.of("environment", Map.of("stopTimeout", "soon", "stateDri", "x")))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.stopTimeout").hasMessageContaining("environment.stateDri: unknown key");
    // the instance comes from the installation, once, not from the section
    Installation sectest = Installation.builder().instance("sectest").build();
    assertThat(((LocalEnvironmentProvider) f.create(ProviderContext.of(ProviderConfig.of("environment",
        Map.of("stateDir", dir.resolve("s").toString())), sectest))).installation()).isSameAs(sectest);
    assertThat(f).isInstanceOf(LocalEnvironmentProvider.Factory.class);
  }

  @Test
  void twoInstancesOnOneStateDirNeverSeeOrDeleteEachOthersPreviews() throws IOException {
    LocalEnvironmentProvider a = provider("team-a");
    LocalEnvironmentProvider b = provider("team-b");
    PreviewKey shared = key();
    PreviewKey onlyA = key();
    PreviewKey onlyB = key();
    Environment aShared = a.apply(spec(shared, "aaaa1111").env("WHO", "a").build());
    a.apply(spec(onlyA, "aaaa1111").build());
    Environment bShared = b.apply(spec(shared, "bbbb2222").env("WHO", "b").build());
    b.apply(spec(onlyB, "bbbb2222").build());

    // each runs its own process for the shared key, and the files record the instance
    assertThat(aShared.url()).isNotEqualTo(bShared.url());
    assertThat(get(aShared.url(), "/env/WHO")).isEqualTo("200 a");
    assertThat(get(bShared.url(), "/env/WHO")).isEqualTo("200 b");
    assertThat(aShared.labels()).containsEntry(Labels.INSTANCE, "team-a");
    assertThat(a.list()).extracting(Environment::key).containsExactlyInAnyOrder(shared, onlyA);
    assertThat(b.list()).extracting(Environment::key).containsExactlyInAnyOrder(shared, onlyB);
    assertThat(a.list()).allSatisfy(e -> assertThat(e.labels()).containsEntry(Labels.INSTANCE, "team-a"));
    assertThat(a.find(onlyB)).isEmpty();
    assertThat(b.find(onlyA)).isEmpty();
    assertThat(a.find(shared).orElseThrow().revision()).isEqualTo("aaaa1111");
    assertThat(b.find(shared).orElseThrow().revision()).isEqualTo("bbbb2222");
    // the default instance sees none of them
    assertThat(provider().list()).isEmpty();

    // a deletes its previews: b's keep running, including its preview of the same key
    a.delete(shared);
    a.delete(onlyB); // not a's: nothing happens
    assertThat(a.find(shared)).isEmpty();
    assertThat(b.find(shared).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(get(bShared.url(), "/env/WHO")).isEqualTo("200 b");
    assertThat(b.find(onlyB).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(b.logs(shared, 100)).isNotEmpty();

    // a restarted provider of instance a still sees only a's
    LocalEnvironmentProvider aRestarted = provider("team-a");
    assertThat(aRestarted.list()).extracting(Environment::key).containsExactly(onlyA);
    assertThat(aRestarted.find(shared)).isEmpty();
  }

  @Test
  void aStateFileWithoutAnInstanceBelongsToNoInstallationAndIsNeverTakenOver() throws IOException {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    p.apply(spec(key, "aaaa1111").build());
    long pid = pidOf(p, key);
    ObjectNode state = readState(p, key);
    state.remove("instance"); // what a file written before instances were recorded looks like
    writeState(p, key, state);

    assertThat(p.list()).isEmpty();
    assertThat(p.find(key)).isEmpty();
    p.delete(key);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isTrue();
    assertThat(Files.exists(stateFile(p, key))).isTrue();
    assertThatThrownBy(() -> p.apply(spec(key, "bbbb2222").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("records instance none").hasMessageContaining("PID " + pid)
        .hasMessageContaining("environment.stateDir");
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
  }

  @Test
  void aStateFileThatRecordsAnotherKeyIsNeverTakenOver() throws IOException {
    LocalEnvironmentProvider p = provider();
    PreviewKey key = key();
    PreviewKey other = PreviewKey.pr("acme/shop", 9999);
    p.apply(spec(key, "aaaa1111").build());
    long pid = pidOf(p, key);
    ObjectNode state = readState(p, key);
    state.put("key", other.id()); // what a second key whose file name collides with this one would find
    writeState(p, key, state);

    assertThat(p.find(key)).isEmpty();
    p.delete(key);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isTrue();
    assertThat(Files.exists(stateFile(p, key))).isTrue();
    assertThatThrownBy(() -> p.apply(spec(key, "bbbb2222").build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("records preview " + other.id()).hasMessageContaining("not " + key.id())
        .hasMessageContaining("collide");
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isTrue();
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
  }

  @Test
  void fileNamesOfOtherInstancesAreDistinctAndSafeOnCaseInsensitiveFileSystems() {
    PreviewKey k = PreviewKey.pr("acme/shop", 7);
    java.util.function.Function<String, String> file = i -> dev.preview.spi.Names.dnsLabel(
        dev.preview.spi.Installation.builder().instance(i).build(), k);
    assertThat(file.apply("default")).as("the default instance keeps its old file names").isEqualTo(dev.preview.spi.Names.dnsLabel(k));
    assertThat(file.apply("sectest")).startsWith("sectest-shop-pr-7-");
    assertThat(file.apply("SecTest")).isLowerCase().isNotEqualTo(file.apply("secTest")).isNotEqualTo(file.apply("sectest"));
  }

  @Test
  void theBuilderReportsEveryInvalidValueAtOnce() {
    assertThatThrownBy(() -> LocalEnvironmentProvider.builder().host(" ").stopTimeout(Duration.ofSeconds(-1))
        .startCheck(Duration.ofSeconds(-2)).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.host").hasMessageContaining("environment.stopTimeout")
        .hasMessageContaining("environment.startCheck");
  }

  private static long pidOf(LocalEnvironmentProvider p, PreviewKey key) {
    try {
      return readState(p, key).get("pid").asLong();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path stateFile(LocalEnvironmentProvider p, PreviewKey key) {
    return p.stateDir().resolve(dev.preview.spi.Names.dnsLabel(p.installation(), key) + ".json");
  }

  private static ObjectNode readState(LocalEnvironmentProvider p, PreviewKey key) throws IOException {
    return (ObjectNode) new ObjectMapper().readTree(stateFile(p, key).toFile());
  }

  private static void writeState(LocalEnvironmentProvider p, PreviewKey key, ObjectNode state) throws IOException {
    new ObjectMapper().writeValue(stateFile(p, key).toFile(), state);
  }
}
