package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code --help}, {@code validate} and {@code list} of a local configuration load in the jar, as
 * a user runs it: none of the heavy clients (Fabric8, docker-java, the AWS SDK, OkHttp, JGit, Jetty),
 * no TLS context, fewer classes than a bound. Counting classes, not seconds, so that it holds on a
 * busy machine; {@code StartupHarnessIT} measures the time.
 */
class PreviewJarClassesIT {
  private static final Path JAR = Path.of("target", "preview.jar");
  private static final List<String> HEAVY = List.of("io.fabric8.", "com.github.dockerjava.", "software.amazon.",
      "okhttp3.", "org.eclipse.jgit.", "org.eclipse.jetty.", "sun.security.ssl.SSLContextImpl", "org.flywaydb.");
  /**
   * What building a client loads: docker-java's implementation and its HTTP client, Fabric8's client
   * and its HTTP stack, a TLS context. (The provider classes' own verification loads a few docker-java
   * API types, its exceptions and models: small classes, no client.)
   */
  private static final List<String> CLIENTS = List.of("com.github.dockerjava.core.", "com.github.dockerjava.httpclient5.",
      "org.apache.hc.", "io.fabric8.kubernetes.client.impl.", "io.fabric8.kubernetes.client.okhttp.",
      "io.fabric8.kubernetes.client.vertx.", "io.vertx.", "okhttp3.", "sun.security.ssl.SSLContextImpl");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"--help", "validate", "list", "list -o json"})
  void loadsNoHeavyClient(String command) throws Exception {
    Files.writeString(dir.resolve("preview.yaml"), "app: {command: ['true']}\nenvironment: {provider: local, stateDir: '"
        + dir.resolve("state") + "'}\n");
    List<String> heavy = classesLoaded(command, HEAVY);
    assertThat(heavy).as("heavy classes loaded by %s", command).isEmpty();
  }

  /**
   * {@code validate} of a Docker or Kubernetes configuration checks every key but builds no client:
   * docker-java and Fabric8 are loaded on a provider's first engine or API call, not when it is made.
   */
  @ParameterizedTest
  @ValueSource(strings = {"docker", "kubernetes"})
  void validateOfAnotherProviderBuildsNoClient(String provider) throws Exception {
    Files.writeString(dir.resolve("preview.yaml"), "app: {image: 'registry.example/shop:{sha}', port: 8080}\n"
        + "environment: {provider: " + provider + (provider.equals("kubernetes") ? ", masterUrl: 'https://127.0.0.1:1'" : "")
        + "}\n");
    List<String> heavy = classesLoaded("validate", CLIENTS);
    assertThat(heavy).as("heavy classes loaded by validate of a %s configuration", provider).isEmpty();
  }

  private List<String> classesLoaded(String command, List<String> prefixes) throws Exception {
    Path log = dir.resolve("classes.txt");
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-Xlog:class+load=info:file=" + log, "-jar", JAR.toAbsolutePath().toString()));
    cmd.addAll(List.of(command.split(" ")));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("out.txt").toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = Files.readString(dir.resolve("out.txt"));
    assertThat(p.exitValue()).as(out).isZero();
    List<String> loaded = Files.readAllLines(log).stream().map(l -> l.replaceFirst("^\\[[^]]*]\\[[^]]*]\\[[^]]*] ", ""))
        .map(l -> l.split(" ")[0]).toList();
    assertThat(loaded).as("classes loaded by %s", command).hasSizeBetween(500, 3000);
    // One interface of Fabric8 is loaded when picocli builds the model of `serve` (its leader election
    // field's type, in ServeCommand); nothing of the client itself.
    return loaded.stream().filter(c -> prefixes.stream().anyMatch(c::startsWith))
        .filter(c -> !c.equals("io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock")).toList();
  }
}
