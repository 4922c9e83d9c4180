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

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"--help", "validate", "list", "list -o json"})
  void loadsNoHeavyClient(String command) throws Exception {
    Files.writeString(dir.resolve("preview.yaml"), "app: {command: ['true']}\nenvironment: {provider: local, stateDir: '"
        + dir.resolve("state") + "'}\n");
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
    List<String> heavy = loaded.stream().filter(c -> HEAVY.stream().anyMatch(c::startsWith))
        .filter(c -> !c.equals("io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock")).toList();
    assertThat(heavy).as("heavy classes loaded by %s", command).isEmpty();
  }
}
