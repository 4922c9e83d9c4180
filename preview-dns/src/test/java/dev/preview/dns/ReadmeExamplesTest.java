package dev.preview.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every {@code yaml} block of the module README builds its DNS provider through the registry: a
 * whole preview.yaml as written, a block marked {@code <!-- fragment -->} after a minimal {@code app}.
 */
class ReadmeExamplesTest {
  @Test
  void everyYamlExampleLoadsAndBuildsItsProvider() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("(<!-- fragment -->\\n)?```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    List<String> built = new ArrayList<>();
    int whole = 0;
    while (m.find()) {
      boolean fragment = m.group(1) != null;
      String yaml = fragment ? "app:\n  image: shop:1\n  hostname: \"pr-{number}.preview.example.com\"\n"
          + "policy: {repositories: [acme/shop]}\n" + m.group(2)
          : m.group(2);
      whole += fragment ? 0 : 1;
      // every ${VAR} is set: base64, so it also does for a TSIG secret
      PreviewConfig config = PreviewConfig.parse(yaml, name -> "c2VjcmV0", "README.md");
      try (ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry())) {
        built.add(providers.dns().orElseThrow().name());
      }
    }
    assertThat(built).containsExactlyInAnyOrder("rfc2136", "cloudflare", "route53", "none");
    assertThat(whole).as("the rfc2136 example is a whole file").isEqualTo(1);
  }
}
