package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's time to first output (the first byte on stdout or stderr) and to exit, for {@code --help},
 * {@code validate}, {@code list}, {@code down} and {@code init}, each a new JVM as a user starts it. Off by default (skipped with
 * the reason); the baseline is a jar built at an older commit, measured in the same run, interleaved:
 *
 * <pre>
 * git -C /work/wt/cli worktree add /tmp/preview-base BASE_COMMIT   # or any checkout of the old commit
 * (cd /tmp/preview-base &amp;&amp; mvn -B -q -o -pl preview-cli -am package -DskipTests) &amp;&amp; cp /tmp/preview-base/preview-cli/target/preview.jar /tmp/preview-cli-base.jar
 * mvn -B -o -pl preview-cli -am verify -Dtest=none -Dit.test=StartupHarnessIT -Dpreview.benchmark=true \
 *     -Dpreview.benchmark.baseline=/tmp/preview-cli-base.jar -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * Variants: {@code base} ({@code java -jar} the baseline), {@code jar} ({@code java -jar
 * target/preview.jar}) and {@code launcher} ({@code src/main/dist/preview}: C1 only, serial GC and a
 * CDS archive made first with {@code preview cds-archive}). The baseline has no {@code validate}: its
 * row runs {@code list} on the same file with a typo (what a user had to do to find one).
 * Medians of {@code -Dpreview.benchmark.runs} (default 10) runs; written to {@code target/startup.txt}.
 */
@EnabledIfSystemProperty(named = "preview.benchmark", matches = "true",
    disabledReason = "a benchmark: run with -Dpreview.benchmark=true -Dpreview.benchmark.baseline=OLD.jar")
class StartupHarnessIT {
  @TempDir Path dir;

  record Run(long firstOutputMillis, long exitMillis, String output) {}

  @Test
  void timeToFirstOutput() throws Exception {
    int runs = Integer.getInteger("preview.benchmark.runs", 10);
    Path jar = Path.of("target/preview.jar").toAbsolutePath();
    Path launcherDir = Files.createDirectories(dir.resolve("bin"));
    Files.copy(jar, launcherDir.resolve("preview.jar"));
    Path launcher = launcherDir.resolve("preview");
    Files.copy(Path.of("src/main/dist/preview"), launcher);
    launcher.toFile().setExecutable(true);
    Run cds = run(List.of("sh", launcher.toString(), "cds-archive"));
    assertThat(cds.output()).as(cds.output()).contains("wrote");
    String baseline = System.getProperty("preview.benchmark.baseline");

    Path valid = dir.resolve("preview.yaml");
    Files.writeString(valid, "app: {command: ['true']}\nenvironment: {provider: local, stateDir: '" + dir.resolve("state") + "'}\n");
    Path typo = dir.resolve("typo.yaml");
    Files.writeString(typo, "app: {command: ['true'], helthPath: /health}\nenvironment: {provider: local, stateDir: '"
        + dir.resolve("state") + "'}\n");

    Map<String, List<String>> newArgs = new LinkedHashMap<>();
    newArgs.put("--help", List.of("--help"));
    newArgs.put("validate (a typo)", List.of("validate", "-c", typo.toString()));
    newArgs.put("validate (valid)", List.of("validate", "-c", valid.toString()));
    newArgs.put("list", List.of("list", "-c", valid.toString()));
    // Commands with no baseline row: a removal of an absent preview (what down does on most closes) and init.
    newArgs.put("down (absent)", List.of("down", "-c", valid.toString(), "--pr", "1", "--repo", "acme/shop"));
    newArgs.put("init", List.of("init", "--dir", dir.resolve("init").toString(), "--environment", "docker", "--force"));
    Map<String, List<String>> baseArgs = Map.of("--help", List.of("--help"),
        "validate (a typo)", List.of("list", "-c", typo.toString()),
        "list", List.of("list", "-c", valid.toString()));

    Map<String, Map<String, List<Run>>> results = new LinkedHashMap<>();
    for (int i = 0; i < runs; i++) {
      for (var e : newArgs.entrySet()) {
        if (baseline != null && baseArgs.containsKey(e.getKey())) {
          add(results, e.getKey(), "base", run(java(Path.of(baseline), baseArgs.get(e.getKey()))));
        }
        add(results, e.getKey(), "jar", run(java(jar, e.getValue())));
        List<String> l = new ArrayList<>(List.of("sh", launcher.toString()));
        l.addAll(e.getValue());
        add(results, e.getKey(), "launcher", run(l));
      }
    }
    assertThat(results.get("validate (a typo)").get("jar").get(0).output()).contains("app.helthPath: unknown key");
    assertThat(results.get("list").get("launcher").get(0).output()).contains("no previews");
    assertThat(results.get("down (absent)").get("jar").get(0).output()).contains("acme/shop#1");
    assertThat(results.get("init").get("launcher").get(0).output()).contains("preview.yaml");

    StringBuilder report = new StringBuilder();
    report.append(String.format(Locale.ROOT, "preview CLI start-up: median of %d runs, ms (first output / exit); %d cores%n",
        runs, Runtime.getRuntime().availableProcessors()));
    report.append(String.format(Locale.ROOT, "%-18s %-14s %-14s %-14s %-10s %-10s%n", "command", "base", "jar", "launcher",
        "jar/base", "launch/base"));
    for (var e : results.entrySet()) {
      Map<String, List<Run>> byVariant = e.getValue();
      long base = byVariant.containsKey("base") ? median(byVariant.get("base"), true) : -1;
      long j = median(byVariant.get("jar"), true);
      long l = median(byVariant.get("launcher"), true);
      report.append(String.format(Locale.ROOT, "%-18s %-14s %-14s %-14s %-10s %-10s%n", e.getKey(),
          base < 0 ? "-" : base + " / " + median(byVariant.get("base"), false),
          j + " / " + median(byVariant.get("jar"), false), l + " / " + median(byVariant.get("launcher"), false),
          base < 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) j / base),
          base < 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) l / base)));
    }
    report.append("load average at the end: ").append(Files.readString(Path.of("/proc/loadavg")).trim()).append('\n');
    System.out.print(report);
    Files.writeString(Path.of("target/startup.txt"), report.toString());
  }

  private static void add(Map<String, Map<String, List<Run>>> results, String command, String variant, Run run) {
    results.computeIfAbsent(command, k -> new LinkedHashMap<>()).computeIfAbsent(variant, k -> new ArrayList<>()).add(run);
  }

  private static List<String> java(Path jar, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar.toString()));
    cmd.addAll(args);
    return cmd;
  }

  private Run run(List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("GITHUB_") || k.startsWith("CI_"));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    long t0 = System.nanoTime();
    Process p = pb.start();
    p.getOutputStream().close();
    try (InputStream in = p.getInputStream()) {
      int first = in.read();
      long firstAt = System.nanoTime();
      byte[] rest = in.readAllBytes();
      p.waitFor();
      long exitAt = System.nanoTime();
      String out = (first < 0 ? "" : String.valueOf((char) first)) + new String(rest, StandardCharsets.UTF_8);
      return new Run((firstAt - t0) / 1_000_000, (exitAt - t0) / 1_000_000, out);
    }
  }

  private static long median(List<Run> runs, boolean first) {
    List<Long> v = new ArrayList<>(runs.stream().map(r -> first ? r.firstOutputMillis() : r.exitMillis()).toList());
    v.sort(null);
    int n = v.size();
    return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
  }
}
