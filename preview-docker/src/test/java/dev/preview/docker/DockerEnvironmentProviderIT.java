package dev.preview.docker;

import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.testkit.EnvironmentProviderKit;
import org.junit.jupiter.api.BeforeEach;

/** The testkit's EnvironmentProvider contract, on the real Docker engine, with a companion service. */
class DockerEnvironmentProviderIT extends EnvironmentProviderKit {

  @BeforeEach
  void engine() {
    TestDocker.engine();
  }

  @Override
  protected EnvironmentProvider createProvider() {
    return TestDocker.provider(TestDocker.cacheService());
  }

  @Override
  protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).image(TestDocker.IMAGE).port(8080).healthPath("/health");
  }
}
