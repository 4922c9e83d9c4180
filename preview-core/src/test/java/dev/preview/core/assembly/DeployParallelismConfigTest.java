package dev.preview.core.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import org.junit.jupiter.api.Test;

/** Top-level {@code parallelism}: the bound of the orchestrator's deploy pool, explicit in preview.yaml. */
class DeployParallelismConfigTest {
  @Test
  void defaultsToFourAndIsReadFromTheTopLevel() {
    assertThat(PreviewConfig.parse("app: {command: java -jar app.jar}", n -> null, "preview.yaml").parallelism()).isEqualTo(4);
    assertThat(PreviewConfig.parse("parallelism: 12\napp: {command: java -jar app.jar}", n -> null, "preview.yaml").parallelism())
        .isEqualTo(12);
  }

  @Test
  void aBadValueIsReportedWithTheOtherProblems() {
    assertThatThrownBy(() -> PreviewConfig.parse("parallelism: 0\nreconcile: {parallelism: lots}\napp: {command: java -jar app.jar}",
        n -> null, "preview.yaml"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("parallelism: must be a whole number 1-1024")
        .hasMessageContaining("reconcile.parallelism");
  }
}
