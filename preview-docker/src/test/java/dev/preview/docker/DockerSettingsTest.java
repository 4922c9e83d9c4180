package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Resources;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** Configuration, discovery and the engine-unreachable message; no engine needed. */
class DockerSettingsTest {

  private static DockerSettings read(Map<String, ?> values, Map<String, String> env) {
    return DockerSettings.from(ProviderConfig.of("environment", values), env::get);
  }

  @Test
  void defaults() {
    DockerSettings s = read(Map.of("provider", "docker"), Map.of());
    assertThat(s.host).isEqualTo("unix:///var/run/docker.sock");
    assertThat(s.hostSource).contains("default");
    assertThat(s.publish).isTrue();
    assertThat(s.publishInterface).isEqualTo("127.0.0.1");
    assertThat(s.publicHost).isEqualTo("127.0.0.1");
    assertThat(s.portLow).isZero();
    assertThat(s.restart).isEqualTo("unless-stopped");
    assertThat(s.pull).isEqualTo(DockerSettings.Pull.MISSING);
    assertThat(s.resources.unlimited()).isTrue();
    assertThat(s.healthcheck.command()).isEmpty();
    assertThat(s.keepServiceData).isTrue();
    assertThat(s.services).isEmpty();
    assertThat(s.traefik.enabled()).isFalse();
  }

  @Test
  void hostComesFromConfigThenDockerHostThenTheDefault() {
    assertThat(read(Map.of(), Map.of("DOCKER_HOST", "tcp://build-host:2376")).host).isEqualTo("tcp://build-host:2376");
    DockerSettings fromEnv = read(Map.of(), Map.of("DOCKER_HOST", "tcp://build-host:2376"));
    assertThat(fromEnv.hostSource).contains("DOCKER_HOST");
    assertThat(fromEnv.publicHost).as("published ports live on the remote engine's host").isEqualTo("build-host");
    DockerSettings configured = read(Map.of("host", "unix:///run/user/1000/docker.sock"),
        Map.of("DOCKER_HOST", "tcp://build-host:2376"));
    assertThat(configured.host).isEqualTo("unix:///run/user/1000/docker.sock");
    assertThat(configured.hostSource).contains("environment.host");
  }

