package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import org.junit.jupiter.api.Test;

/** Fabric8's HTTP logging interceptor at TRACE would write the API token and every Secret: it must be off. */
class KubernetesLeakyLoggersTest {
  @Test
  void theInterceptorAtTraceStopsTheProviderNamingItAndHowToTurnItDown() throws Exception {
    for (String name : KubernetesEnvironmentProvider.LEAKY_LOGGERS) {
      assertThat(Class.forName(name)).as("a logger of a real Fabric8 class (renamed by an upgrade?)").isNotNull();
    }
    assertThatThrownBy(() -> KubernetesEnvironmentProvider.refuseLeakyLoggers(name -> true))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("io.fabric8.kubernetes.client.http.HttpLoggingInterceptor")
        .hasMessageContaining("Secret manifest")
        .hasMessageContaining("-Dorg.slf4j.simpleLogger.log.io.fabric8.kubernetes.client=info");
  }

  @Test
  void atInfoTheProviderIsBuilt() {
    assertThatCode(() -> KubernetesEnvironmentProvider.refuseLeakyLoggers(dev.preview.spi.LeakyLoggers::atDebug))
        .doesNotThrowAnyException();
  }
}
