package dev.preview.examples.sample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The sample app's "build" ({@code app.build} of {@code preview demo}): run in the PR's checkout,
 * it writes {@code build.txt} = {@code built <PREVIEW_REVISION> greeting=<first line of greeting.txt>},
 * which {@link SampleApp} then shows. Only the JDK; the build gets no secret and no database.
 */
public final class SampleBuild {
  /** The file it writes in its working directory. */
  public static final String OUTPUT = "build.txt";

  private SampleBuild() {}

  public static void main(String[] args) throws IOException {
    System.out.println(write(Path.of(""), System.getenv().getOrDefault("PREVIEW_REVISION", "unknown")));
  }

  /** Writes {@code build.txt} in {@code dir}; returns what it wrote. */
  static String write(Path dir, String revision) throws IOException {
    Path greeting = dir.resolve(SampleApp.GREETING_FILE);
    String first = Files.isRegularFile(greeting)
        ? Files.readString(greeting, StandardCharsets.UTF_8).strip().lines().findFirst().orElse("") : "(none)";
    String text = "built " + revision + " greeting=" + first;
    Files.writeString(dir.resolve(OUTPUT), text + "\n", StandardCharsets.UTF_8);
    return text;
  }
}
