package dev.preview.docker;

import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ProviderContext;

/**
 * Makes {@code environment.provider: docker} work: registered in
 * {@code META-INF/services/dev.preview.spi.EnvironmentProvider$Factory}. Cheap to construct; the
 * docker-java client is built only in {@link #create}.
 */
public final class DockerEnvironmentProviderFactory implements EnvironmentProvider.Factory {
  @Override
  public String name() {
    return DockerEnvironmentProvider.NAME;
  }

  @Override
  public EnvironmentProvider create(ProviderContext context) {
    return DockerEnvironmentProvider.create(context);
  }
}
