package dev.preview.testkit;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What one test of a kit opened and used: the providers it created (closed after the test) and the
 * things it used (keys, hostnames: removed after the test through the test's provider).
 */
final class KitResources<P, T> {
  private final Supplier<P> factory;
  private final Consumer<P> close;
  private final Set<T> used = ConcurrentHashMap.newKeySet();
  private final List<P> opened = new CopyOnWriteArrayList<>();
  private P provider;

  KitResources(Supplier<P> factory, Consumer<P> close) {
    this.factory = factory;
    this.close = close;
  }

  /** The provider of this test, created on first use. */
  P provider() {
    if (provider == null) {
      provider = newProvider();
    }
    return provider;
  }

  /** Another instance, closed after the test. */
  P newProvider() {
    P p = factory.get();
    opened.add(p);
    return p;
  }

  /** Remembers {@code thing} to be removed after the test; returns it. */
  T use(T thing) {
    used.add(thing);
    return thing;
  }

  /**
   * Removes every used thing with the test's provider, then closes every provider opened, even when
   * a removal failed; the first failure fails the test.
   */
  void cleanUp(BiConsumer<P, T> remove) {
    RuntimeException failure = null;
    try {
      if (!used.isEmpty()) {
        P p = provider();
        for (T thing : used) {
          try {
            remove.accept(p, thing);
          } catch (RuntimeException e) {
            failure = failure == null ? e : failure;
          }
        }
      }
    } finally {
      for (P p : opened) {
        try {
          close.accept(p);
        } catch (RuntimeException e) {
          failure = failure == null ? e : failure;
        }
      }
    }
    if (failure != null) {
      throw new AssertionError("cleaning up after the test failed: " + failure, failure);
    }
  }
}
