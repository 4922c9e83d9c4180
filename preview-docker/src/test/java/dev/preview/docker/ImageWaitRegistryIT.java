package dev.preview.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.PushResponseItem;
import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * build.pollImage against a real registry (Debian's docker-registry, with htpasswd auth): the PR
 * opens before CI pushed its image, the preview WAITs, the image is pushed, the next look finds it
 * in the registry and the preview deploys READY from it.
 */
class ImageWaitRegistryIT {
  private static final String USER = TestRegistry.USER;
  private static final String PASSWORD = TestRegistry.PASSWORD;

  private static TestRegistry registry;
  private static String server;
  private static DockerClient docker;

  @BeforeAll
  static void startRegistry() throws Exception {
    docker = TestDocker.engine();
    registry = TestRegistry.start();
    server = registry.server;
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  private static DockerEnvironmentProvider provider(String password) {
    return TestDocker.provider(Map.of("pull", "missing",
        "registry", Map.of("server", server, "username", USER, "password", password)));
  }

  private static void removeLocal(String image) {
    try {
      docker.removeImageCmd(image).withForce(true).exec();
    } catch (NotFoundException e) {
      // not there
    }
  }

  @Test
  void the_preview_waits_until_ci_pushes_its_image_then_deploys_it() throws Exception {
    String tag = "sha-" + UUID.randomUUID().toString().substring(0, 8);
    String repository = server + "/it/wait";
    String image = repository + ":" + tag;
    PreviewKey key = PreviewKey.pr("it/wait-" + tag, 1);
    PullRequest pr = PullRequest.open(key, "a".repeat(40), "feature", "main");
    FakePullRequestSource prs = new FakePullRequestSource().put(pr);
    FakeScmNotifier notifier = new FakeScmNotifier();
    DockerEnvironmentProvider env = provider(PASSWORD);
    // The orchestrator looks in the registry only, and only once "CI" is done (pushed, and its local
    // copy gone): a look while the test's local tag exists would deploy from the host, not the registry.
    dev.preview.spi.RegistryManifests registryOnly = DockerEnvironmentProvider.registryManifests(
        new DockerSettings.Registry(server, USER, dev.preview.spi.Secret.of(PASSWORD)));
    java.util.concurrent.atomic.AtomicBoolean ciDone = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger looks = new java.util.concurrent.atomic.AtomicInteger();
    dev.preview.spi.EnvironmentProvider looking = new Delegating(env) {
      @Override
      public ImageAvailability imageAvailable(String i) {
        looks.incrementAndGet();
        return ciDone.get() ? registryOnly.manifestExists(i) : ImageAvailability.ABSENT;
      }
    };
    try (PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(looking).pullRequests(prs)
        .notifier(notifier)
        .app(AppTemplate.builder().image(image).port(8080).healthPath("/health")
            .readinessTimeout(Duration.ofSeconds(30)).readinessInterval(Duration.ofMillis(100)).build())
        .buildSettings(BuildSettings.builder().pollImage(true).pollInterval(Duration.ofMillis(200)).build())
        .closeProviders(false)
        .build()) {
      try {
        assertThat(env.imageAvailable(image)).as("not pushed yet").isEqualTo(ImageAvailability.ABSENT);

        Preview waiting = orchestrator.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr))
            .get(30, TimeUnit.SECONDS);
        assertThat(waiting.state()).isEqualTo(PreviewState.WAITING);
        assertThat(waiting.message()).isEqualTo("waiting for the image " + image + " to appear in the registry");
        assertThat(env.find(key)).isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> looks.get() >= 2); // it looks again by itself

        // CI pushes the image (built here from the local busybox test image) and removes its local copy.
        docker.tagImageCmd(TestDocker.IMAGE, repository, tag).exec();
        docker.pushImageCmd(repository).withTag(tag)
            .withAuthConfig(new AuthConfig().withUsername(USER).withPassword(PASSWORD).withRegistryAddress(server))
            .exec(new ResultCallback.Adapter<PushResponseItem>()).awaitCompletion(60, TimeUnit.SECONDS);
        removeLocal(image);
        assertThat(env.imageAvailable(image)).as("in the registry, not on the host").isEqualTo(ImageAvailability.PRESENT);
        ciDone.set(true);

        await().atMost(Duration.ofSeconds(60))
            .until(() -> notifier.latest(key).map(s -> s.state() == PreviewState.READY).orElse(false));
        assertThat(env.find(key).orElseThrow().revision()).isEqualTo(pr.headSha());
        assertThat(TestDocker.get(URI.create(env.find(key).orElseThrow().url() + "/health")).status()).isEqualTo(200);
      } finally {
        env.delete(key);
        removeLocal(image);
        env.close();
      }
    }
  }

  /** Every call to the Docker provider, so a test can change one. */
  private static class Delegating implements dev.preview.spi.EnvironmentProvider {
    private final dev.preview.spi.EnvironmentProvider d;

    Delegating(dev.preview.spi.EnvironmentProvider d) {
      this.d = d;
    }

    @Override public String name() { return d.name(); }
    @Override public dev.preview.spi.Environment apply(dev.preview.spi.EnvironmentSpec spec) { return d.apply(spec); }
    @Override public java.util.Optional<dev.preview.spi.Environment> find(PreviewKey key) { return d.find(key); }
    @Override public java.util.List<dev.preview.spi.Environment> list() { return d.list(); }
    @Override public void delete(PreviewKey key) { d.delete(key); }
    @Override public java.util.List<String> logs(PreviewKey key, int lines) { return d.logs(key, lines); }
  }

  @Test
  void wrong_credentials_are_unknown_not_absent_and_no_password_leaks() {
    String wrong = "wrong-" + UUID.randomUUID();
    try (DockerEnvironmentProvider env = provider(wrong)) {
      assertThat(env.imageAvailable(server + "/it/wait:nothing")).isEqualTo(ImageAvailability.UNKNOWN);
    }
    try (DockerEnvironmentProvider env = provider(PASSWORD)) {
      assertThat(env.imageAvailable(server + "/it/wait:nothing")).isEqualTo(ImageAvailability.ABSENT);
    }
  }
}
