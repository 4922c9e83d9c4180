package dev.preview.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.assembly.ProviderKind;
import dev.preview.core.assembly.ProviderRegistry;
import org.junit.jupiter.api.Test;

class RegistrationTest {
  @Test
  void theFourProvidersAreFoundUnderTheNamesTheCoreAdvertises() {
    assertThat(ProviderRegistry.defaultRegistry().names(ProviderKind.DATABASE))
        .contains("sqlite", "postgres", "mysql", "redis");
    for (String name : new String[] {"sqlite", "postgres", "mysql", "redis"}) {
      assertThat(ProviderRegistry.artifactFor(name)).contains("dev.preview:preview-db");
    }
  }
}
