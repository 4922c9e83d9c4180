package dev.preview.db.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ReconcileReport;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * Issue 12.6 on a Redis 7 of the test's own with an {@code aclfile}, restarted for real (without
 * any data persistence, so the registry hashes and keys are gone after a restart, the users are not).
 */
class RedisAclFileIT {
  @TempDir
  Path dir;
  Redis7.Own server;
  RedisDatabaseProvider provider;
  final PreviewKey a = PreviewKey.pr("acme/aclfile", 1);
  final PreviewKey b = PreviewKey.pr("acme/aclfile", 2);

  @BeforeEach
  void start() throws Exception {
    server = new Redis7.Own(dir);
    provider = server.provider().build();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  boolean canLogIn(DatabaseConnection c) {
    try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", server.port), DefaultJedisClientConfig.builder()
        .autoNegotiateProtocol(false).user(c.username()).password(c.password().reveal()).build())) {
      return "PONG".equals(j.ping());
    } catch (RuntimeException e) {
      assertThat(e).hasMessageContaining("WRONGPASS");
      return false;
    }
  }

  @Test
  void aDroppedUserStaysGoneAfterARestart() throws Exception {
    DatabaseConnection ca = provider.create(a, DatabaseSpec.empty());
    DatabaseConnection cb = provider.create(b, DatabaseSpec.empty());
    assertThat(Files.readString(dir.resolve("users.acl"))).contains(ca.username(), cb.username());

    provider.drop(a);
    server.restart();

    assertThat(Files.readString(dir.resolve("users.acl"))).doesNotContain(ca.username()).contains(cb.username());
    assertThat(canLogIn(ca)).isFalse();
    assertThat(canLogIn(cb)).isTrue();
    try (Jedis admin = server.admin()) {
      assertThat(admin.aclUsers()).doesNotContain(ca.username()).contains(cb.username());
    }
  }

  @Test
  void aRotatedPasswordIsTheOneThatSurvivesARestart() throws Exception {
    DatabaseConnection first = provider.create(a, DatabaseSpec.empty());
    DatabaseConnection second = provider.create(a, DatabaseSpec.empty());
    server.restart();
    assertThat(canLogIn(first)).isFalse();
    assertThat(canLogIn(second)).isTrue();
  }

  @Test
  void listFindsAUserWhoseRegistryAndKeysAreGoneAndDropRemovesIt() throws Exception {
    DatabaseConnection ca = provider.create(a, DatabaseSpec.empty());
    server.restart(); // no data persistence: the registry hashes are gone, the user is not
    try (Jedis admin = server.admin()) {
      assertThat(admin.exists(RedisDatabaseProvider.ACL_USERS)).isFalse();
    }
    assertThat(provider.list()).containsExactly(a);
    assertThat(server.provider().installation(dev.preview.spi.Installation.builder().instance("other").build()).build().list())
        .isEmpty();

    provider.drop(a);
    assertThat(provider.list()).isEmpty();
    server.restart();
    assertThat(canLogIn(ca)).isFalse();
    assertThat(provider.list()).isEmpty();
  }

  @Test
  void reconcileRemovesTheUserOfAClosedPrThatOnlyTheAclfileRemembers() throws Exception {
    DatabaseConnection ca = provider.create(a, DatabaseSpec.empty()); // then the orchestrator and the server went down
    server.restart();
    FakePullRequestSource source = new FakePullRequestSource();
    source.put(PullRequest.open(a, "d".repeat(40), "f1", "main").withState(PullRequest.State.CLOSED));
    AppTemplate app = AppTemplate.builder().image("registry.example/shop:latest")
        .readinessTimeout(Duration.ofSeconds(5)).readinessInterval(Duration.ofMillis(10)).build();
    try (PreviewOrchestrator orchestrator = PreviewOrchestrator.builder().environment(new FakeEnvironmentProvider())
        .database(provider).pullRequests(source).app(app).policy(PreviewPolicy.builder().build())
        .healthCheck(url -> true).build()) {
      ReconcileReport report = orchestrator.reconcile(false);
      assertThat(report.actions()).anySatisfy(x -> {
        assertThat(x.key()).isEqualTo(a);
        assertThat(x.done()).isTrue();
      });
    }
    server.restart();
    assertThat(canLogIn(ca)).isFalse();
    assertThat(provider.list()).isEmpty();
  }

  @Test
  void aUserThatIsNotOursIsNeverAdoptedNorDropped() throws Exception {
    try (Jedis admin = server.admin()) {
      admin.aclSetUser(provider.userOf(a), "on", ">someone-elses", "~*", "+@all");
    }
    assertThatThrownBy(() -> provider.create(a, DatabaseSpec.empty())).isInstanceOf(ProviderException.class)
        .hasMessageContaining("exists but is not managed by preview").hasMessageContaining("refusing to adopt");
    assertThatThrownBy(() -> provider.drop(a)).isInstanceOf(ProviderException.class).hasMessageContaining("not dropping it");
    try (Jedis admin = server.admin()) {
      assertThat(admin.aclGetUser(provider.userOf(a)).getKeys()).contains("~*"); // untouched
      assertThat(admin.exists(RedisDatabaseProvider.ACL_USERS)).isFalse(); // nothing half-created
    }
  }

  @Test
  void aUserMarkedForAnotherPreviewIsNeverAdopted() throws Exception {
    provider.create(b, DatabaseSpec.empty());
    String line;
    try (Jedis admin = server.admin()) {
      line = admin.aclList().stream().filter(l -> l.startsWith("user " + provider.userOf(b) + " ")).findFirst().orElseThrow();
      // forge: a's name carrying b's mark (what a hash collision of the names would look like)
      String mark = line.substring(line.indexOf("~" + provider.prefixOf(b) + RedisDatabaseProvider.MARK_TAG)).split(" ")[0];
      admin.aclSetUser(provider.userOf(a), "on", ">x", mark.replace(provider.prefixOf(b), provider.prefixOf(a)));
    }
    assertThatThrownBy(() -> provider.create(a, DatabaseSpec.empty())).isInstanceOf(ProviderException.class)
        .hasMessageContaining("is registered to preview " + b);
  }
}
