package dev.preview.core.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile PR code on the local provider: state files that reveal nothing, and one uid per preview. */
class LocalIsolationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private final List<Runnable> cleanup = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    cleanup.forEach(Runnable::run);
  }

  private LocalEnvironmentProvider provider(String state, String user) {
    LocalEnvironmentProvider.Builder b = LocalEnvironmentProvider.builder().stateDir(dir.resolve(state)).workDir(dir)
        .startCheck(Duration.ofMillis(300)).stopTimeout(Duration.ofSeconds(5));
    if (user != null) {
      b.user(user).uids("2000100-2000199");
    }
    return b.build();
  }

  private EnvironmentSpec.Builder spec(PreviewKey key, String script) {
    return EnvironmentSpec.builder(key, "aaaa1111").command(List.of("/bin/sh", "-c", script))
        .labels(Labels.ownership(key, "aaaa1111"));
  }

  private static JsonNode state(LocalEnvironmentProvider p, PreviewKey key) throws IOException {
    try (var files = Files.list(p.stateDir())) {
      for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
        JsonNode n = JSON.readTree(f.toFile());
        if (key.id().equals(n.path("key").asText())) {
          return n;
        }
      }
    }
    throw new AssertionError("no state file of " + key);
  }

  private static int uidOf(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("Uid:")) {
        return Integer.parseInt(line.split("\\s+")[1]);
      }
    }
    throw new AssertionError("no Uid in /proc/" + pid + "/status");
  }

  @Test
  void theStateFileHoldsNothingThatDependsOnASecretsValue() throws IOException {
    PreviewKey key = PreviewKey.pr("acme/shop", 7);
    LocalEnvironmentProvider one = provider("one", null);
    LocalEnvironmentProvider two = provider("two", null);
    cleanup.add(() -> one.delete(key));
    cleanup.add(() -> two.delete(key));

    one.apply(spec(key, "exec sleep 300").secret("STRIPE_KEY", Secret.of("sk_live_guess_me_1")).build());
    two.apply(spec(key, "exec sleep 300").secret("STRIPE_KEY", Secret.of("sk_live_other_2")).build());

    JsonNode a = state(one, key);
    JsonNode b = state(two, key);
    // a reader who guesses a value cannot confirm it: the files do not differ with the value
    assertThat(a.path("fingerprint").asText()).isNotEmpty().isEqualTo(b.path("fingerprint").asText());
    assertThat(a.has("salt")).isFalse();
    assertThat(a.path("secretNames").toString()).isEqualTo("[\"STRIPE_KEY\"]");
    assertThat(a.toString()).doesNotContain("sk_live_guess_me_1");
  }

  @Test
  void aChangedSecretStillRestartsTheAppThoughTheFileDoesNotKnowIt() throws IOException {
    PreviewKey key = PreviewKey.pr("acme/shop", 8);
    LocalEnvironmentProvider p = provider("state", null);
    cleanup.add(() -> p.delete(key));

    p.apply(spec(key, "exec sleep 300").secret("TOKEN", Secret.of("first-value")).build());
    long first = state(p, key).path("pid").asLong();
    p.apply(spec(key, "exec sleep 300").secret("TOKEN", Secret.of("first-value")).build());
    assertThat(state(p, key).path("pid").asLong()).as("same spec: same process").isEqualTo(first);
    p.apply(spec(key, "exec sleep 300").secret("TOKEN", Secret.of("second-value")).build());
    assertThat(state(p, key).path("pid").asLong()).as("new secret: restarted").isNotEqualTo(first);
  }

  @Test
  void asRootEachPreviewRunsAsItsOwnUidAndCannotReadAnothersEnviron() throws Exception {
    assumeTrue(LocalEnvironmentProvider.currentUid() == 0, "runs as root only (the CI and this machine do)");
    assumeTrue(Files.isExecutable(Path.of(LocalEnvironmentProvider.SETPRIV)), "needs util-linux's setpriv");
    LocalEnvironmentProvider p = provider("state", "auto");
    PreviewKey a = PreviewKey.pr("acme/shop", 1);
    PreviewKey b = PreviewKey.pr("acme/shop", 2);
    cleanup.add(() -> p.delete(a));
    cleanup.add(() -> p.delete(b));

    p.apply(spec(b, "exec sleep 300").secret("B_SECRET", Secret.of("b-secret-value-9")).build());
    long bPid = state(p, b).path("pid").asLong();
    // sanity: the secret is in B's environ, so a read that succeeded would show it
    assertThat(new String(Files.readAllBytes(Path.of("/proc/" + bPid + "/environ")))).contains("b-secret-value-9");

    p.apply(spec(a, "cat /proc/$TARGET/environ; echo \"exit=$?\"; exec sleep 300").env("TARGET", Long.toString(bPid))
        .build());
    long aPid = state(p, a).path("pid").asLong();
    Path aLog = Path.of(state(p, a).path("logFile").asText());
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(aLog).contains("exit="));

    String log = Files.readString(aLog);
    assertThat(log).contains("Permission denied").contains("exit=1").doesNotContain("b-secret-value-9");
    assertThat(uidOf(aPid)).isBetween(2000100, 2000199).isNotEqualTo(uidOf(bPid));
    assertThat(uidOf(bPid)).isBetween(2000100, 2000199);
    assertThat(state(p, a).path("uid").asInt()).isEqualTo(uidOf(aPid));
    // the state directory (and its logs) stays the server's
    assertThat(Files.getAttribute(p.stateDir(), "unix:mode")).isEqualTo(040700);

    // a re-apply with another command restarts B under the same uid
    int bUid = uidOf(bPid);
    p.apply(spec(b, "exec sleep 301").secret("B_SECRET", Secret.of("b-secret-value-9")).build());
    long newB = state(p, b).path("pid").asLong();
    assertThat(newB).isNotEqualTo(bPid);
    assertThat(uidOf(newB)).isEqualTo(bUid);
  }

  /**
   * {@code app.build} is the PR's code too: with {@code environment.user} it runs as the uid the
   * preview's app then gets, in a checkout handed to that uid, never as root.
   */
  @Test
  void asRootAPrsBuildRunsAsThePreviewsOwnUidTheOneItsAppGets() throws Exception {
    assumeTrue(LocalEnvironmentProvider.currentUid() == 0, "runs as root only (the CI and this machine do)");
    assumeTrue(Files.isExecutable(Path.of(LocalEnvironmentProvider.SETPRIV)), "needs util-linux's setpriv");
    LocalEnvironmentProvider p = provider("state", "auto");
    PreviewKey key = PreviewKey.pr("acme/shop", 3);
    cleanup.add(() -> p.delete(key));
    Path checkout = Files.createDirectories(dir.resolve("checkout"));
    Files.writeString(checkout.resolve("pom.xml"), "<project/>");

    List<String> argv = p.buildCommand(key, checkout, List.of("/bin/sh", "-c", "id -u > built-by; cat /proc/1/environ"));
    Process build = new ProcessBuilder(argv).directory(checkout.toFile()).redirectErrorStream(true).start();
    String out = new String(build.getInputStream().readAllBytes());
    assertThat(build.waitFor()).isNotZero(); // it cannot read another process's environ
    assertThat(out).contains("Permission denied");
    int buildUid = Integer.parseInt(Files.readString(checkout.resolve("built-by")).trim());
    assertThat(buildUid).isBetween(2000100, 2000199);
    assertThat(Files.getAttribute(checkout.resolve("pom.xml"), "unix:uid")).as("the checkout is the preview's")
        .isEqualTo(buildUid);

    p.apply(spec(key, "exec sleep 300").build());
    assertThat(uidOf(state(p, key).path("pid").asLong())).as("the app runs as the uid its build ran as")
        .isEqualTo(buildUid);
    assertThat(provider("other", null).buildCommand(key, checkout, List.of("make")))
        .as("without environment.user the command is run as it is").containsExactly("make");
  }

  /**
   * A fork PR's checkout is anyone's code: as root without {@code environment.user} the provider
   * refuses to run it (nothing is started, no state is written); with {@code auto} it runs under the
   * preview's uid; a same-repository PR's checkout and a fork without a checkout (the admin's command)
   * still start.
   */
  @Test
  void asRootAForksCheckoutRunsOnlyUnderItsOwnUid() throws Exception {
    assumeTrue(LocalEnvironmentProvider.currentUid() == 0, "runs as root only (the CI and this machine do)");
    assumeTrue(Files.isExecutable(Path.of(LocalEnvironmentProvider.SETPRIV)), "needs util-linux's setpriv");
    Path checkout = Files.createDirectories(dir.resolve("fork-checkout"));
    PreviewKey key = PreviewKey.pr("acme/shop", 6);
    LocalEnvironmentProvider plain = provider("plain", null);
    cleanup.add(() -> plain.delete(key));

    assertThatThrownBy(() -> plain.apply(spec(key, "exec sleep 300").buildContext(checkout).fromFork(true).build()))
        .isInstanceOf(dev.preview.spi.ProviderException.class)
        .hasMessageContaining("fork PR").hasMessageContaining("as root").hasMessageContaining("environment.user: auto");
    assertThat(plain.find(key)).as("nothing started").isEmpty();
    try (var files = Files.list(plain.stateDir())) {
      assertThat(files.filter(f -> f.toString().endsWith(".json")).toList()).as("no state written").isEmpty();
    } catch (java.nio.file.NoSuchFileException e) {
      // not even the directory
    }

    plain.apply(spec(key, "exec sleep 300").buildContext(checkout).build());
    assertThat(uidOf(state(plain, key).path("pid").asLong())).as("a same-repository PR: the server's uid").isZero();
    plain.delete(key);
    plain.apply(spec(key, "exec sleep 300").fromFork(true).build());
    assertThat(uidOf(state(plain, key).path("pid").asLong())).as("a fork without a checkout runs the admin's command")
        .isZero();

    LocalEnvironmentProvider isolated = provider("isolated", "auto");
    PreviewKey other = PreviewKey.pr("acme/shop", 7);
    cleanup.add(() -> isolated.delete(other));
    isolated.apply(spec(other, "exec sleep 300").buildContext(checkout).fromFork(true).build());
    assertThat(uidOf(state(isolated, other).path("pid").asLong())).isBetween(2000100, 2000199);
  }

  @Test
  void badUserSettingsAreReportedTogether() {
    assertThatThrownBy(() -> LocalEnvironmentProvider.builder().stateDir(dir).user("root").uids("5-1").build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.uids: must be a range LOW-HIGH")
        .satisfies(e -> assertThat(((ConfigurationException) e).problems()).hasSize(1));
    assertThatThrownBy(() -> LocalEnvironmentProvider.builder().stateDir(dir).user("0").build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.user: must be auto (one uid per preview) or a uid other than 0");
  }
}
