package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link DatabaseProvider}, as tests every provider must pass. Extend it, implement
 * {@link #createProvider()} and {@link #assertUsable} (connect with the returned facts, write and
 * read something), and override {@link #spec} when the provider needs a baseline.
 *
 * <pre>{@code
 * class PostgresDatabaseProviderIT extends DatabaseProviderKit {
 *   protected DatabaseProvider createProvider() { return new PostgresDatabaseProvider.Factory().create(ProviderContext.of(config, installation)); }
 *   protected void assertUsable(DatabaseConnection c) {
 *     try (Connection db = DriverManager.getConnection(c.url(), c.username(), c.password().reveal())) {
 *       db.createStatement().execute("create table t(x int)");
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>Keys belong to a repository no one else uses ({@code kit-<random>/app}); the kit looks only at
 * those in {@code list()} and drops them after each test.
 */
public abstract class DatabaseProviderKit {
  private final String repository = KitIds.repository();
  private final KitResources<DatabaseProvider, PreviewKey> resources =
      new KitResources<>(this::createProvider, DatabaseProvider::close);

  /** A new provider. Called once per test, and a second time in tests that simulate a restart. */
  protected abstract DatabaseProvider createProvider();

  /** The spec to create the database of {@code key} with. */
  protected DatabaseSpec spec(PreviewKey key) {
    return DatabaseSpec.empty();
  }

  /** Fails unless {@code c} reaches a working database: connect with its facts, write and read. */
  protected abstract void assertUsable(DatabaseConnection c);

  /** How long the kit waits for the server to show a change. */
  protected Duration timeout() {
    return Duration.ofSeconds(60);
  }

  /** The provider of this test, created on first use. */
  protected final DatabaseProvider provider() {
    return resources.provider();
  }

  /** Another instance, as after a restart of the process. */
  protected final DatabaseProvider newProvider() {
    return resources.newProvider();
  }

  /** This test's repository: {@code kit-<random>/app}. */
  protected final String repository() {
    return repository;
  }

  /** The key of PR {@code n} in this test's repository; its database is dropped after the test. */
  protected final PreviewKey key(int n) {
    return resources.use(PreviewKey.pr(repository, n));
  }

  /** The keys of this test's repository in {@code p.list()}, in the order listed. */
  protected final List<PreviewKey> mine(DatabaseProvider p) {
    List<PreviewKey> all = p.list();
    assertThat(all).as("list() never returns null").isNotNull();
    return all.stream().filter(k -> k.repository().equals(repository)).toList();
  }

  private DatabaseConnection create(DatabaseProvider p, PreviewKey key) {
    DatabaseConnection c = p.create(key, spec(key));
    assertThat(c).as("create(%s)", key).isNotNull();
    return c;
  }

  @AfterEach
  protected final void dropEverythingTheTestUsed() {
    resources.cleanUp(DatabaseProvider::drop);
  }

  @Test
  public void createIsIdempotent() {
    PreviewKey key = key(1);
    DatabaseConnection first = create(provider(), key);
    assertUsable(first);

    DatabaseConnection second = create(provider(), key);

    assertThat(second.name()).isEqualTo(first.name());
    assertUsable(second);
    assertThat(mine(provider())).as("two creates leave one database").containsExactly(key);
  }

  @Test
  public void dropIsIdempotentAndDroppingAnAbsentKeyIsFine() {
    PreviewKey absent = key(2);
    assertThatCode(() -> provider().drop(absent)).as("drop of a key that never had a database")
        .doesNotThrowAnyException();

    PreviewKey key = key(1);
    create(provider(), key);
    provider().drop(key);
    assertThatCode(() -> provider().drop(key)).as("second drop").doesNotThrowAnyException();

    KitIds.eventually("the database is gone", timeout()).untilAsserted(() ->
        assertThat(mine(provider())).doesNotContain(key));
  }

  @Test
  public void listFindsWhatItMadeAndSoDoesANewInstance() {
    PreviewKey k1 = key(1);
    PreviewKey k2 = key(2);
    create(provider(), k1);
    create(provider(), k2);

    assertThat(mine(provider())).containsExactlyInAnyOrder(k1, k2);
    DatabaseProvider restarted = newProvider();
    assertThat(mine(restarted)).as("list() of a new instance reads the server")
        .containsExactlyInAnyOrder(k1, k2);

    restarted.drop(k1);
    KitIds.eventually("a drop by the new instance is seen by the old one", timeout()).untilAsserted(() ->
        assertThat(mine(provider())).containsExactly(k2));
  }

  @Test
  public void twoPreviewsGetDifferentNamesAndCredentials() {
    DatabaseConnection a = create(provider(), key(1));
    DatabaseConnection b = create(provider(), key(2));

    assertThat(a.name()).isNotEqualTo(b.name());
    assertThat(a.url()).isNotEqualTo(b.url());
    if (a.username() != null && b.username() != null) {
      assertThat(a.username()).as("each preview has its own user").isNotEqualTo(b.username());
    }
    if (a.password() != null && b.password() != null) {
      assertThat(a.password().reveal()).as("each preview has its own password")
          .isNotEqualTo(b.password().reveal());
    }
    assertUsable(a);
    assertUsable(b);
  }

  @Test
  public void thePasswordIsNeverInPlainTextOutsideSecretEnv() {
    DatabaseConnection c = create(provider(), key(1));
    List<String> secrets = new ArrayList<>();
    if (c.password() != null && !c.password().isEmpty()) {
      secrets.add(c.password().reveal());
    }
    // a secret env var that embeds the password (DATABASE_URL) must not leak either
    c.secretEnv().values().stream().map(Secret::reveal)
        .filter(v -> secrets.stream().anyMatch(v::contains)).forEach(secrets::add);

    for (String secret : List.copyOf(secrets)) {
      assertThat(c.toString()).doesNotContain(secret);
      assertThat(c.url()).doesNotContain(secret);
      assertThat(String.valueOf(c.username())).doesNotContain(secret);
      for (Map.Entry<String, String> e : c.env().entrySet()) {
        assertThat(e.getValue()).as("plain env var %s", e.getKey()).doesNotContain(secret);
      }
      assertThat(String.valueOf(c.secretEnv())).doesNotContain(secret);
      assertThat(String.valueOf(provider())).doesNotContain(secret);
    }
    if (c.password() != null) {
      assertThat(c.secretEnv()).as("env vars that carry the password must be secret")
          .isNotEmpty();
    }
  }

  @Test
  public void concurrentCreateOnDifferentKeysAllSucceed() throws Exception {
    List<PreviewKey> keys = List.of(key(1), key(2), key(3));
    DatabaseProvider p = provider();
    ExecutorService pool = Executors.newFixedThreadPool(keys.size());
    List<DatabaseConnection> made = new ArrayList<>();
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<CompletableFuture<DatabaseConnection>> calls = new ArrayList<>();
      for (PreviewKey k : keys) {
        calls.add(CompletableFuture.supplyAsync(() -> {
          awaitQuietly(start);
          return create(p, k);
        }, pool));
      }
      start.countDown();
      for (CompletableFuture<DatabaseConnection> call : calls) {
        made.add(call.get(timeout().toMillis(), TimeUnit.MILLISECONDS));
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(mine(p)).containsExactlyInAnyOrderElementsOf(keys);
    assertThat(made).extracting(DatabaseConnection::name).doesNotHaveDuplicates();
    made.forEach(this::assertUsable);
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
