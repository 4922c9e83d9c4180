package dev.preview.db.sqlite;

import dev.preview.db.internal.PoolRefills;
import dev.preview.spi.Installation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The warm pool of the SQLite provider: copies of the baseline file made ahead of time
 * ({@code VACUUM INTO}, as a create does), so that a create renames one into place instead of
 * copying. Measured at the 20-table size (1.3 MB, ~10,100 rows): 28 ms for the copy, 2.5 ms for the
 * rename (see the module README).
 *
 * <h2>What a member is</h2>
 * A file {@code <directory>/.pool/<hash of instance and baseline path>-<fingerprint>-<random>.db}.
 * {@code list()} reads only the marks ({@code *.db.preview}) of the directory itself, so a member is
 * never a preview; it has no mark. A copy is made under a {@code .tmp} name and renamed into the
 * pool when complete, so every {@code .db} there is a whole copy.
 *
 * <h2>Hand-out</h2>
 * {@link #take} renames a current member to the preview's path ({@code rename(2)}: of two takes of
 * one member, one moves it and the other finds no file and tries the next). The preview's mark is
 * written before (as for a copy), so a crash leaves either the member in the pool, or the preview's
 * mark with or without its file: {@code list()} returns that key and the next create finishes it.
 *
 * <h2>The baseline's fingerprint</h2>
 * The baseline file's identity (inode), size and modification time, and those of its {@code -wal}
 * file: {@code SqliteBaseline.refresh()} replaces the file (a new inode), and a write changes the
 * time. A member's name carries the fingerprint it was copied at; other members are never handed out
 * and are deleted by the next refill. File times have the kernel's tick as resolution, so a refill
 * copies only once the baseline has been still for {@link #SETTLE}, and drops a copy during which
 * the fingerprint moved.
 */
final class SqlitePool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlitePool.class);
  static final String DIRECTORY = ".pool";
  static final Duration SETTLE = Duration.ofMillis(1100);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path pool;
  private final Path baseline;
  private final int size;
  private final String prefix;
  private final PoolRefills refills;
  /** How old a {@code .tmp} copy must be before a refill takes it for a crashed one (another process may be copying). */
  volatile Duration crashGrace = Duration.ofMinutes(10);
  /** Test seam: runs once a take has listed the members it will try, before it moves one. */
  volatile Runnable beforeTake = () -> {};
  /** Test seam: runs right after a member was renamed to the preview's path. */
  volatile Runnable afterTake = () -> {};

  SqlitePool(Path directory, Path baseline, int size, Installation installation) {
    this.pool = directory.resolve(DIRECTORY);
    this.baseline = baseline;
    this.size = size;
    this.prefix = hex(sha256(installation.instance() + "\0" + baseline), 4) + "-";
    this.refills = new PoolRefills("sqlite", baseline, "copy", this::refill);
  }

  int size() {
    return size;
  }

  Path baseline() {
    return baseline;
  }

  Path directory() {
    return pool;
  }

  long handedOut() {
    return refills.handedOutCount();
  }

  long missed() {
    return refills.missedCount();
  }

  /** The members handed out by this pool, by file name, in order (for tests and operators). */
  List<String> taken() {
    return refills.taken();
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] b, int n) {
    return HexFormat.of().formatHex(b, 0, n);
  }

  /** The baseline's fingerprint (16 hex digits) and when it last changed; empty if it does not exist. */
  record Fingerprint(String digest, Instant changed) {}

  Optional<Fingerprint> fingerprint() throws IOException {
    StringBuilder s = new StringBuilder();
    Instant changed = Instant.EPOCH;
    for (Path f : List.of(baseline, Path.of(baseline + "-wal"))) {
      BasicFileAttributes a;
      try {
        a = Files.readAttributes(f, BasicFileAttributes.class);
      } catch (NoSuchFileException e) {
        if (f.equals(baseline)) {
          return Optional.empty();
        }
        s.append("-|");
        continue;
      }
      Instant m = a.lastModifiedTime().toInstant();
      changed = m.isAfter(changed) ? m : changed;
      s.append(a.fileKey()).append(',').append(a.size()).append(',').append(m).append('|');
    }
    return Optional.of(new Fingerprint(hex(sha256(s.toString()), 8), changed));
  }

  /** This pool's member files of fingerprint {@code digest} (or all of this pool's, if null). */
  private List<Path> members(String digest) throws IOException {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(pool)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(pool, prefix + (digest == null ? "*" : digest + "-*") + ".db")) {
      ds.forEach(out::add);
    }
    return out;
  }

  /**
   * Renames a current member to {@code target} (which must not exist); false if there is none (the
   * caller copies as before). Asks for a refill either way.
   */
  boolean take(Path target) throws IOException {
    try {
      Optional<Fingerprint> fp = fingerprint();
      if (fp.isEmpty()) {
        return false;
      }
      List<Path> ready = members(fp.get().digest());
      Collections.shuffle(ready); // two creates at once mostly try different members first
      beforeTake.run();
      for (Path member : ready) {
        try {
          Files.move(member, target); // rename(2); never replaces an existing target
        } catch (NoSuchFileException gone) {
          continue; // a concurrent take (or a refill) got it first
        } catch (java.nio.file.FileAlreadyExistsException raced) {
          return true; // another create for the same key made the file meanwhile: keep it (never reset data)
        }
        refills.handedOut(member.getFileName().toString());
        afterTake.run();
        LOG.info("sqlite: handed pool member {} out as {}", member.getFileName(), target);
        return true;
      }
      refills.missed();
      return false;
    } finally {
      refillSoon();
    }
  }

  void refillSoon() {
    refills.soon();
  }

  /**
   * Deletes members of another fingerprint and crashed copies, then copies until {@link #size}
   * current members exist; returns how many are ready.
   */
  synchronized int refill() throws IOException, SQLException, InterruptedException {
    Optional<Fingerprint> fp = fingerprint();
    if (fp.isEmpty()) {
      LOG.warn("sqlite: baseline {} does not exist: no pool", baseline);
      return 0;
    }
    Files.createDirectories(pool);
    for (Path m : members(null)) {
      if (!m.getFileName().toString().startsWith(prefix + fp.get().digest() + "-")) {
        Files.deleteIfExists(m);
        LOG.info("sqlite: deleted pool member {} (older baseline)", m.getFileName());
      }
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(pool, prefix + "*.tmp")) {
      for (Path t : ds) {
        if (Files.getLastModifiedTime(t).toInstant().isBefore(Instant.now().minus(crashGrace))
            || crashGrace.isZero()) {
          Files.deleteIfExists(t);
          LOG.info("sqlite: deleted unfinished pool copy {}", t.getFileName());
        }
      }
    }
    int ready = members(fp.get().digest()).size();
    int attempts = 0;
    while (ready < size && attempts++ < size + 3 && !Thread.currentThread().isInterrupted()) {
      Fingerprint before = fingerprint().orElse(null);
      for (int i = 0; before != null && before.changed().isAfter(Instant.now().minus(SETTLE)) && i < 15; i++) {
        Thread.sleep(100); // file times have the kernel tick's resolution: copy once the baseline is still
        before = fingerprint().orElse(null);
      }
      if (before == null || before.changed().isAfter(Instant.now().minus(SETTLE))) {
        return ready;
      }
      String name = prefix + before.digest() + "-" + hex(random(), 6);
      Path tmp = pool.resolve(name + ".tmp");
      try {
        SQLiteConfig readOnly = new SQLiteConfig();
        readOnly.setReadOnly(true);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + baseline, readOnly.toProperties());
            PreparedStatement st = c.prepareStatement("VACUUM INTO ?")) {
          st.setString(1, tmp.toString());
          st.execute();
        }
        Optional<Fingerprint> after = fingerprint();
        if (after.isEmpty() || !after.get().digest().equals(before.digest())) {
          continue; // the baseline moved during the copy
        }
        Files.move(tmp, pool.resolve(name + ".db"), StandardCopyOption.ATOMIC_MOVE);
        ready++;
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    return ready;
  }

  private static byte[] random() {
    byte[] b = new byte[6];
    RANDOM.nextBytes(b);
    return b;
  }

  /** Current members now. */
  int ready() throws IOException {
    Optional<Fingerprint> fp = fingerprint();
    return fp.isEmpty() ? 0 : members(fp.get().digest()).size();
  }

  /** Deletes every member of this pool. */
  synchronized int drain() throws IOException {
    int n = 0;
    for (Path m : members(null)) {
      if (Files.deleteIfExists(m)) {
        n++;
      }
    }
    return n;
  }

  /** Stops the refill: a copy under way finishes (up to 30 s), no further one starts. */
  @Override
  public void close() {
    refills.close();
  }
}
