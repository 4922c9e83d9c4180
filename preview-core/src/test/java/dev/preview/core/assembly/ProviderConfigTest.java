package dev.preview.core.assembly;

import static dev.preview.core.registry.Fixtures.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts of {@link ProviderConfig} that PreviewConfig leans on. */
class ProviderConfigTest {

  @Test
  void aHugeDurationIsAProblemNotACrash() {
    ProviderConfig c = ProviderConfig.of("policy", map("ttl", "9223372036854775807d", "maxAge", "99999999999999999999999s"));

    assertThat(c.duration("ttl", Duration.ZERO)).isEqualTo(Duration.ZERO);
    assertThat(c.duration("maxAge", Duration.ZERO)).isEqualTo(Duration.ZERO);
    assertThat(c.problems()).containsExactly(
        "policy.ttl: is too long a duration, got \"9223372036854775807d\"",
        "policy.maxAge: is too long a duration, got \"99999999999999999999999s\"");
  }

  @Test
  void durationForms() {
    assertThat(ProviderConfig.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(ProviderConfig.parseDuration("30")).isEqualTo(Duration.ofSeconds(30));
    assertThat(ProviderConfig.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(ProviderConfig.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(ProviderConfig.parseDuration("PT1H")).isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> ProviderConfig.parseDuration("1.5h")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void everyProblemOfNestedSectionsAndUnknownKeysIsReportedAtOnce() {
    ProviderConfig c = ProviderConfig.of("environment", map("port", "x", "services", Map.of("redis", map("image", List.of())),
        "typo", 1));
    c.integer("port", 1, 1, 2);
    c.sections("services").get("redis").string("image");

    assertThatThrownBy(c::validate).isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
        .containsExactly(
            "environment.port: must be a whole number, got \"x\"",
            "environment.services.redis.image: must be a single value, not a list",
            "environment.typo: unknown key (known here: port, services)"));
  }
}
