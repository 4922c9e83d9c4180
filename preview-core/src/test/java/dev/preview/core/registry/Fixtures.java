package dev.preview.core.registry;

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
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.Secret;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Provider factories registered by {@code registry-fixtures/META-INF/services} (loaded only by tests
 * that ask for that directory) or handed to the registry in code. Each provider records the settings
 * it read so tests can check what reached it.
 */
public final class Fixtures {
  /** How many providers were built, by any factory here (factories must not build on discovery). */
  public static final AtomicInteger CREATED = new AtomicInteger();

  private Fixtures() {}

  /** An environment provider that reads {@code port}, {@code greeting} and the secret {@code token}. */
  public static class TestEnv implements EnvironmentProvider.Factory {
    private final String name;

    public TestEnv() {
      this("test-env");
    }

    public TestEnv(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public EnvironmentProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      int port = config.integer("port", 8080, 1, 65535);
      String greeting = config.string("greeting", "hello");
      Optional<Secret> token = config.secret("token");
      config.validate();
      CREATED.incrementAndGet();
      return new Env(name, getClass().getName(), port, greeting, token.orElse(null));
    }
  }

  /** Two factories with the same name; the registry must pick {@code TwinA} (first by class name). */
  public static final class TwinB extends TestEnv {
    public TwinB() {
      super("twin");
    }
  }

  public static final class TwinA extends TestEnv {
    public TwinA() {
      super("twin");
    }
  }

  /** A registration whose constructor throws: must be skipped, not fatal. */
  public static final class Exploding implements EnvironmentProvider.Factory {
    public Exploding() {
      throw new IllegalStateException("boom in constructor");
    }

    @Override
    public String name() {
      return "exploding";
    }

    @Override
    public EnvironmentProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      throw new AssertionError();
    }
  }

  /** What a {@link TestEnv} built. */
  public static final class Env implements EnvironmentProvider {
    public final String name;
    public final String factoryClass;
    public final int port;
    public final String greeting;
    public final Secret token;
    public volatile boolean closed;

    Env(String name, String factoryClass, int port, String greeting, Secret token) {
      this.name = name;
      this.factoryClass = factoryClass;
      this.port = port;
      this.greeting = greeting;
      this.token = token;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Environment apply(EnvironmentSpec spec) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<Environment> find(PreviewKey key) {
      return Optional.empty();
    }

    @Override
    public List<Environment> list() {
      return List.of();
    }

    @Override
    public void delete(PreviewKey key) {}

    @Override
    public void close() {
      closed = true;
    }

    @Override
    public String toString() {
      return "Env{" + name + ", port=" + port + ", token=" + token + "}";
    }
  }

  /** A database provider that needs {@code baseline}. */
  public static final class TestDb implements DatabaseProvider.Factory {
    @Override
    public String name() {
      return "test-db";
    }

    @Override
    public DatabaseProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      String baseline = config.requiredString("baseline");
      config.validate();
      CREATED.incrementAndGet();
      return new DatabaseProvider() {
        @Override
        public String name() {
          return "test-db";
        }

        @Override
        public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
          throw new UnsupportedOperationException(baseline);
        }

        @Override
        public void drop(PreviewKey key) {}

        @Override
        public List<PreviewKey> list() {
          return List.of();
        }
      };
    }
  }

  /** A DNS provider that needs {@code zone}. */
  public static final class TestDns implements DnsProvider.Factory {
    @Override
    public String name() {
      return "test-dns";
    }

    @Override
    public DnsProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      String zone = config.requiredString("zone");
      config.integer("ttl", 60, 1, 86400);
      config.validate();
      CREATED.incrementAndGet();
      return new DnsProvider() {
        @Override
        public String name() {
          return "test-dns";
        }

        @Override
        public void upsert(DnsRecord record) {}

        @Override
        public void delete(String hostname) {}

        @Override
        public List<DnsRecord> list() {
          return List.of();
        }

        @Override
        public String toString() {
          return "dns " + zone;
        }
      };
    }
  }

  /** A notifier that needs the secret {@code token} and reads {@code apiUrl} and {@code comment}. */
  public static final class TestScm implements ScmNotifier.Factory {
    @Override
    public String name() {
      return "test-scm";
    }

    @Override
    public ScmNotifier create(ProviderContext context) {
      ProviderConfig config = context.config();
      Secret token = config.requiredSecret("token");
      config.string("apiUrl", "https://scm.example");
      config.bool("comment", true);
      config.validate();
      CREATED.incrementAndGet();
      return new Notifier(token);
    }
  }

  public static final class Notifier implements ScmNotifier {
    public final Secret token;

    Notifier(Secret token) {
      this.token = token;
    }

    @Override
    public String name() {
      return "test-scm";
    }

    @Override
    public void publish(PreviewStatus status) {}
  }

  /** A pull request source with the notifier's name, reading only {@code token} and {@code apiUrl}. */
  public static final class TestPrs implements PullRequestSource.Factory {
    @Override
    public String name() {
      return "test-scm";
    }

    @Override
    public PullRequestSource create(ProviderContext context) {
      ProviderConfig config = context.config();
      Secret token = config.requiredSecret("token");
      String api = config.string("apiUrl", "https://scm.example");
      config.validate();
      CREATED.incrementAndGet();
      return new Prs(token, api);
    }
  }

  public static final class Prs implements PullRequestSource {
    public final Secret token;
    public final String apiUrl;

    Prs(Secret token, String apiUrl) {
      this.token = token;
      this.apiUrl = apiUrl;
    }

    @Override
    public String name() {
      return "test-scm";
    }

    @Override
    public Optional<PullRequest> find(PreviewKey key) {
      return Optional.empty();
    }

    @Override
    public List<PullRequest> listOpen(String repository) {
      return List.of();
    }
  }

  /** Config values as a test map. */
  public static Map<String, Object> map(Object... kv) {
    java.util.LinkedHashMap<String, Object> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
