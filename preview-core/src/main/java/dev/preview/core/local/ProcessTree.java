package dev.preview.core.local;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Finds and stops a process with everything it started. */
final class ProcessTree {
  private ProcessTree() {}

  /**
   * The live process {@code pid}, if it is still the one started at {@code startedAt} (PIDs are
   * reused: a recycled PID with another start instant is not ours).
   */
  static Optional<ProcessHandle> find(long pid, Instant startedAt) {
    if (pid <= 0) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(h -> startedAt == null || h.info().startInstant().map(startedAt::equals).orElse(true));
  }

  /**
   * Stops {@code root} and all its descendants: SIGTERM to each, then SIGKILL to those still alive
   * after {@code grace}, then waits for every one to exit. Descendants are collected before the
   * root is signalled, because once it dies they are re-parented and no longer found through it.
   *
   * @return true if every process of the tree has exited
   */
  static boolean stop(ProcessHandle root, Duration grace) {
    Map<Long, ProcessHandle> tree = new LinkedHashMap<>();
    collect(root, tree);
    tree.values().forEach(ProcessHandle::destroy);
    // A child may have forked between the snapshot and the signal: collect again.
    collect(root, tree);
    tree.values().forEach(ProcessHandle::destroy);
    if (!awaitExit(tree.values(), grace)) {
      collect(root, tree);
      tree.values().forEach(ProcessHandle::destroyForcibly);
      return awaitExit(tree.values(), Duration.ofSeconds(10));
    }
    return true;
  }

  private static void collect(ProcessHandle root, Map<Long, ProcessHandle> into) {
    if (root.isAlive()) {
      into.putIfAbsent(root.pid(), root);
      root.descendants().forEach(d -> into.putIfAbsent(d.pid(), d));
    }
  }

  private static boolean awaitExit(Iterable<ProcessHandle> handles, Duration timeout) {
    List<CompletableFuture<ProcessHandle>> exits = new ArrayList<>();
    handles.forEach(h -> exits.add(h.onExit()));
    try {
      CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new))
          .get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
