package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.PushResponseItem;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pulling the app image with the registry credentials of the config, from a real registry (Debian's
 * docker-registry, started here with htpasswd auth on 127.0.0.1, which the engine trusts without TLS).
 */
class DockerRegistryAuthIT {
  private static final String USER = TestRegistry.USER;
  private static final String PASSWORD = TestRegistry.PASSWORD;

  private static TestRegistry registry;
  private static String server;
  private static String image;
  private static DockerClient docker;
  private final List<PreviewKey> made = new ArrayList<>();

  @BeforeAll
  static void startRegistry() throws Exception {
    docker = TestDocker.engine();
    registry = TestRegistry.start();
    server = registry.server;

    String repository = server + "/it/httpd";
    image = repository + ":auth";
    docker.tagImageCmd(TestDocker.IMAGE, repository, "auth").exec();
    docker.pushImageCmd(repository).withTag("auth").withAuthConfig(auth(PASSWORD))
        .exec(new ResultCallback.Adapter<PushResponseItem>()).awaitCompletion(60, TimeUnit.SECONDS);
    removeLocal();
  }

  private static AuthConfig auth(String password) {
    return new AuthConfig().withUsername(USER).withPassword(password).withRegistryAddress(server);
  }

  private static void removeLocal() {
    try {
      docker.removeImageCmd(image).withForce(true).exec();
    } catch (NotFoundException e) {
      // not pulled
    }
  }

  @AfterEach
  void cleanUp() {
    try (DockerEnvironmentProvider p = TestDocker.provider(Map.of())) {
      made.forEach(p::delete);
    }
    removeLocal();
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  private PreviewKey key() {
    PreviewKey k = PreviewKey.pr("it/registry-" + UUID.randomUUID().toString().substring(0, 8), 1);
    made.add(k);
    return k;
  }

  private static DockerEnvironmentProvider provider(String password) {
    return TestDocker.provider(Map.of("pull", "missing",
        "registry", Map.of("server", server, "username", USER, "password", password)));
  }

  @Test
  void pullsTheAppImageWithTheConfiguredCredentials() {
    PreviewKey key = key();
    try (DockerEnvironmentProvider p = provider(PASSWORD)) {
      Environment env = p.apply(EnvironmentSpec.builder(key, "r1").image(image).port(8080)
          .labels(Labels.ownership(key, "r1")).build());
      await().atMost(Duration.ofSeconds(15)).until(() -> TestDocker.get(URI.create(env.url() + "/health")).status() == 200);
      assertThat(docker.inspectImageCmd(image).exec().getId()).isNotBlank();
    }
  }

  @Test
  void aRefusedPullSaysSoWithoutShowingThePassword() {
    PreviewKey key = key();
    String wrong = "wrong-pass-" + UUID.randomUUID();
    try (DockerEnvironmentProvider p = provider(wrong)) {
      assertThatThrownBy(() -> p.apply(EnvironmentSpec.builder(key, "r1").image(image).port(8080).build()))
          .isInstanceOf(ProviderException.class)
          .hasMessageContaining("image " + image + " is not on the Docker host and pulling it failed")
          .hasMessageContaining("environment.registry")
          .hasMessageNotContaining(wrong);
    }
    try (DockerEnvironmentProvider anonymous = TestDocker.provider(Map.of("pull", "missing"))) {
      assertThatThrownBy(() -> anonymous.apply(EnvironmentSpec.builder(key, "r1").image(image).port(8080).build()))
          .isInstanceOf(ProviderException.class).hasMessageContaining("pulling it failed");
    }
    assertThat(TestDocker.leftovers(key.id())).filteredOn(s -> s.startsWith("container")).isEmpty();
  }
}
