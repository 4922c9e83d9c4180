package dev.preview.testkit;

import dev.preview.spi.ProviderException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Fault injection shared by the in-memory fakes: fail chosen calls, slow them down, hold one inside
 * the call until the test lets it go, and record how many calls ran and how many overlapped.
 *
 * <h2>Operation names</h2>
 * The fakes name their operations {@code <area>.<method>}:
 * {@code environment.apply|find|list|delete|suspend|resume|logs|relabel|rejectRevision}, {@code database.create|drop|list},
 * {@code dns.upsert|delete|list}, {@code scm.publish|published}, {@code pullRequests.find|listOpen|listClosed}.
 * Every rule and counter also answers to the short name after the dot, so {@code failNth("apply", 2)}
 * and {@code failNth("environment.apply", 2)} both work. A short name shared by several fakes on one
 * {@code Faults} ({@code find}, {@code list}, {@code delete}) counts the calls of all of them; use the
 * full name to aim at one.
 *
 * <h2>Concurrency</h2>
 * Thread-safe. {@link #before} is called at the start of each call and {@link #after} at its end (the
 * fakes do both), which is how {@link #maxConcurrentPerKey()} and {@link #maxConcurrent()} see calls
 * overlap. Calls without a key ({@code list}, {@code listOpen}) are counted but not tracked for
 * concurrency.
 */
public final class Faults {
  private final Object lock = new Object();
  private final Map<String, Integer> calls = new HashMap<>();
  private final Map<String, Rule> rules = new HashMap<>();
  private final Map<Object, Integer> inFlightPerKey = new HashMap<>();
  private final List<Gate> gates = new ArrayList<>();
  private final List<java.util.function.BiConsumer<String, Object>> hooks = new java.util.concurrent.CopyOnWriteArrayList<>();
  private int inFlight;
  private int maxConcurrent;
  private int maxConcurrentPerKey;

  /** The {@code n}-th call (1-based, counted from now) of {@code operation} throws a non-retryable {@link ProviderException}. */
  public Faults failNth(String operation, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("n is 1-based, got " + n);
    }
    synchronized (lock) {
      rule(operation).failAt.add(calls.getOrDefault(operation, 0) + n);
    }
    return this;
  }

  /** The next call of {@code operation} fails. Same as {@code failNth(operation, 1)}. */
  public Faults failNext(String operation) {
    return failNth(operation, 1);
  }

  /** Every call of {@code operation} fails until {@link #heal} or {@link #clear}. */
  public Faults failAlways(String operation) {
    synchronized (lock) {
      rule(operation).always = true;
    }
    return this;
  }

  /** Stops failing {@code operation} (both {@link #failAlways} and pending {@link #failNth}). */
  public Faults heal(String operation) {
    synchronized (lock) {
      Rule r = rules.get(Objects.requireNonNull(operation, "operation"));
      if (r != null) {
        r.always = false;
        r.failAt.clear();
      }
    }
    return this;
  }

  /**
   * Every call of {@code operation} waits {@code d} before doing its work (still counted as in
   * flight while it waits). {@link Duration#ZERO} removes the delay.
   */
  public Faults delay(String operation, Duration d) {
    Objects.requireNonNull(d, "d");
    if (d.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative: " + d);
    }
    synchronized (lock) {
      rule(operation).delay = d;
    }
    return this;
  }

  /**
   * The next call of {@code operation} stops inside the call (after it is counted, before it does
   * its work or fails) until {@link Gate#release()}. Several gates on one operation hold successive
   * calls, one each.
   */
  public Gate block(String operation) {
    Gate gate = new Gate(operation);
    synchronized (lock) {
      rule(operation).gates.add(gate);
      gates.add(gate);
    }
    return gate;
  }

  /**
   * Calls {@code hook} with the full operation name and the key (or null) at the start of every call,
   * before delays, gates and failures, on the caller's thread: a test's eye inside the fakes (say, to
   * record what was deleted while the SCM was down). A hook must be quick and must not call the fakes.
   * Kept by {@link #clear()}.
   */
  public Faults onCall(java.util.function.BiConsumer<String, Object> hook) {
    hooks.add(Objects.requireNonNull(hook, "hook"));
    return this;
  }

  /** Removes every rule (failures, delays) and releases every gate, held or not; counters are kept. */
  public Faults clear() {
    List<Gate> pending;
    synchronized (lock) {
      pending = List.copyOf(gates);
      gates.clear();
      rules.clear();
    }
    pending.forEach(Gate::release);
    return this;
  }

  /** How many calls of {@code operation} (full or short name) have started. */
  public int calls(String operation) {
    synchronized (lock) {
      return calls.getOrDefault(operation, 0);
    }
  }

  /** Calls so far by operation, under both full and short names, sorted by name. */
  public Map<String, Integer> calls() {
    synchronized (lock) {
      return new TreeMap<>(calls);
    }
  }

  /** The most calls ever in flight at once for one key (1 when calls for a key are serialised). */
  public int maxConcurrentPerKey() {
    synchronized (lock) {
      return maxConcurrentPerKey;
    }
  }

  /** The most keyed calls ever in flight at once, across keys (above 1 proves parallel work). */
  public int maxConcurrent() {
    synchronized (lock) {
      return maxConcurrent;
    }
  }

  /** Forgets the concurrency maxima, e.g. after a warm-up. */
  public Faults resetConcurrency() {
    synchronized (lock) {
      maxConcurrent = inFlight;
      maxConcurrentPerKey = inFlightPerKey.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }
    return this;
  }

  /**
   * Called by a fake at the start of each call: counts it, marks it in flight for {@code key}, then
   * waits for delays and gates, then throws if a rule says this call fails. When it throws, the call
   * is no longer in flight and the fake must not call {@link #after}; otherwise the fake calls
   * {@link #after} when the call ends.
   *
   * @param provider the fake's name, used in the exception
   * @param operation the full operation name ({@code environment.apply})
   * @param key what the call is about (usually a {@code PreviewKey}), or null
   */
  public void before(String provider, String operation, Object key) {
    Objects.requireNonNull(operation, "operation");
    for (java.util.function.BiConsumer<String, Object> hook : hooks) {
      hook.accept(operation, key);
    }
    List<String> names = names(operation);
    Duration delay = Duration.ZERO;
    Gate gate = null;
    String failure = null;
    synchronized (lock) {
      for (String name : names) {
        int n = calls.merge(name, 1, Integer::sum);
        Rule r = rules.get(name);
        if (r == null) {
          continue;
        }
        if (r.delay.compareTo(delay) > 0) {
          delay = r.delay;
        }
        if (gate == null && !r.gates.isEmpty()) {
          gate = r.gates.poll();
        }
        if (failure == null && (r.always || r.failAt.remove(n))) {
          failure = "injected failure: " + name + " call " + n;
        }
      }
      enter(key);
    }
    try {
      pause(delay);
      if (gate != null) {
        gate.hold();
      }
    } catch (RuntimeException e) {
      after(provider, operation, key);
      throw e;
    }
    if (failure != null) {
      after(provider, operation, key);
      throw new ProviderException(provider, failure, false);
    }
  }

  /**
   * Runs {@code body} between {@link #before} and {@link #after}: the usual shape of a fake's method.
   */
  public <T> T call(String provider, String operation, Object key, java.util.function.Supplier<T> body) {
    before(provider, operation, key);
    try {
      return body.get();
    } finally {
      after(provider, operation, key);
    }
  }

  /** {@link #call} for a body without a result. */
  public void run(String provider, String operation, Object key, Runnable body) {
    call(provider, operation, key, () -> {
      body.run();
      return null;
    });
  }

  /** Called by a fake when a call that passed {@link #before} ends (also when it throws). */
  public void after(String provider, String operation, Object key) {
    synchronized (lock) {
      if (key == null) {
        return;
      }
      inFlight--;
      inFlightPerKey.computeIfPresent(key, (k, v) -> v == 1 ? null : v - 1);
    }
  }

  private void enter(Object key) {
    if (key == null) {
      return;
    }
    inFlight++;
    int perKey = inFlightPerKey.merge(key, 1, Integer::sum);
    maxConcurrent = Math.max(maxConcurrent, inFlight);
    maxConcurrentPerKey = Math.max(maxConcurrentPerKey, perKey);
  }

  private static List<String> names(String operation) {
    int dot = operation.lastIndexOf('.');
    return dot < 0 ? List.of(operation) : List.of(operation, operation.substring(dot + 1));
  }

  private Rule rule(String operation) {
    return rules.computeIfAbsent(Objects.requireNonNull(operation, "operation"), o -> new Rule());
  }

  // A latch nobody counts down: waiting on it with a timeout is a sleep that an interrupt ends.
  private static void pause(Duration d) {
    if (d.isZero()) {
      return;
    }
    try {
      new CountDownLatch(1).await(d.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during an injected delay", e);
    }
  }

  private static final class Rule {
    boolean always;
    final Set<Integer> failAt = new HashSet<>();
    Duration delay = Duration.ZERO;
    final Deque<Gate> gates = new ArrayDeque<>();
  }

  /** Holds one call inside a fake until released. */
  public static final class Gate {
    private final String operation;
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    private Gate(String operation) {
      this.operation = operation;
    }

    /** Lets the held call (or the next one, if none is held yet) go on. Idempotent. */
    public void release() {
      released.countDown();
    }

    /** Waits until a call is held at this gate; true if one is, false if {@code timeout} passed first. */
    public boolean awaitEntered(Duration timeout) {
      try {
        return entered.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    /** Whether a call has reached this gate. */
    public boolean entered() {
      return entered.getCount() == 0;
    }

    /** Whether {@link #release()} was called. */
    public boolean released() {
      return released.getCount() == 0;
    }

    private void hold() {
      entered.countDown();
      try {
        released.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while held at the gate of " + operation, e);
      }
    }

    @Override
    public String toString() {
      return "Gate{" + operation + (entered() ? ", entered" : "") + (released() ? ", released" : "") + "}";
    }
  }
}
