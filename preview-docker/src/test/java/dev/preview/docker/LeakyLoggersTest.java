package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The vendor loggers that would write every secret (the container env, the registry auth) must be off. */
class LeakyLoggersTest {
  /** A logger that answers isDebugEnabled as configured, for the names in {@code debug}. */
  private static Logger logger(String name, Set<String> debug) {
    return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "isDebugEnabled", "isTraceEnabled" -> debug.contains(name);
          case "getName" -> name;
          default -> method.getReturnType() == boolean.class ? false : null;
        });
  }

  @Test
  void aVendorLoggerAtDebugStopsTheProviderNamingItAndHowToTurnItDown() {
    Set<String> debug = Set.of("com.github.dockerjava.core.command.AbstrDockerCmd", "org.apache.hc.client5.http.wire");

    assertThatThrownBy(() -> DockerEnvironmentProvider.refuseLeakyLoggers(n -> logger(n, debug)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("com.github.dockerjava.core.command.AbstrDockerCmd, org.apache.hc.client5.http.wire log at DEBUG")
        .hasMessageContaining("every secret")
        .hasMessageContaining("-Dorg.slf4j.simpleLogger.log.com.github.dockerjava=info");
    assertThatThrownBy(() -> DockerEnvironmentProvider.refuseLeakyLoggers(
        n -> logger(n, Set.of("org.apache.hc.client5.http.headers"))))
        .hasMessageContaining("org.apache.hc.client5.http.headers log at DEBUG");
  }

  @Test
  void atInfoTheRealBindingLetsTheProviderBeBuilt() {
    assertThatCode(() -> DockerEnvironmentProvider.refuseLeakyLoggers(LoggerFactory::getLogger)).doesNotThrowAnyException();
    assertThatCode(() -> DockerEnvironmentProvider.create(ProviderContext.of(ProviderConfig.of("environment",
        Map.of("host", "unix:///var/run/docker.sock")), dev.preview.spi.Installation.defaults())).close())
        .doesNotThrowAnyException();
  }
}
