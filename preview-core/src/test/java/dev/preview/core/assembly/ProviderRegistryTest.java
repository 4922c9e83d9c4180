package dev.preview.core.assembly;

import dev.preview.spi.Installation;

import static dev.preview.core.registry.Fixtures.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.registry.Fixtures;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ProviderNotFoundException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Iterator;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ProviderRegistryTest {
  private static URLClassLoader fixtures;

  /** Sees {@code registry-fixtures/META-INF/services} on top of the test class path, for these tests only. */
  @BeforeAll
  static void loader() {
    URL dir = ProviderRegistryTest.class.getClassLoader().getResource("registry-fixtures/");
    fixtures = new URLClassLoader(new URL[] {dir}, ProviderRegistryTest.class.getClassLoader());
  }

  @AfterAll
  static void close() throws Exception {
    fixtures.close();
  }

  private static ProviderSection env(String provider, Map<String, Object> values) {
    return ProviderSection.of(ProviderKind.ENVIRONMENT, provider, values);
  }

  @Test
  void theFixtureReallyHoldsRegistrationsThatBreakAPlainServiceLoader() {
    Iterator<EnvironmentProvider.Factory> it = ServiceLoader.load(EnvironmentProvider.Factory.class, fixtures).iterator();
    assertThatThrownBy(() -> {
      while (it.hasNext()) {
        it.next();
      }
    }).isInstanceOf(ServiceConfigurationError.class);
  }

  @Test
  void brokenRegistrationsAreSkippedAndTheOthersStillLoad() {
    ProviderRegistry registry = ProviderRegistry.load(fixtures);

    assertThat(registry.names(ProviderKind.ENVIRONMENT)).contains("test-env", "twin").doesNotContain("exploding");
    assertThat(registry.names(ProviderKind.DATABASE)).contains("test-db");
    assertThat(registry.names(ProviderKind.DNS)).contains("test-dns");
    assertThat(registry.names(ProviderKind.SCM)).contains("test-scm");
    assertThat(registry.names(ProviderKind.PULL_REQUESTS)).contains("test-scm");
    assertThat(registry.environment(env("test-env", map("port", 9000)), Installation.defaults())).isInstanceOf(Fixtures.Env.class);
  }

  @Test
  void discoveryBuildsNoProviderAndCreationBuildsOnlyTheSelectedOne() {
    int before = Fixtures.CREATED.get();
    ProviderRegistry registry = ProviderRegistry.load(fixtures);
    assertThat(Fixtures.CREATED.get()).isEqualTo(before);

    Fixtures.Env e = (Fixtures.Env) registry.environment(env("test-env", map("port", 9000, "greeting", "hi")), Installation.defaults());

    assertThat(Fixtures.CREATED.get()).isEqualTo(before + 1);
    assertThat(e.port).isEqualTo(9000);
    assertThat(e.greeting).isEqualTo("hi");
  }

  @Test
  void twoFactoriesWithOneNameUseTheFirstByClassNameWhateverTheFileOrder() {
    ProviderRegistry registry = ProviderRegistry.load(fixtures);

    Fixtures.Env e = (Fixtures.Env) registry.environment(env("twin", Map.of()), Installation.defaults());

    // The services file lists TwinB before TwinA.
    assertThat(e.factoryClass).isEqualTo(Fixtures.TwinA.class.getName());
  }

  @Test
  void anUnknownNameOfOursNamesTheArtifactToAdd() {
    ProviderRegistry registry = ProviderRegistry.load(fixtures);

    assertThatThrownBy(() -> registry.environment(env("docker", Map.of()), Installation.defaults()))
        .isInstanceOfSatisfying(ProviderNotFoundException.class, e -> {
          assertThat(e.kind()).isEqualTo("environment");
          assertThat(e.requested()).isEqualTo("docker");
          assertThat(e.available()).contains("test-env", "twin");
        })
        .hasMessageContaining("environment provider \"docker\" not found")
        .hasMessageContaining("test-env")
        .hasMessageContaining("dev.preview:preview-docker");
    assertThatThrownBy(() -> registry.dns(ProviderSection.of(ProviderKind.DNS, "route53", Map.of()), Installation.defaults()))
        .hasMessageContaining("dev.preview:preview-dns");
    assertThatThrownBy(() -> registry.database(ProviderSection.of(ProviderKind.DATABASE, "postgres", Map.of()), Installation.defaults()))
        .hasMessageContaining("dev.preview:preview-db");
    assertThatThrownBy(() -> registry.notifier(ProviderSection.of(ProviderKind.SCM, "gitlab", Map.of()), Installation.defaults()))
        .hasMessageContaining("dev.preview:preview-scm");
    assertThatThrownBy(() -> registry.environment(env("kubernetes", Map.of()), Installation.defaults()))
        .hasMessageContaining("dev.preview:preview-k8s");
  }

  @Test
  void anUnknownNameOfNobodyPointsAtTheSpellingAndTheServicesFile() {
    ProviderRegistry registry = ProviderRegistry.empty();

    assertThatThrownBy(() -> registry.environment(env("dokcer", Map.of()), Installation.defaults()))
        .isInstanceOf(ProviderNotFoundException.class)
        .hasMessageContaining("Found on the classpath: none")
        .hasMessageContaining("environment.provider")
        .hasMessageContaining("META-INF/services/dev.preview.spi.EnvironmentProvider$Factory");
  }

  @Test
  void aFactoryRegisteredInCodeWinsOverADiscoveredOneOfTheSameName() {
    Fixtures.TestEnv mine = new Fixtures.TestEnv("twin") {};
    ProviderRegistry registry = ProviderRegistry.load(fixtures).withEnvironment(mine);

    Fixtures.Env e = (Fixtures.Env) registry.environment(env("twin", Map.of()), Installation.defaults());

    assertThat(e.factoryClass).isEqualTo(mine.getClass().getName());
    assertThat(ProviderRegistry.load(fixtures).names(ProviderKind.ENVIRONMENT))
        .as("with* returns a new registry").contains("twin");
  }

  @Test
  void everyKindCanBeRegisteredInCode() {
    ProviderRegistry registry = ProviderRegistry.empty()
        .withEnvironment(new Fixtures.TestEnv())
        .withDatabase(new Fixtures.TestDb())
        .withDns(new Fixtures.TestDns())
        .withNotifier(new Fixtures.TestScm())
        .withPullRequests(new Fixtures.TestPrs());

    assertThat(registry.database(ProviderSection.of(ProviderKind.DATABASE, "test-db", map("baseline", "b.db")), Installation.defaults()).name())
        .isEqualTo("test-db");
    assertThat(registry.dns(ProviderSection.of(ProviderKind.DNS, "test-dns", map("zone", "z")), Installation.defaults()).name()).isEqualTo("test-dns");
    assertThat(registry.notifier(ProviderSection.of(ProviderKind.SCM, "test-scm", map("token", "t")), Installation.defaults()).name()).isEqualTo("test-scm");
    assertThat(registry.pullRequests(ProviderSection.of(ProviderKind.PULL_REQUESTS, "test-scm", map("token", "t")), Installation.defaults()).name())
        .isEqualTo("test-scm");
    assertThat(ProviderRegistry.empty().names(ProviderKind.DNS)).isEmpty();
  }

  @Test
  void theProvidersOwnProblemsComeWithTheirPathsAndProviderIsNotAnUnknownKey() {
    ProviderRegistry registry = ProviderRegistry.empty().withEnvironment(new Fixtures.TestEnv());

    assertThatThrownBy(() -> registry.environment(env("test-env", map("provider", "test-env", "port", 70000, "colour", "red")), Installation.defaults()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "environment.port: must be 1-65535, got 70000",
            "environment.colour: unknown key (known here: greeting, port, provider, token)"));
  }

  @Test
  void aSectionOfAnotherKindIsRefused() {
    ProviderRegistry registry = ProviderRegistry.empty().withEnvironment(new Fixtures.TestEnv());

    assertThatThrownBy(() -> registry.environment(ProviderSection.of(ProviderKind.DNS, "test-env", Map.of()), Installation.defaults()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theDefaultRegistryUsesTheContextClassLoader() {
    Thread t = Thread.currentThread();
    ClassLoader old = t.getContextClassLoader();
    t.setContextClassLoader(fixtures);
    try {
      assertThat(ProviderRegistry.defaultRegistry().names(ProviderKind.ENVIRONMENT)).contains("test-env");
    } finally {
      t.setContextClassLoader(old);
    }
    assertThat(ProviderRegistry.defaultRegistry().names(ProviderKind.ENVIRONMENT)).doesNotContain("test-env");
  }
}
