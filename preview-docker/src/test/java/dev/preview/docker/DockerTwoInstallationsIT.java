package dev.preview.docker;

import static dev.preview.docker.TestDocker.IMAGE;
import static dev.preview.docker.TestDocker.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two installations on one engine, both previewing the same PR key: neither lists, finds or deletes
 * the other's (the bug: {@code preview list} of one instance showed another's previews, and
 * {@code reconcile --dry-run} wanted to expire them).
 */
class DockerTwoInstallationsIT {
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final Installation a = Installation.builder().instance("it-a-" + suffix).build();
  private final Installation b = Installation.builder().instance("it-b-" + suffix).build();
  private final PreviewKey shared = PreviewKey.pr("it/shared-" + suffix, 7);
  private final PreviewKey onlyA = PreviewKey.pr("it/only-a-" + suffix, 1);
  private final PreviewKey onlyB = PreviewKey.pr("it/only-b-" + suffix, 2);
  private final PreviewKey legacy = PreviewKey.pr("it/legacy-" + suffix, 3);
  private final List<DockerEnvironmentProvider> providers = new ArrayList<>();
  private DockerClient docker;
  private String legacyContainer;

  @BeforeEach
  void engine() {
    docker = TestDocker.engine();
  }

  @AfterEach
  void cleanUp() {
    for (Installation i : List.of(a, b)) {
      DockerEnvironmentProvider p = provider(i);
      List.of(shared, onlyA, onlyB).forEach(p::delete);
    }
    if (legacyContainer != null) {
      docker.removeContainerCmd(legacyContainer).withForce(true).exec();
    }
    providers.forEach(DockerEnvironmentProvider::close);
  }

  private DockerEnvironmentProvider provider(Installation installation) {
    DockerEnvironmentProvider p = TestDocker.provider(TestDocker.cacheService(), installation);
    providers.add(p);
    return p;
  }

  private static EnvironmentSpec spec(PreviewKey key, Installation i, String revision) {
    Map<String, String> labels = new LinkedHashMap<>(i.ownershipLabels(key, revision));
    return EnvironmentSpec.builder(key, revision).image(IMAGE).port(8080).healthPath("/health")
        .env("WHO", i.instance()).labels(labels).build();
  }

  private static void awaitAnswer(Environment env) {
    await().atMost(Duration.ofSeconds(15))
        .until(() -> get(URI.create(env.url() + "/health")).status() == 200);
  }

  @Test
  void twoInstallationsPreviewingTheSameKeyNeverSeeNorDeleteEachOther() {
    DockerEnvironmentProvider pa = provider(a);
    DockerEnvironmentProvider pb = provider(b);
    Environment aShared = pa.apply(spec(shared, a, "r1"));
    pa.apply(spec(onlyA, a, "r1"));
    Environment bShared = pb.apply(spec(shared, b, "r2"));
    pb.apply(spec(onlyB, b, "r2"));
    awaitAnswer(aShared);
    awaitAnswer(bShared);
    assertThat(get(URI.create(aShared.url() + "/cgi-bin/env")).body()).contains("WHO=" + a.instance());
    assertThat(get(URI.create(bShared.url() + "/cgi-bin/env")).body()).contains("WHO=" + b.instance());

    // names do not collide: each has its own app and service container, network and volume
    List<Container> sharedContainers = TestDocker.labelled(Labels.KEY, shared.id());
    assertThat(sharedContainers).hasSize(4)
        .allSatisfy(c -> assertThat(c.getLabels()).containsKey(Labels.INSTANCE));
    assertThat(sharedContainers.stream().map(c -> c.getNames()[0]).distinct()).hasSize(4);
    assertThat(TestDocker.leftovers(shared.id())).filteredOn(s -> s.startsWith("network ")).hasSize(2);
    assertThat(TestDocker.leftovers(shared.id())).filteredOn(s -> s.startsWith("volume ")).hasSize(2);
    assertThat(docker.listNetworksCmd().withFilter("label", List.of(Labels.INSTANCE + "=" + a.instance())).exec())
        .hasSize(2);

    // a container with our labels but no instance belongs to no installation
    legacyContainer = docker.createContainerCmd(IMAGE).withName("preview-it-legacy-" + suffix)
        .withLabels(Map.of(Labels.MANAGED, "true", Labels.KEY, legacy.id(), Labels.REVISION, "r0",
            DockerEnvironmentProvider.ROLE, "app"))
        .exec().getId();

    assertThat(pa.list()).extracting(Environment::key).containsExactlyInAnyOrder(shared, onlyA);
    assertThat(pb.list()).extracting(Environment::key).containsExactlyInAnyOrder(shared, onlyB);
    assertThat(pa.list()).allSatisfy(e -> assertThat(e.labels()).containsEntry(Labels.INSTANCE, a.instance()));
    assertThat(pa.find(onlyB)).isEmpty();
    assertThat(pb.find(onlyA)).isEmpty();
    assertThat(pa.find(legacy)).isEmpty();
    assertThat(pa.find(shared).orElseThrow().revision()).isEqualTo("r1");
    assertThat(pb.find(shared).orElseThrow().revision()).isEqualTo("r2");

    // a deletes the shared key (and tries b's and the legacy one): b's keep running and answering
    pa.delete(shared);
    pa.delete(onlyB);
    pa.delete(legacy);
    assertThat(pa.find(shared)).isEmpty();
    assertThat(TestDocker.labelled(Labels.INSTANCE, a.instance()).stream()
        .filter(c -> shared.id().equals(c.getLabels().get(Labels.KEY)))).isEmpty();
    assertThat(pb.find(shared)).get().satisfies(e -> {
      assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
      assertThat(e.url()).isEqualTo(bShared.url());
    });
    assertThat(get(URI.create(bShared.url() + "/health")).status()).isEqualTo(200);
    assertThat(TestDocker.leftovers(shared.id())).filteredOn(s -> s.startsWith("volume ")).hasSize(1);
    assertThat(pb.find(onlyB).orElseThrow().phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(docker.inspectContainerCmd(legacyContainer).exec().getId()).isEqualTo(legacyContainer);

    // a provider of instance a on a fresh client (a restart) still sees only a's
    DockerEnvironmentProvider restarted = provider(a);
    assertThat(restarted.list()).extracting(Environment::key).containsExactly(onlyA);
    assertThat(restarted.find(shared)).isEmpty();
  }
}
