package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link EnvironmentProvider}, as tests every provider must pass. Make a test class
 * that extends this kit and implement {@link #createProvider()} and {@link #spec}; JUnit runs the
 * inherited tests.
 *
 * <pre>{@code
 * class DockerEnvironmentProviderIT extends EnvironmentProviderKit {
 *   protected EnvironmentProvider createProvider() { return DockerEnvironmentProvider.create(ProviderContext.of(config, installation())); }
 *   protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
 *     return EnvironmentSpec.builder(key, revision).image("nginx:alpine").port(80).healthPath("/");
 *   }
 * }
 * }</pre>
 *
 * <p>Each test uses keys of a repository no one else uses ({@code kit-<random>/app}) and looks only
 * at those in {@code list()}, so it can share an engine with other work. The kit adds the ownership
 * labels ({@link Installation#ownershipLabels}), {@link Labels#CREATED}, {@link Labels#EXPIRES} and a plain env var
 * {@code PREVIEW_KIT} to the spec; one test also adds a secret. Whatever a test applied is deleted
 * after it. Slow infrastructures override {@link #timeout()}.
 */
public abstract class EnvironmentProviderKit {
  private final String repository = KitIds.repository();
  private final Instant created = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final KitResources<EnvironmentProvider, PreviewKey> resources =
      new KitResources<>(this::createProvider, EnvironmentProvider::close);

  /** A new provider. Called once per test, and a second time in tests that simulate a restart. */
  protected abstract EnvironmentProvider createProvider();

  /**
   * A runnable, provider-specific spec for {@code key} at {@code revision} (image or command, port,
   * health path). The kit adds labels and env to it.
   */
  protected abstract EnvironmentSpec.Builder spec(PreviewKey key, String revision);

  /** How long the kit waits for the infrastructure to show a change (deletes, suspend, resume). */
  protected Duration timeout() {
    return Duration.ofSeconds(60);
  }

  /** The provider of this test, created on first use. */
  protected final EnvironmentProvider provider() {
    return resources.provider();
  }

  /** Another instance, as after a restart of the process. */
  protected final EnvironmentProvider newProvider() {
    return resources.newProvider();
  }

  /** This test's repository: {@code kit-<random>/app}. */
  protected final String repository() {
    return repository;
  }

  /** The key of PR {@code n} in this test's repository; it is deleted after the test. */
  protected final PreviewKey key(int n) {
    return resources.use(PreviewKey.pr(repository, n));
  }

  /** A fresh 40-character hex revision. */
  protected static String revision() {
    return KitIds.hex(40);
  }

  /**
   * The installation the provider under test belongs to; the kit's labels carry its instance, as
   * the orchestrator's do. Override when {@link #createProvider()} builds a provider of another one.
   */
  protected Installation installation() {
    return Installation.defaults();
  }

  /** The labels the kit puts on the spec of {@code key} at {@code revision}. */
  protected final Map<String, String> labels(PreviewKey key, String revision) {
    Map<String, String> labels = new LinkedHashMap<>(installation().ownershipLabels(key, revision));
    labels.put(Labels.CREATED, created.toString());
    labels.put(Labels.EXPIRES, created.plus(Duration.ofDays(1)).toString());
    return labels;
  }

  /** {@link #spec} with the kit's labels and env var. */
  protected final EnvironmentSpec.Builder kitSpec(PreviewKey key, String revision) {
    return spec(key, revision).labels(labels(key, revision)).env("PREVIEW_KIT", "1");
  }

  /** The environments of this test's repository in {@code p.list()}. */
  protected final List<Environment> mine(EnvironmentProvider p) {
    List<Environment> all = p.list();
    assertThat(all).as("list() never returns null").isNotNull();
    return all.stream().filter(e -> e.key().repository().equals(repository)).toList();
  }

  private static Map<PreviewKey, String> revisions(List<Environment> envs) {
    return envs.stream().collect(Collectors.toMap(Environment::key, e -> String.valueOf(e.revision())));
  }

  @AfterEach
  protected final void deleteEverythingTheTestUsed() {
    resources.cleanUp(EnvironmentProvider::delete);
  }

  @Test
  public void applyIsIdempotent() {
    PreviewKey key = key(1);
    String rev = revision();
    EnvironmentSpec spec = kitSpec(key, rev).build();

    Environment first = provider().apply(spec);
    Environment second = provider().apply(spec);

    assertThat(first.key()).isEqualTo(key);
    assertThat(second.key()).isEqualTo(key);
    assertThat(second.revision()).isEqualTo(rev);
    assertThat(mine(provider())).as("applying one spec twice leaves one environment")
        .singleElement().satisfies(e -> {
          assertThat(e.key()).isEqualTo(key);
          assertThat(e.revision()).isEqualTo(rev);
        });
  }

  @Test
  public void applyOfANewRevisionUpdatesTheEnvironment() {
    PreviewKey key = key(1);
    String r1 = revision();
    String r2 = revision();
    provider().apply(kitSpec(key, r1).build());

    Environment updated = provider().apply(kitSpec(key, r2).build());

    assertThat(updated.revision()).isEqualTo(r2);
    KitIds.eventually("find shows the new revision", timeout()).untilAsserted(() ->
        assertThat(provider().find(key)).get().satisfies(e -> {
          assertThat(e.revision()).isEqualTo(r2);
          assertThat(e.labels()).containsEntry(Labels.REVISION, r2);
        }));
    assertThat(mine(provider())).as("an update replaces, it does not add").singleElement()
        .extracting(Environment::revision).isEqualTo(r2);
  }

  @Test
  public void findOfAnAbsentKeyIsEmpty() {
    assertThat(provider().find(key(404))).isEmpty();
  }

  @Test
  public void deleteIsIdempotentAndDeletingAnAbsentKeyIsFine() {
    PreviewKey absent = key(2);
    assertThatCode(() -> provider().delete(absent)).as("delete of a key that never existed")
        .doesNotThrowAnyException();

    PreviewKey key = key(1);
    provider().apply(kitSpec(key, revision()).build());
    provider().delete(key);
    assertThatCode(() -> provider().delete(key)).as("second delete").doesNotThrowAnyException();

    KitIds.eventually("the environment is gone", timeout()).untilAsserted(() -> {
      assertThat(provider().find(key)).isEmpty();
      assertThat(mine(provider())).extracting(Environment::key).doesNotContain(key);
    });
  }

  @Test
  public void listFindsExactlyWhatTheKitCreatedWithItsLabels() {
    PreviewKey k1 = key(1);
    PreviewKey k2 = key(2);
    String r1 = revision();
    String r2 = revision();
    provider().apply(kitSpec(k1, r1).build());
    provider().apply(kitSpec(k2, r2).build());

    List<Environment> mine = mine(provider());

    assertThat(revisions(mine)).isEqualTo(Map.of(k1, r1, k2, r2));
    for (Environment e : mine) {
      assertThat(e.labels()).as("labels of %s survive", e.key())
          .containsAllEntriesOf(labels(e.key(), e.revision()));
      assertThat(e.created()).contains(created);
      assertThat(e.expires()).contains(created.plus(Duration.ofDays(1)));
    }
    assertThat(provider().find(k1)).get().extracting(Environment::labels)
        .satisfies(l -> assertThat(l).containsAllEntriesOf(labels(k1, r1)));
  }

  @Test
  public void aNewInstanceListsTheSameEnvironments() {
    PreviewKey k1 = key(1);
    PreviewKey k2 = key(2);
    String r1 = revision();
    String r2 = revision();
    provider().apply(kitSpec(k1, r1).build());
    provider().apply(kitSpec(k2, r2).build());

    EnvironmentProvider restarted = newProvider();

    assertThat(revisions(mine(restarted))).as("list() of a new instance reads the infrastructure")
        .isEqualTo(Map.of(k1, r1, k2, r2));
    assertThat(restarted.find(k1)).as("find() of a new instance").get()
        .extracting(Environment::revision).isEqualTo(r1);
    restarted.delete(k1);
    KitIds.eventually("a delete by the new instance is seen by the old one", timeout()).untilAsserted(() ->
        assertThat(provider().find(k1)).isEmpty());
    assertThat(provider().find(k2)).isPresent();
  }

  @Test
  public void secretsNeverAppearInLabelsOrInWhatIsReturned() {
    PreviewKey key = key(1);
    String secret = "kit-secret-" + KitIds.hex(24);
    EnvironmentSpec spec = kitSpec(key, revision()).secret("KIT_SECRET", Secret.of(secret)).build();

    Environment applied = provider().apply(spec);
    Optional<Environment> found = provider().find(key);
    List<Environment> listed = mine(provider());

    assertThat(found).isPresent();
    assertThat(listed).hasSize(1);
    List<Environment> all = new ArrayList<>(listed);
    all.add(applied);
    all.add(found.get());
    for (Environment e : all) {
      assertThat(String.valueOf(e)).doesNotContain(secret);
      assertThat(String.valueOf(e.labels())).doesNotContain(secret);
      assertThat(String.valueOf(e.url())).doesNotContain(secret);
    }
    assertThat(String.valueOf(provider())).doesNotContain(secret);
  }

  @Test
  public void concurrentApplyOnDifferentKeysAllSucceed() throws Exception {
    Map<PreviewKey, String> wanted = new LinkedHashMap<>();
    for (int n = 1; n <= 3; n++) {
      wanted.put(key(n), revision());
    }
    EnvironmentProvider p = provider();
    ExecutorService pool = Executors.newFixedThreadPool(wanted.size());
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<CompletableFuture<Environment>> calls = new ArrayList<>();
      wanted.forEach((k, r) -> calls.add(CompletableFuture.supplyAsync(() -> {
        awaitQuietly(start);
        return p.apply(kitSpec(k, r).build());
      }, pool)));
      start.countDown();
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
          .get(timeout().toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      pool.shutdownNow();
    }

    assertThat(revisions(mine(p))).isEqualTo(wanted);
  }

  @Test
  public void suspendThenResumeWorksAndIsIdempotent() {
    Assumptions.assumeTrue(provider().supportsSuspend(), provider().name() + " does not support suspend");
    PreviewKey key = key(1);
    String rev = revision();
    provider().apply(kitSpec(key, rev).build());

    provider().suspend(key);
    provider().suspend(key);
    KitIds.eventually("suspended", timeout()).untilAsserted(() ->
        assertThat(provider().find(key)).get().extracting(Environment::phase)
            .isEqualTo(Environment.Phase.SUSPENDED));

    provider().resume(key);
    Environment resumed = provider().resume(key);
    assertThat(resumed.key()).isEqualTo(key);
    KitIds.eventually("running again", timeout()).untilAsserted(() ->
        assertThat(provider().find(key)).get().satisfies(e -> {
          assertThat(e.phase()).isIn(Environment.Phase.RUNNING, Environment.Phase.STARTING);
          assertThat(e.revision()).isEqualTo(rev);
          assertThat(e.labels()).containsAllEntriesOf(labels(key, rev));
        }));
    assertThat(mine(provider())).hasSize(1);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
