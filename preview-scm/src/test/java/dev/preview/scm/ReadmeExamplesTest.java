package dev.preview.scm;

import static dev.preview.scm.ScmFactoriesTest.factory;
import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderSection;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code yaml} block of this module's README loads: a whole preview.yaml parses without a
 * problem, a {@code <!-- fragment -->} does once completed with an {@code app}, and the
 * {@code scm} section of each builds the notifier, the pull request source and the webhook source.
 */
class ReadmeExamplesTest {
  static final String APP_KEY_PATH = "/etc/preview/github-app.pem";

  record Block(int line, String yaml, boolean fragment) {}

  static List<Block> yamlBlocks(Path markdown) throws Exception {
    List<String> lines = Files.readAllLines(markdown, StandardCharsets.UTF_8);
    List<Block> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals("```yaml")) {
        boolean fragment = i > 0 && lines.get(i - 1).strip().equals("<!-- fragment -->");
        StringBuilder yaml = new StringBuilder();
        int j = i + 1;
        for (; !lines.get(j).strip().equals("```"); j++) {
          yaml.append(lines.get(j)).append('\n');
        }
        out.add(new Block(i + 1, yaml.toString(), fragment));
        i = j;
      }
    }
    return out;
  }

  @Test
  void everyYamlBlockOfTheReadmeLoads(@TempDir Path dir) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    Path pem = dir.resolve("app.pem");
    Files.writeString(pem, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(g.generateKeyPair().getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);

    List<Block> blocks = yamlBlocks(Path.of("README.md"));
    assertThat(blocks).hasSizeGreaterThanOrEqualTo(3);
    assertThat(blocks).anyMatch(b -> !b.fragment());
    for (Block b : blocks) {
      String yaml = b.yaml().replace(APP_KEY_PATH, pem.toString());
      if (b.fragment()) {
        // A fragment shows only the scm section: completed with the one key a preview.yaml requires.
        assertThat(yaml).as("README.md line %d", b.line()).doesNotContain("\napp:").startsWith("scm:");
        yaml = "app:\n  image: ghcr.io/acme/shop:1\n" + yaml;
      }
      PreviewConfig config = PreviewConfig.parse(yaml, name -> "value-of-" + name, "README.md line " + b.line());
      ProviderSection scm = config.scm();
      assertThat(scm.provider()).as("README.md line %d", b.line()).isIn("github", "gitlab");
      assertThat(factory(ScmNotifier.Factory.class, scm.provider(), ScmNotifier.Factory::name)
          .create(ProviderContext.of(scm.config())).name()).isEqualTo(scm.provider());
      assertThat(factory(PullRequestSource.Factory.class, scm.provider(), PullRequestSource.Factory::name)
          .create(ProviderContext.of(scm.config())).name()).isEqualTo(scm.provider());
      assertThat(factory(WebhookSource.Factory.class, scm.provider(), WebhookSource.Factory::name)
          .create(ProviderContext.of(scm.config())).name()).isEqualTo(scm.provider());
    }
  }
}
