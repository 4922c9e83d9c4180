package dev.preview.testkit;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * An in-memory {@link DatabaseProvider} named {@code fake}. Each preview gets a database named
 * {@link Names#postgres(PreviewKey)} at {@code fake://db/<name>} with its own user and random
 * password; {@code DATABASE_NAME} is a plain env var and {@code DATABASE_URL} (with the password) a
 * secret one. A second {@code create} returns the same facts. Instances made with {@link #reopen()}
 * share the simulated server. Thread-safe; operations {@code database.create|drop|list}.
 */
public final class FakeDatabaseProvider implements DatabaseProvider {
  public static final String NAME = "fake";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Faults faults;
  private final Server server;

  public FakeDatabaseProvider() {
    this(new Faults());
  }

  public FakeDatabaseProvider(Faults faults) {
    this(faults, new Server());
  }

  private FakeDatabaseProvider(Faults faults, Server server) {
    this.faults = Objects.requireNonNull(faults, "faults");
    this.server = server;
  }

  /** A new instance over the same simulated server and faults: a restarted process. */
  public FakeDatabaseProvider reopen() {
    return new FakeDatabaseProvider(faults, server);
  }

  public Faults faults() {
    return faults;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spec, "spec");
    return faults.call(NAME, "database.create", key, () -> {
      synchronized (server) {
        server.specs.put(key, spec);
        return server.databases.computeIfAbsent(key, FakeDatabaseProvider::newDatabase);
      }
    });
  }

  private static DatabaseConnection newDatabase(PreviewKey key) {
    String name = Names.postgres(key);
    String user = name + "_user";
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    Secret password = Secret.of(HexFormat.of().formatHex(bytes));
    String url = "fake://db/" + name;
    Map<String, String> env = Map.of("DATABASE_NAME", name);
    Map<String, Secret> secretEnv = Map.of("DATABASE_URL",
        Secret.of("fake://" + user + ":" + password.reveal() + "@db/" + name));
    return new DatabaseConnection(name, url, user, password, env, secretEnv);
  }

  @Override
  public void drop(PreviewKey key) {
    faults.run(NAME, "database.drop", key, () -> {
      synchronized (server) {
        server.databases.remove(key);
        server.specs.remove(key);
      }
    });
  }

  @Override
  public List<PreviewKey> list() {
    return faults.call(NAME, "database.list", null, () -> List.copyOf(keys()));
  }

  /** The previews that have a database now, sorted. */
  public Set<PreviewKey> keys() {
    synchronized (server) {
      return new TreeSet<>(server.databases.keySet());
    }
  }

  /** The facts {@link #create} gave for {@code key}, if its database exists. */
  public Optional<DatabaseConnection> connection(PreviewKey key) {
    synchronized (server) {
      return Optional.ofNullable(server.databases.get(key));
    }
  }

  /** The spec of the last {@link #create} for {@code key}, if its database exists. */
  public Optional<DatabaseSpec> spec(PreviewKey key) {
    synchronized (server) {
      return Optional.ofNullable(server.specs.get(key));
    }
  }

  /** Whether the simulated server would let {@code c} in: its database exists and the credentials match. */
  public boolean accepts(DatabaseConnection c) {
    synchronized (server) {
      return server.databases.values().stream().anyMatch(d -> d.name().equals(c.name())
          && d.url().equals(c.url()) && Objects.equals(d.username(), c.username())
          && d.password().equals(c.password()));
    }
  }

  /** Puts a database on the simulated server without a {@link #create} call: a leftover. */
  public FakeDatabaseProvider plant(PreviewKey key) {
    synchronized (server) {
      server.databases.computeIfAbsent(key, FakeDatabaseProvider::newDatabase);
    }
    return this;
  }

  @Override
  public String toString() {
    return "FakeDatabaseProvider" + keys();
  }

  private static final class Server {
    final Map<PreviewKey, DatabaseConnection> databases = new LinkedHashMap<>();
    final Map<PreviewKey, DatabaseSpec> specs = new LinkedHashMap<>();
  }
}
