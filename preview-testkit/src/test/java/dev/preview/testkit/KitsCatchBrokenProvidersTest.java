package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.Secret;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * A kit that passes everything proves nothing: here each kit runs (through the JUnit Platform
 * Launcher, with its own setup and cleanup) against a provider broken in one way, and must fail
 * exactly the test about that breakage while the others still pass.
 */
class KitsCatchBrokenProvidersTest {

  /** Runs every test of {@code kit} and returns each test method's result by name. */
  private static Map<String, TestExecutionResult> run(Class<?> kit) {
    Map<String, TestExecutionResult> results = new TreeMap<>();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(
        LauncherDiscoveryRequestBuilder.request().selectors(DiscoverySelectors.selectClass(kit)).build(),
        new TestExecutionListener() {
          @Override
          public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            id.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                .ifPresent(m -> {
                  synchronized (results) {
                    results.put(m.getMethodName(), result);
                  }
                });
          }
        });
    return results;
  }

  private static List<String> failed(Map<String, TestExecutionResult> results) {
    List<String> names = new ArrayList<>();
    results.forEach((name, r) -> {
      if (r.getStatus() == TestExecutionResult.Status.FAILED) {
        assertThat(r.getThrowable()).as("%s fails with an assertion, not a crash", name)
            .get().isInstanceOf(AssertionError.class);
        names.add(name);
      }
    });
    return names;
  }

  @Test
  void environmentKitCatchesAProviderThatListsFromMemory() {
    Map<String, TestExecutionResult> results = run(ListsFromMemory.class);

    assertThat(results).hasSizeGreaterThanOrEqualTo(9);
    assertThat(failed(results)).containsExactly("aNewInstanceListsTheSameEnvironments");
  }

  @Test
  void environmentKitCatchesSecretsInLabelsAndDuplicatesOnReapply() {
    assertThat(failed(run(PutsSecretsInLabels.class)))
        .containsExactly("secretsNeverAppearInLabelsOrInWhatIsReturned");
    assertThat(failed(run(AddsOnEveryApply.class)))
        .contains("applyIsIdempotent", "applyOfANewRevisionUpdatesTheEnvironment");
  }

  @Test
  void databaseKitCatchesSharedCredentialsAndLeakedPasswords() {
    assertThat(failed(run(SharesOnePassword.class)))
        .containsExactly("twoPreviewsGetDifferentNamesAndCredentials");
    assertThat(failed(run(LeaksThePasswordInEnv.class)))
        .containsExactly("thePasswordIsNeverInPlainTextOutsideSecretEnv");
  }

  @Test
  void dnsKitCatchesATakeoverOfAnotherPreviewsRecord() {
    assertThat(failed(run(OverwritesOthersRecords.class)))
        .containsExactly("upsertOfAHostnameOwnedByAnotherKeyIsRefused");
  }

  @Test
  void scmKitCatchesANotifierThatPostsANewCommentEachTime() {
    assertThat(failed(run(PostsNewComments.class))).containsExactlyInAnyOrder(
        "aLifecycleLeavesOneCommentThatShowsTheLatestState",
        "publishingTheSameStatusTwiceLeavesOneComment",
        "twoPullRequestsGetOneCommentEach",
        "aFailedStatusShowsTheFailedStepAndTheLogTail",
        "publishedReadsBackWhatThePullRequestShows",
        "aNewInstanceReadsBackWhatAnEarlierOnePublished");
  }

  @Test
  void kitsLeaveNothingBehindOnTheInfrastructure() {
    assertThat(failed(run(SharedInfrastructure.class))).isEmpty();
    assertThat(SharedInfrastructure.INFRA.applied()).as("the kit did apply things").isNotEmpty();
    assertThat(SharedInfrastructure.INFRA.keys()).as("and deleted all of them").isEmpty();

    assertThat(failed(run(SharedServer.class))).isEmpty();
    assertThat(SharedServer.SERVER.keys()).isEmpty();
    assertThat(SharedServer.SERVER.faults().calls("database.create")).isPositive();

    assertThat(failed(run(SharedZone.class))).isEmpty();
    assertThat(SharedZone.ZONE.records()).isEmpty();
    assertThat(SharedZone.ZONE.faults().calls("dns.upsert")).isPositive();
  }

  static class SharedInfrastructure extends EnvironmentProviderKit {
    static final FakeEnvironmentProvider INFRA = new FakeEnvironmentProvider();

    @Override
    protected EnvironmentProvider createProvider() {
      return INFRA.reopen();
    }

    @Override
    protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
      return EnvironmentSpec.builder(key, revision);
    }
  }

  static class SharedServer extends DatabaseProviderKit {
    static final FakeDatabaseProvider SERVER = new FakeDatabaseProvider();

    @Override
    protected DatabaseProvider createProvider() {
      return SERVER.reopen();
    }

    @Override
    protected void assertUsable(DatabaseConnection c) {
      assertThat(SERVER.accepts(c)).isTrue();
    }
  }

  static class SharedZone extends DnsProviderKit {
    static final FakeDnsProvider ZONE = new FakeDnsProvider();

    @Override
    protected DnsProvider createProvider() {
      return ZONE.reopen();
    }

    @Override
    protected String zone() {
      return "preview.test";
    }
  }

  // ---- broken environment providers ----

  static class ListsFromMemory extends EnvironmentProviderKit {
    private final FakeEnvironmentProvider infra = new FakeEnvironmentProvider();

    @Override
    protected EnvironmentProvider createProvider() {
      return new MemoryListing(infra.reopen());
    }

    @Override
    protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
      return EnvironmentSpec.builder(key, revision).command(List.of("app"));
    }
  }

  /** Answers find() and list() from what this instance applied: forgets everything on restart. */
  static final class MemoryListing extends Delegating {
    private final Map<PreviewKey, Environment> seen = new ConcurrentHashMap<>();

    MemoryListing(FakeEnvironmentProvider real) {
      super(real);
    }

    @Override
    public String name() {
      return "memory";
    }

    @Override
    public Environment apply(EnvironmentSpec spec) {
      Environment e = super.apply(spec);
      seen.put(spec.key(), e);
      return e;
    }

    @Override
    public Optional<Environment> find(PreviewKey key) {
      return Optional.ofNullable(seen.get(key));
    }

    @Override
    public List<Environment> list() {
      return List.copyOf(seen.values());
    }

    @Override
    public void delete(PreviewKey key) {
      super.delete(key);
      seen.remove(key);
    }

    @Override
    public void suspend(PreviewKey key) {
      super.suspend(key);
      super.find(key).ifPresent(e -> seen.put(key, e));
    }

    @Override
    public Environment resume(PreviewKey key) {
      Environment e = super.resume(key);
      seen.put(key, e);
      return e;
    }
  }

  static class PutsSecretsInLabels extends ListsFromMemory {
    @Override
    protected EnvironmentProvider createProvider() {
      FakeEnvironmentProvider real = super.infra.reopen();
      return new Delegating(real) {
        @Override
        public Environment apply(EnvironmentSpec spec) {
          EnvironmentSpec.Builder leaky = spec.toBuilder();
          spec.secrets().forEach((name, value) -> leaky.label("secret-" + name.toLowerCase(), value.reveal()));
          return real.apply(leaky.build());
        }
      };
    }
  }

  static class AddsOnEveryApply extends ListsFromMemory {
    @Override
    protected EnvironmentProvider createProvider() {
      FakeEnvironmentProvider real = super.infra.reopen();
      List<Environment> extra = new ArrayList<>();
      return new Delegating(real) {
        @Override
        public Environment apply(EnvironmentSpec spec) {
          Environment e = real.apply(spec);
          synchronized (extra) {
            if (real.applied(spec.key()).size() > 1) {
              extra.add(e);
            }
          }
          return e;
        }

        @Override
        public List<Environment> list() {
          List<Environment> all = new ArrayList<>(real.list());
          synchronized (extra) {
            extra.removeIf(e -> real.find(e.key()).isEmpty());
            all.addAll(extra);
          }
          return all;
        }
      };
    }
  }

  /** Forwards everything to a fake; subclasses break one method. */
  static class Delegating implements EnvironmentProvider {
    private final FakeEnvironmentProvider real;

    Delegating(FakeEnvironmentProvider real) {
      this.real = real;
    }

    @Override
    public String name() {
      return "delegating";
    }

    @Override
    public Environment apply(EnvironmentSpec spec) {
      return real.apply(spec);
    }

    @Override
    public Optional<Environment> find(PreviewKey key) {
      return real.find(key);
    }

    @Override
    public List<Environment> list() {
      return real.list();
    }

    @Override
    public void delete(PreviewKey key) {
      real.delete(key);
    }

    @Override
    public boolean supportsSuspend() {
      return true;
    }

    @Override
    public void suspend(PreviewKey key) {
      real.suspend(key);
    }

    @Override
    public Environment resume(PreviewKey key) {
      return real.resume(key);
    }
  }

  // ---- broken database providers ----

  static class SharesOnePassword extends DatabaseProviderKit {
    final FakeDatabaseProvider server = new FakeDatabaseProvider();

    @Override
    protected DatabaseProvider createProvider() {
      FakeDatabaseProvider real = server.reopen();
      return new DatabaseProvider() {
        @Override
        public String name() {
          return "shared";
        }

        @Override
        public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
          return transform(real.create(key, spec));
        }

        @Override
        public void drop(PreviewKey key) {
          real.drop(key);
        }

        @Override
        public List<PreviewKey> list() {
          return real.list();
        }
      };
    }

    DatabaseConnection transform(DatabaseConnection c) {
      return new DatabaseConnection(c.name(), c.url(), "app", Secret.of("one-password-for-all"),
          c.env(), Map.of("DATABASE_URL", Secret.of("fake://app:one-password-for-all@db/" + c.name())));
    }

    @Override
    protected void assertUsable(DatabaseConnection c) {
      assertThat(c.name()).isNotBlank();
    }
  }

  static class LeaksThePasswordInEnv extends SharesOnePassword {
    @Override
    DatabaseConnection transform(DatabaseConnection c) {
      Map<String, String> env = new HashMap<>(c.env());
      env.put("DATABASE_URL", c.secretEnv().get("DATABASE_URL").reveal());
      return new DatabaseConnection(c.name(), c.url(), c.username(), c.password(), env, c.secretEnv());
    }

    @Override
    protected void assertUsable(DatabaseConnection c) {
      assertThat(server.accepts(c)).isTrue();
    }
  }

  // ---- broken DNS provider ----

  static class OverwritesOthersRecords extends DnsProviderKit {
    private final Map<String, DnsRecord> zone = new ConcurrentHashMap<>();

    @Override
    protected DnsProvider createProvider() {
      return new DnsProvider() {
        @Override
        public String name() {
          return "careless";
        }

        @Override
        public void upsert(DnsRecord record) {
          zone.put(record.hostname(), record);
        }

        @Override
        public void delete(String hostname) {
          zone.remove(hostname);
        }

        @Override
        public List<DnsRecord> list() {
          return List.copyOf(zone.values());
        }
      };
    }

    @Override
    protected String zone() {
      return "preview.test";
    }
  }

  // ---- broken notifier ----

  static class PostsNewComments extends ScmNotifierKit {
    private final Map<PreviewKey, List<String>> comments = new ConcurrentHashMap<>();

    @Override
    protected ScmNotifier createProvider() {
      return new ScmNotifier() {
        @Override
        public String name() {
          return "chatty";
        }

        @Override
        public void publish(PreviewStatus status) {
          comments.computeIfAbsent(status.key(), k -> new ArrayList<>()).add(FakeScmNotifier.render(status));
        }
      };
    }

    @Override
    protected List<String> stickyComments(PreviewKey key) {
      return comments.getOrDefault(key, List.of());
    }
  }
}
