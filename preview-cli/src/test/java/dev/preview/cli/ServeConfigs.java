package dev.preview.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code preview.yaml} the {@code preview serve} tests start from: the {@code local} provider under
 * {@code dir}, GitHub webhooks signed with {@code s3cret}, and a GitHub API nobody answers.
 */
final class ServeConfigs {
  private ServeConfigs() {}

  /**
   * Writes {@code dir/preview.yaml}.
   *
   * @param appLines more lines of the {@code app} section (without their indentation)
   * @param topLevel more lines at the end of the file, as they are
   */
  static Path write(Path dir, List<String> appLines, String... topLevel) throws Exception {
    List<String> lines = new ArrayList<>(List.of("repository: acme/shop", "app:", "  command: ['true']"));
    appLines.forEach(l -> lines.add("  " + l));
    lines.add(CliRun.localEnvironment(dir));
    lines.addAll(List.of(
        "scm:",
        "  provider: github",
        "  token: ghp_test",
        "  webhookSecret: s3cret",
        "  baseUrl: http://127.0.0.1:9/api/v3"));
    if (appLines.stream().anyMatch(l -> l.startsWith("hostname:")) && java.util.Arrays.stream(topLevel).noneMatch(l -> l.startsWith("policy:"))) {
      lines.add("policy: {repositories: [acme/shop]}"); // a pr-{number} hostname needs the one repository pinned
    }
    lines.addAll(List.of(topLevel));
    Path f = dir.resolve("preview.yaml");
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }
}
