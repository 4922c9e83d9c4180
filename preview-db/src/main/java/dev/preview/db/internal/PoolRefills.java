package dev.preview.db.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every warm database pool (PostgreSQL, MySQL/MariaDB, SQLite) shares, whatever its members
 * are: one background thread that refills, where a refill asked for while one is queued is that
 * same refill; the hand-out counters; and a stop that lets a copy under way finish. The engine's
 * pool supplies the refill itself.
 */
public final class PoolRefills implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PoolRefills.class);

  /** One refill: makes the pool whole and returns how many members are ready. */
  @FunctionalInterface
  public interface Refill {
    int run() throws Exception;
  }

  private final String engine;
  private final Object baseline;
  private final String fallback;
  private final Refill refill;
  private final ThreadPoolExecutor refiller;
  private final AtomicLong handedOut = new AtomicLong();
  private final AtomicLong missed = new AtomicLong();
  private final Queue<String> taken = new ConcurrentLinkedQueue<>();

  /**
   * @param engine the provider's name, first word of every log line (e.g. {@code postgres})
   * @param baseline what the pool copies, named in the log
   * @param fallback what a create does while refills fail (e.g. {@code clone}, {@code copy})
   */
  public PoolRefills(String engine, Object baseline, String fallback, Refill refill) {
    this.engine = engine;
    this.baseline = baseline;
    this.fallback = fallback;
    this.refill = refill;
    this.refiller = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1), r -> {
      Thread t = new Thread(r, engine + "-pool-refill");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.DiscardPolicy());
    refiller.allowCoreThreadTimeOut(true);
  }

  /** Asks the background thread to refill (no-op if one is already queued, or after {@link #close}). */
  public void soon() {
    try {
      refiller.execute(this::quietly);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void quietly() {
    try {
      refill.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.warn("{}: refilling the pool of {} failed ({}); creates {} directly until it works", engine, baseline,
          e instanceof SQLException s ? "SQL state " + s.getSQLState() : e.getClass().getSimpleName(), fallback);
    }
  }

  /** Counts a member handed out (by its name, kept for tests and operators). */
  public void handedOut(String member) {
    handedOut.incrementAndGet();
    taken.add(member);
  }

  /** Counts a create that found no current member and made its database the slow way. */
  public void missed() {
    missed.incrementAndGet();
  }

  public long handedOutCount() {
    return handedOut.get();
  }

  public long missedCount() {
    return missed.get();
  }

  /** The members handed out so far, in order. */
  public List<String> taken() {
    return List.copyOf(taken);
  }

  /** The first 4 bytes of SHA-256 of {@code s}, in hex: part of a member's name that ties it to its installation and baseline. */
  public static String shortHash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops refilling: a copy under way finishes (up to 30 s), no further one starts. */
  @Override
  public void close() {
    refiller.shutdownNow();
    try {
      refiller.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
