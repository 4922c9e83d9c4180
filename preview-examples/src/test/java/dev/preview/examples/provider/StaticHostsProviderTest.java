package dev.preview.examples.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import dev.preview.testkit.EnvironmentProviderKit;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example provider passes the {@link EnvironmentProviderKit}, like every provider of this project. */
class StaticHostsProviderTest extends EnvironmentProviderKit {
  static final List<URI> HOSTS = IntStream.rangeClosed(1, 4).mapToObj(n -> URI.create("http://10.0.0.1" + n + ":8080/")).toList();

  @TempDir Path dir;

  @Override
  protected EnvironmentProvider createProvider() {
    return new StaticHostsProvider(dir.resolve("slots"), HOSTS, dev.preview.spi.Installation.defaults());
  }

  @Override
  protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).image("registry.local/shop:" + revision).port(8080);
  }

  @Test
  void theFactoryIsFoundByServiceLoaderAndReportsEveryProblemAtOnce() {
    EnvironmentProvider.Factory factory = ServiceLoader.load(EnvironmentProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(f -> f.name().equals("static-hosts")).findFirst().orElseThrow();

    EnvironmentProvider p = factory.create(ProviderContext.of(ProviderConfig.of("environment",
        Map.of("dir", dir.resolve("slots").toString(), "hosts", List.of("http://10.0.0.11:8080/")))));
    assertThat(p.name()).isEqualTo("static-hosts");
    assertThat(p.apply(kitSpec(key(1), revision()).build()).url()).isEqualTo(URI.create("http://10.0.0.11:8080/"));

    assertThatThrownBy(() -> factory.create(ProviderContext.of(ProviderConfig.of("environment", Map.of("hosts", List.of("not a url"))))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.dir")
        .hasMessageContaining("environment.hosts");
  }

  @Test
  void twoInstallationsSharingOneDirectoryNeverSeeNorDeleteEachOthersLeases() {
    dev.preview.spi.Installation blue = dev.preview.spi.Installation.builder().instance("blue").build();
    dev.preview.spi.Installation green = dev.preview.spi.Installation.builder().instance("green").build();
    StaticHostsProvider a = new StaticHostsProvider(dir.resolve("shared"), HOSTS, blue);
    StaticHostsProvider b = new StaticHostsProvider(dir.resolve("shared"), HOSTS, green);
    PreviewKey k = key(7);
    String revision = revision();
    a.apply(spec(k, revision).labels(blue.ownershipLabels(k, revision)).build());
    b.apply(spec(k, revision).labels(green.ownershipLabels(k, revision)).build());

    assertThat(a.list()).singleElement().satisfies(e -> assertThat(e.labels()).containsEntry(dev.preview.spi.Labels.INSTANCE, "blue"));
    assertThat(b.list()).singleElement().satisfies(e -> assertThat(e.labels()).containsEntry(dev.preview.spi.Labels.INSTANCE, "green"));
    a.delete(k);
    assertThat(a.find(k)).isEmpty();
    assertThat(b.find(k)).as("green's lease of the same PR survives blue's delete").isPresent();
    assertThat(new StaticHostsProvider(dir.resolve("shared"), HOSTS, blue).list()).as("a restarted blue").isEmpty();
    b.delete(k);
  }

  @Test
  void eachPreviewHoldsItsOwnHostAndWhenAllAreLeasedApplyFailsUntilOneIsFreed() {
    List<PreviewKey> keys = IntStream.rangeClosed(1, HOSTS.size()).mapToObj(this::key).toList();
    List<URI> urls = keys.stream().map(k -> provider().apply(kitSpec(k, revision()).build()).url()).toList();
    assertThat(urls).containsExactlyInAnyOrderElementsOf(HOSTS);

    PreviewKey onTooMany = key(99);
    assertThatThrownBy(() -> provider().apply(kitSpec(onTooMany, revision()).build()))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("no free host")
        .satisfies(e -> assertThat(((ProviderException) e).retryable()).isTrue());

    provider().delete(keys.get(2));
    assertThat(provider().apply(kitSpec(onTooMany, revision()).build()).url()).isEqualTo(urls.get(2));
    assertThat(newProvider().find(onTooMany)).get().extracting(e -> e.url()).isEqualTo(urls.get(2));
  }

  @Test
  void secretsGoOnlyToTheAgentsFileWithMode600AndAreRemovedWithThePreview() throws Exception {
    PreviewKey key = key(1);
    String secret = "s3cret-" + revision();
    provider().apply(kitSpec(key, revision()).secret("STRIPE_KEY", Secret.of(secret)).build());

    Path slot = dir.resolve("slots/default/slot-1");
    assertThat(Files.readString(slot.resolve("secrets.env"))).isEqualTo("STRIPE_KEY=" + secret + "\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(slot.resolve("secrets.env")))).isEqualTo("rw-------");
    assertThat(Files.readString(slot.resolve("lease.json"))).doesNotContain(secret).contains("\"PREVIEW_KIT\":\"1\"");

    provider().delete(key);
    try (var left = Files.list(slot)) {
      assertThat(left).as("a freed host keeps nothing of the preview").isEmpty();
    }
  }
}
