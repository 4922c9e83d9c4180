package dev.preview.scm.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/** One fair lock per key, so that updates of one PR run one at a time while other PRs proceed. */
public final class KeyedLocks<K> {
  private final ConcurrentHashMap<K, ReentrantLock> locks = new ConcurrentHashMap<>();

  public <T> T with(K key, Supplier<T> work) {
    ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock(true));
    lock.lock();
    try {
      return work.get();
    } finally {
      lock.unlock();
    }
  }
}
