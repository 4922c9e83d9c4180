package dev.preview.core.local;

import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.testkit.EnvironmentProviderKit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/** The local provider passes the {@link EnvironmentProviderKit}. */
class LocalEnvironmentProviderTest extends EnvironmentProviderKit {
  @TempDir Path dir;

  @Override
  protected EnvironmentProvider createProvider() {
    // The kit's app never listens: a short start check keeps apply fast.
    return LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir)
        .startCheck(Duration.ofMillis(100)).stopTimeout(Duration.ofSeconds(5)).build();
  }

  @Override
  protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).command(List.of("sh", "-c", "exec sleep 300"));
  }
}
