package dev.preview.cli.arch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.assembly.PreviewConfig;
import dev.preview.server.gateway.GatewaySettings;
import dev.preview.spi.ConfigurationException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Every documented {@code preview.yaml} with a {@code gateway:} section has a valid one, as
 * {@code preview serve} reads it ({@link DocumentedConfigsLoadTest} loads the rest of each file).
 */
class DocumentedGatewaySectionsTest {
  @Test
  void theDocumentedGatewaySectionsAreValid() throws Exception {
    int seen = 0;
    for (Path doc : DocumentedConfigsLoadTest.documents()) {
      for (DocumentedConfigsLoadTest.Block b : DocumentedConfigsLoadTest.blocks(doc)) {
        if (b.fragment() || !(b.yaml().startsWith("gateway:") || b.yaml().contains("\ngateway:"))) {
          continue;
        }
        // secrets from the environment: long enough for a signing key
        PreviewConfig config = PreviewConfig.read(b.yaml(), name -> "placeholder-secret-0123456789abcdef-0123456789", b.where());
        try {
          GatewaySettings.from(config.serverSection("gateway"));
        } catch (ConfigurationException e) {
          throw new AssertionError(b.where() + ": its gateway section does not load:\n" + e.getMessage(), e);
        }
        seen++;
      }
    }
    assertThat(seen).as("documented gateway sections").isPositive();
  }
}