  @Test
  void readsAFullConfig() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("provider", "docker");
    m.put("registry", Map.of("server", "ghcr.io", "username", "bot", "password", "t0ken"));
    m.put("pull", "always");
    m.put("publish", Map.of("interface", "0.0.0.0", "ports", "20000-20999", "host", "staging.example.com"));
    m.put("resources", Map.of("cpu", "1.5", "memory", "512Mi", "pids", 200));
    m.put("restart", "on-failure:3");
    m.put("healthcheck", Map.of("command", List.of("curl", "-f", "http://localhost:{port}{path}"), "interval", "2s"));
    m.put("stopTimeout", "5s");
    m.put("update", Map.of("timeout", "2m", "keepServiceData", false));
    m.put("build", Map.of("dockerfile", "docker/Dockerfile", "repository", "registry.local/shop",
        "args", Map.of("JAVA", "17"), "pull", true));
    m.put("services", Map.of("db", Map.of("image", "postgres:16", "env", Map.of("POSTGRES_DB", "app"),
        "secrets", Map.of("POSTGRES_PASSWORD", "pw"), "volumes", List.of("/var/lib/postgresql/data"),
        "resources", Map.of("memory", "256Mi"))));
    m.put("traefik", Map.of("enabled", true, "entrypoints", "websecure",
        "tls", true, "certResolver", "le", "container", "traefik"));
    m.put("labels", Map.of("team", "web"));
    DockerSettings s = read(m, Map.of());
    assertThat(s.registry.server()).isEqualTo("ghcr.io");
    assertThat(s.registry.password().reveal()).isEqualTo("t0ken");
    assertThat(s.pull).isEqualTo(DockerSettings.Pull.ALWAYS);
    assertThat(s.portLow).isEqualTo(20000);
    assertThat(s.portHigh).isEqualTo(20999);
    assertThat(s.publicHost).isEqualTo("staging.example.com");
    assertThat(s.resources).isEqualTo(new Resources(1500, 512L << 20, 200));
    assertThat(s.healthcheck.interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.updateTimeout).isEqualTo(Duration.ofMinutes(2));
    assertThat(s.keepServiceData).isFalse();
    assertThat(s.build.args()).containsEntry("JAVA", "17");
    assertThat(s.services.get("db").volumes()).containsExactly("/var/lib/postgresql/data");
    assertThat(s.services.get("db").secrets().get("POSTGRES_PASSWORD").toString()).doesNotContain("pw");
    assertThat(s.traefik.entrypoints()).containsExactly("websecure");
    assertThat(s.labels).containsEntry("team", "web");
    assertThat(DockerSettings.merge(new Resources(0, 1 << 20, 0), s.resources))
        .isEqualTo(new Resources(1500, 1 << 20, 200));
  }

  @Test
  void reportsEveryProblemAtOnceWithItsPath() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("host", "docker.example.com");
    m.put("pull", "sometimes");
    m.put("publish", Map.of("ports", "30000-20000", "enabled", false));
    m.put("resources", Map.of("memory", "lots"));
    m.put("restart", "forever");
    m.put("services", Map.of("App_DB", Map.of("volumes", List.of("data"))));
    m.put("labels", Map.of("preview.dev/key", "x"));
    m.put("tracfik", Map.of());
    assertThatThrownBy(() -> read(m, Map.of()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).satisfiesExactlyInAnyOrder(
            p -> assertThat(p).startsWith("environment.host:"),
            p -> assertThat(p).startsWith("environment.pull:"),
            p -> assertThat(p).startsWith("environment.publish.ports:"),
            p -> assertThat(p).startsWith("environment.publish.enabled: is false and traefik is not enabled"),
            p -> assertThat(p).startsWith("environment.resources.memory:"),
            p -> assertThat(p).startsWith("environment.restart:"),
            p -> assertThat(p).startsWith("environment.services.App_DB:"),
            p -> assertThat(p).startsWith("environment.services.App_DB.volumes:"),
            p -> assertThat(p).startsWith("environment.services.App_DB.image: is required"),
            p -> assertThat(p).startsWith("environment.labels.preview.dev/key:"),
            p -> assertThat(p).startsWith("environment.tracfik: unknown key")));
  }

  @Test
  void theRemovedTraefikDomainSaysToSetAppHostnameWithTheOtherProblems() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("traefik", Map.of("enabled", true, "domain", "preview.example.com"));
    m.put("pull", "sometimes");
    assertThatThrownBy(() -> read(m, Map.of()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).satisfiesExactlyInAnyOrder(
            p -> assertThat(p).isEqualTo("environment.traefik.domain: removed: set app.hostname, e.g."
                + " pr-{number}.preview.example.com; the Traefik rule and the DNS record both use it"),
            p -> assertThat(p).startsWith("environment.pull:")));
  }

  @Test
  void otherInstancesGetDistinctDeterministicNames() {
    PreviewKey key = PreviewKey.pr("acme/shop", 7);
    DockerSettings s = read(Map.of(), Map.of());
    DockerEnvironmentProvider byDefault = new DockerEnvironmentProvider(s, null, dev.preview.spi.Installation.defaults());
    DockerEnvironmentProvider sectest = new DockerEnvironmentProvider(s, null,
        dev.preview.spi.Installation.builder().instance("sectest").build());
    DockerEnvironmentProvider upper = new DockerEnvironmentProvider(s, null,
        dev.preview.spi.Installation.builder().instance("SecTest").build());
    // today's names for the default instance
    assertThat(byDefault.dockerName(key)).isEqualTo(dev.preview.spi.Names.docker(key));
    assertThat(byDefault.dockerName(key, "svc-cache")).isEqualTo(dev.preview.spi.Names.docker(key, "svc-cache"));
    assertThat(sectest.dockerName(key)).startsWith("preview-sectest-shop-pr-7-")
        .isNotEqualTo(byDefault.dockerName(key)).isEqualTo(sectest.dockerName(key));
    assertThat(sectest.dockerName(key, "svc-cache")).isNotEqualTo(byDefault.dockerName(key, "svc-cache"))
        .hasSizeLessThanOrEqualTo(63);
    assertThat(upper.dockerName(key)).isNotEqualTo(sectest.dockerName(key)).matches("[a-z0-9-]+");
  }

  @Test
  void secretsNeverAppearInConfigErrors() {
    assertThatThrownBy(() -> read(Map.of("registry", Map.of("password", "hunter2")), Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.registry.username: is required")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void theFactoryIsFoundByName() {
    List<String> names = ServiceLoader.load(EnvironmentProvider.Factory.class).stream()
        .map(p -> p.get().name()).toList();
    assertThat(names).contains("docker");
  }

  @Test
  void anUnreachableEngineSaysWhereItLookedAndHowToFixIt() {
    EnvironmentProvider p = new DockerEnvironmentProvider.Factory().create(dev.preview.spi.ProviderContext.of(
        ProviderConfig.of("environment", Map.of("provider", "docker", "host", "unix:///tmp/no-such-dir/docker.sock"))));
    try (p) {
      assertThatThrownBy(() -> p.list())
          .isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.provider()).isEqualTo("docker");
          })
          .hasMessageContaining("not reachable at unix:///tmp/no-such-dir/docker.sock")
          .hasMessageContaining("environment.host in preview.yaml")
          .hasMessageContaining("DOCKER_HOST");
      assertThatThrownBy(() -> p.apply(EnvironmentSpec.builder(PreviewKey.pr("a/b", 1), "r").image("x:1").build()))
          .isInstanceOf(ProviderException.class).hasMessageContaining("DOCKER_HOST");
    }
  }

  @Test
  void revisionsBecomeValidTags() {
    assertThat(DockerEnvironmentProvider.tagOf("0123abc")).isEqualTo("0123abc");
    assertThat(DockerEnvironmentProvider.tagOf("-feature/x")).isEqualTo("r-feature-x");
    assertThat(DockerEnvironmentProvider.tagOf("a".repeat(200))).hasSize(128);
  }
}
