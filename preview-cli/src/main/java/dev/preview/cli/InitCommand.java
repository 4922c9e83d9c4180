package dev.preview.cli;

import dev.preview.spi.ConfigurationException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code preview init}: writes a commented {@code preview.yaml} for the chosen environment provider
 * and SCM, and the CI file that runs {@code preview ci} on every pull request event. Never overwrites
 * a file unless {@code --force}; writes nothing when any target exists.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = {"Write a commented preview.yaml for the provider chosen, and the CI file that runs preview ci:",
        "github: .github/workflows/preview.yml; gitlab: .gitlab/preview.gitlab-ci.yml (include it from .gitlab-ci.yml).",
        "Existing files are left alone (nothing is written) unless --force."})
final class InitCommand implements Callable<Integer> {
  enum Environment { local, docker, kubernetes }

  enum Scm { github, gitlab }

  @ParentCommand PreviewCli cli;

  @Option(names = "--environment", defaultValue = "local", paramLabel = "PROVIDER",
      description = "local, docker or kubernetes (default: ${DEFAULT-VALUE})")
  Environment environment;

  @Option(names = "--scm", defaultValue = "github", paramLabel = "SCM", description = "github or gitlab (default: ${DEFAULT-VALUE})")
  Scm scm;

  @Option(names = "--repo", paramLabel = "OWNER/NAME", defaultValue = "acme/shop",
      description = "the repository written in the file (default: ${DEFAULT-VALUE})")
  String repo;

  @Option(names = "--dir", defaultValue = ".", paramLabel = "DIR", description = "where to write (default: the current directory)")
  Path dir;

  @Option(names = "--no-ci", negatable = true, defaultValue = "true", description = "also write the CI file (default: yes)")
  boolean ci;

  @Option(names = "--force", description = "overwrite existing files")
  boolean force;

  @Override
  public Integer call() {
    if (!repo.matches("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")) {
      throw new ConfigurationException("--repo: must be owner/name (GitLab: group/sub/name), got \"" + repo + "\"");
    }
    List<Path> targets = new ArrayList<>(List.of(dir.resolve("preview.yaml")));
    if (ci) {
      targets.add(dir.resolve(ciFile(scm)));
    }
    List<Path> existing = targets.stream().filter(Files::exists).toList();
    if (!existing.isEmpty() && !force) {
      cli.errPrintln("preview init: " + existing.stream().map(Path::toString).reduce((a, b) -> a + ", " + b).orElseThrow()
          + " already exist" + (existing.size() == 1 ? "s" : "") + "; nothing written (--force overwrites)");
      return PreviewCli.USAGE;
    }
    write(targets.get(0), config(environment, scm, repo));
    if (ci) {
      write(targets.get(1), resource(scm == Scm.github ? "github-workflow.yml" : "gitlab-ci.yml"));
    }
    for (Path t : targets) {
      cli.outPrintln("wrote " + t);
    }
    cli.outPrintln("next: preview validate -c " + targets.get(0)
        + (scm == Scm.gitlab && ci ? "; add `include: {local: " + ciFile(scm) + "}` to your .gitlab-ci.yml" : ""));
    return PreviewCli.OK;
  }

  static String ciFile(Scm scm) {
    return scm == Scm.github ? ".github/workflows/preview.yml" : ".gitlab/preview.gitlab-ci.yml";
  }

  /** The commented {@code preview.yaml} of a provider and SCM. */
  static String config(Environment environment, Scm scm, String repo) {
    return resource("preview-" + environment.name().toLowerCase(Locale.ROOT) + ".yaml")
        .replace("{{repo}}", repo)
        .replace("{{scm}}", resource("scm-" + scm.name() + ".yaml"));
  }

  static String resource(String name) {
    try (InputStream in = InitCommand.class.getResourceAsStream("init/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource init/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path file, String text) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigurationException(file + ": cannot be written: " + e.getMessage());
    }
  }
}
