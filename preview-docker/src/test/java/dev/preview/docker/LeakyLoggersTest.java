package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The vendor loggers that would write every secret (the container env, the registry auth) must be off. */
class LeakyLoggersTest {
  @Test
  void aVendorLoggerAtDebugStopsTheProviderNamingItAndHowToTurnItDown() {
    Set<String> debug = Set.of("com.github.dockerjava.core.command.AbstrDockerCmd", "org.apache.hc.client5.http.wire");

    assertThatThrownBy(() -> DockerEnvironmentProvider.refuseLeakyLoggers(debug::contains))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("com.github.dockerjava.core.command.AbstrDockerCmd, org.apache.hc.client5.http.wire log at DEBUG")
        .hasMessageContaining("every secret")
        .hasMessageContaining("-Dorg.slf4j.simpleLogger.log.com.github.dockerjava=info");
    assertThatThrownBy(() -> DockerEnvironmentProvider.refuseLeakyLoggers(
        Set.of("org.apache.hc.client5.http.headers")::contains))
        .hasMessageContaining("org.apache.hc.client5.http.headers log at DEBUG");
  }

  @Test
  void atInfoTheRealBindingLetsTheProviderBeBuilt() {
    assertThatCode(() -> DockerEnvironmentProvider.refuseLeakyLoggers(dev.preview.spi.LeakyLoggers::atDebug)).doesNotThrowAnyException();
    assertThatCode(() -> DockerEnvironmentProvider.create(ProviderContext.of(ProviderConfig.of("environment",
        Map.of("host", "unix:///var/run/docker.sock")), dev.preview.spi.Installation.defaults())).close())
        .doesNotThrowAnyException();
  }
}
