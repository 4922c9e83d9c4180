package dev.preview.db.sqlite;

import dev.preview.db.internal.BranchMigrationsDir;
import dev.preview.db.internal.OwnerMark;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The embedded default: one SQLite file per preview, copied from a baseline file, in one directory.
 *
 * <p>A preview's database is {@code <directory>/<Names.dnsLabel(key)>.db} (in a named installation,
 * {@code <instance>-...-<hash>.db}, see {@link Names#dnsLabel(dev.preview.spi.Installation, dev.preview.spi.PreviewKey)}). Beside it, a small side file
 * {@code <name>.db.preview} holds the ownership mark (the key, the installation's instance and labels,
 * see {@link OwnerMark}; {@link #list()} returns only this installation's keys); it is
 * written before the database and deleted after it, so {@link #list()} (which reads the directory,
 * never memory) sees every preview that has anything left on disk, including half-done ones.
 *
 * <p>The copy is made with {@code VACUUM INTO}, which reads a consistent snapshot of the baseline
 * even while another process writes to it (WAL included), into a temporary file that is then moved
 * into place atomically: a crash never leaves a half-copied database under the final name.
 *
 * <p>With {@link Builder#pool} ({@code pool: {size: N}}) copies are made ahead of time in
 * {@code <directory>/.pool} and a create renames one into place ({@link SqlitePool}). Off by default.
 *
 * <p>Env vars handed to the app: {@code DATABASE_URL=jdbc:sqlite:<absolute path>} and
 * {@code DATABASE_PATH=<absolute path>}. SQLite has no users: isolation is the file system's.
 *
 * <p>Thread-safe; {@link #create} and {@link #drop} are idempotent.
 */
public final class SqliteDatabaseProvider implements DatabaseProvider {
  /** The name used in {@code preview.yaml}: {@code database.provider: sqlite}. */
  public static final String NAME = "sqlite";
  static final String DB_SUFFIX = ".db";
  static final String MARK_SUFFIX = ".db.preview";
  private static final Logger LOG = LoggerFactory.getLogger(SqliteDatabaseProvider.class);

  private final Path directory;
  private final Path baseline;
  private final String branchMigrations;
  private final Installation installation;
  /** The warm pool ({@code pool: {size: N}}), or null when off (the default). */
  private final SqlitePool pool;

  private SqliteDatabaseProvider(Builder b) {
    this.installation = b.installation;
    this.directory = b.directory.toAbsolutePath().normalize();
    this.baseline = b.baseline == null ? null : b.baseline.toAbsolutePath().normalize();
    this.branchMigrations = b.branchMigrations;
    this.pool = b.poolSize > 0 ? new SqlitePool(directory, baseline, b.poolSize, installation) : null;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The directory holding the previews' files. */
  public Path directory() {
    return directory;
  }

  /** Where the database of {@code key} lives (whether it exists or not). */
  public Path path(PreviewKey key) {
    return directory.resolve(Names.dnsLabel(installation, key) + DB_SUFFIX);
  }

  /**
   * Creates the preview's file from the baseline ({@code spec.baseline()} as a path if set, else the
   * configured baseline, else an empty database). An existing file is kept as it is.
   */
  @Override
  public DatabaseConnection create(PreviewKey key, DatabaseSpec spec) {
    Objects.requireNonNull(key, "key");
    DatabaseSpec s = spec == null ? DatabaseSpec.empty() : spec;
    Path db = path(key);
    Path mark = markFile(db);
    try {
      Files.createDirectories(directory);
      Optional<String> owner = foreignOwner(mark, key);
      if (owner.isPresent()) {
        throw new ProviderException(NAME, "file " + db + " belongs to " + owner.get() + ", not to " + key
            + " of installation " + installation.instance() + " (hash collision); remove it by hand", false);
      }
      // The mark first: a file without a mark is never ours, a mark without a file is a half-done
      // create that list() reports and this call (or drop) finishes.
      writeMark(mark, OwnerMark.encode(installation, key, s.labels()));
      if (!Files.exists(db)) {
        Path source = s.baseline() != null ? Path.of(s.baseline()).toAbsolutePath().normalize() : baseline;
        if (pool != null && pool.baseline().equals(source) && pool.take(db)) {
          LOG.info("sqlite: created {} for {} from the pool of {}", db, key, source);
        } else {
          copy(source, db);
          LOG.info("sqlite: created {} for {} from {}", db, key, source == null ? "nothing (empty)" : source);
        }
      }
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot create " + db + ": " + e, true, e);
    }
    BranchMigrationsDir.resolve(NAME, key, branchMigrations, s.buildContext())
        .ifPresent(dir -> BranchMigrations.apply(db, dir));
    return connection(db);
  }

  private void copy(Path source, Path db) throws IOException {
    Path tmp = directory.resolve("." + db.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      if (source == null) {
        // An empty but valid database: SQLite writes the header on first use of the file.
        try (Connection c = open(tmp)) {
          c.createStatement().execute("PRAGMA user_version = 0");
          c.createStatement().execute("VACUUM");
        }
      } else {
        if (!Files.isRegularFile(source)) {
          throw new ProviderException(NAME, "baseline file " + source + " does not exist; build it first or fix "
              + "database.baseline", false);
        }
        SQLiteConfig readOnly = new SQLiteConfig();
        readOnly.setReadOnly(true);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + source, readOnly.toProperties());
             PreparedStatement st = c.prepareStatement("VACUUM INTO ?")) {
          st.setString(1, tmp.toString());
          st.execute();
        }
      }
      try {
        Files.move(tmp, db, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        // another create for the same key won the race: keep its file (never reset data)
      }
    } catch (SQLException e) {
      throw new ProviderException(NAME, "cannot copy " + (source == null ? "an empty database" : source)
          + " to " + db + ": " + e.getMessage(), false, e);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static Connection open(Path file) throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + file);
  }

  private DatabaseConnection connection(Path db) {
    String url = "jdbc:sqlite:" + db;
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DATABASE_URL", url);
    env.put("DATABASE_PATH", db.toString());
    return new DatabaseConnection(db.getFileName().toString(), url, null, null, env, Map.of());
  }

  /**
   * Fills the warm pool now (deletes members of an older baseline, copies until {@code pool.size}
   * are ready) and returns how many are ready; 0 when the pool is off. {@code create} refills in the
   * background by itself: this is for start-up and for tests.
   */
  public int warmPool() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.refill();
    } catch (IOException | SQLException e) {
      throw new ProviderException(NAME, "cannot fill the pool of " + baseline + ": " + e, true, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException(NAME, "interrupted while filling the pool of " + baseline, true, e);
    }
  }

  /** The pool, for tests; null when off. */
  SqlitePool pool() {
    return pool;
  }

  /** Pool members ready now (of the baseline file as it is now); 0 when the pool is off. */
  public int poolReady() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.ready();
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot read the pool of " + baseline + ": " + e, true, e);
    }
  }

  /** Deletes every member of this installation's pool; returns how many. */
  public int drainPool() {
    if (pool == null) {
      return 0;
    }
    try {
      return pool.drain();
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot drain the pool of " + baseline + ": " + e, true, e);
    }
  }

  /** Stops the pool's background refill (its files stay, for the next start). */
  @Override
  public void close() {
    if (pool != null) {
      pool.close();
    }
  }

  @Override
  public void drop(PreviewKey key) {
    Path db = path(key);
    Path mark = markFile(db);
    try {
      Optional<String> foreign = foreignOwner(mark, key);
      if (foreign.isPresent()) {
        throw new ProviderException(NAME, "file " + db + " belongs to " + foreign.get() + ", not to " + key
            + " of installation " + installation.instance() + "; not dropping it", false);
      }
      Optional<PreviewKey> owner = readMark(mark).flatMap(m -> OwnerMark.owner(installation, m));
      for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
        Files.deleteIfExists(Path.of(db + suffix));
      }
      Files.deleteIfExists(mark);
      if (owner.isPresent()) {
        LOG.info("sqlite: dropped {} of {}", db, key);
      }
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot delete " + db + ": " + e, true, e);
    }
  }

  @Override
  public List<PreviewKey> list() {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    TreeSet<PreviewKey> keys = new TreeSet<>();
    try (DirectoryStream<Path> marks = Files.newDirectoryStream(directory, "*" + MARK_SUFFIX)) {
      for (Path mark : marks) {
        readMark(mark).flatMap(m -> OwnerMark.owner(installation, m)).ifPresent(keys::add);
      }
    } catch (IOException e) {
      throw new ProviderException(NAME, "cannot list " + directory + ": " + e, true, e);
    }
    return new ArrayList<>(keys);
  }

  private static Path markFile(Path db) {
    String f = db.getFileName().toString();
    return db.resolveSibling(f.substring(0, f.length() - DB_SUFFIX.length()) + MARK_SUFFIX);
  }

  /** The text of a mark file, or empty if there is none. */
  private static Optional<String> readMark(Path mark) throws IOException {
    try {
      return Optional.of(Files.readString(mark, StandardCharsets.UTF_8).strip());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** Who owns the file of {@code mark} if it is one of our marks for another key or installation. */
  private Optional<String> foreignOwner(Path mark, PreviewKey key) throws IOException {
    Optional<String> text = readMark(mark);
    if (text.isEmpty() || OwnerMark.key(text.get()).isEmpty()
        || OwnerMark.owner(installation, text.get()).map(key::equals).orElse(false)) {
      return Optional.empty();
    }
    return Optional.of("preview " + OwnerMark.key(text.get()).get() + " of installation "
        + OwnerMark.instance(text.get()).orElse("?"));
  }

  private void writeMark(Path mark, String text) throws IOException {
    Path tmp = directory.resolve("." + mark.getFileName() + "." + UUID.randomUUID() + ".tmp");
    Files.writeString(tmp, text + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, mark, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public String toString() {
    return "SqliteDatabaseProvider{" + directory + (baseline == null ? "" : ", baseline=" + baseline) + "}";
  }

  /** Builds a provider. Only {@link #directory} is required. */
  public static final class Builder {
    private Path directory;
    private Path baseline;
    private String branchMigrations;
    private Installation installation = Installation.defaults();
    private int poolSize;

    private Builder() {}

    /**
     * Keeps {@code size} copies of the baseline file ready in {@code <directory>/.pool}, renamed into
     * place by {@code create} (0, the default: off). Needs a {@link #baseline}.
     */
    public Builder pool(int size) {
      this.poolSize = size;
      return this;
    }

    /**
     * The installation this provider belongs to (default {@link Installation#defaults()}): its
     * instance is recorded in every owner mark and is part of every file name, and {@link #list()}
     * and {@link #drop} see only its files.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** Where the previews' files are kept (created if missing). */
    public Builder directory(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /** The file each preview's database is copied from; none means an empty database. */
    public Builder baseline(Path baseline) {
      this.baseline = baseline;
      return this;
    }

    /**
     * A directory relative to the PR's checkout ({@link DatabaseSpec#buildContext()}) holding the
     * branch's own Flyway migrations (e.g. {@code src/main/resources/db/migration}): after the copy,
     * on every create, the ones the baseline lacks are applied to the preview's file, so the preview
     * shows the branch's schema. See {@link BranchMigrations} for what a PR's SQL may not do there.
     */
    public Builder branchMigrations(String directory) {
      this.branchMigrations = directory;
      return this;
    }

    public SqliteDatabaseProvider build() {
      List<String> problems = new ArrayList<>();
      if (directory == null) {
        problems.add("sqlite: directory is required");
      }
      if (branchMigrations != null && (branchMigrations.isBlank() || Path.of(branchMigrations).isAbsolute())) {
        problems.add("sqlite: branchMigrations must be a directory relative to the PR's checkout, got \""
            + branchMigrations + "\"");
      }
      if (poolSize < 0 || poolSize > 100) {
        problems.add("sqlite: pool.size must be 0-100, got " + poolSize);
      } else if (poolSize > 0 && baseline == null) {
        problems.add("sqlite: pool needs a baseline file to copy (set baseline: <file>)");
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new SqliteDatabaseProvider(this);
    }
  }

  /**
   * {@code database.provider: sqlite}. Keys: {@code directory} (default {@code .preview/databases}),
   * {@code baseline} (a file; default none: empty databases), {@code branchMigrations} (a directory
   * relative to the PR's checkout; default none), {@code pool.size} (default off).
   */
  public static final class Factory implements DatabaseProvider.Factory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public DatabaseProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider", "build"); // build: read by SqliteBaseline.fromConfig
      String dir = config.string("directory", ".preview/databases");
      Optional<String> base = config.string("baseline");
      Optional<String> branch = config.string("branchMigrations");
      branch.filter(b -> b.isBlank() || Path.of(b).isAbsolute())
          .ifPresent(b -> config.problem("branchMigrations", "must be a directory relative to the PR's checkout"));
      int poolSize = 0;
      if (config.has("pool")) {
        ProviderConfig p = config.section("pool");
        poolSize = p.integer("size", 3, 0, 100);
        if (poolSize > 0 && base.isEmpty()) {
          config.problem("pool", "needs a baseline file to copy: set baseline: <file>");
        }
      }
      config.validate();
      return builder().directory(Path.of(dir)).baseline(base.map(Path::of).orElse(null))
          .branchMigrations(branch.orElse(null)).installation(context.installation()).pool(poolSize).build();
    }
  }
}
