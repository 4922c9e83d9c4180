package dev.preview.testkit;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An in-memory {@link PullRequestSource} named {@code fake}: the PRs a test {@link #put}s. Make the
 * SCM "down" with {@code faults().failAlways("pullRequests.listOpen")} (or {@code "pullRequests.find"}):
 * calls then throw {@link dev.preview.spi.ProviderException} instead of answering. Thread-safe.
 */
public final class FakePullRequestSource implements PullRequestSource {
  public static final String NAME = "fake";

  private final Faults faults;
  private final Map<PreviewKey, PullRequest> prs = new TreeMap<>();
  /** The keys of the PRs not open, in the order they were closed (the most recent last); guarded by {@code prs}. */
  private final java.util.LinkedHashSet<PreviewKey> closedOrder = new java.util.LinkedHashSet<>();

  public FakePullRequestSource() {
    this(new Faults());
  }

  public FakePullRequestSource(Faults faults) {
    this.faults = Objects.requireNonNull(faults, "faults");
  }

  public Faults faults() {
    return faults;
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Adds or replaces a PR (a push is a {@code put} with a new head SHA). */
  public FakePullRequestSource put(PullRequest pr) {
    Objects.requireNonNull(pr, "pr");
    synchronized (prs) {
      PullRequest before = prs.put(pr.key(), pr);
      track(before, pr);
    }
    return this;
  }

  /** Marks the PR closed. */
  public FakePullRequestSource close(PreviewKey key) {
    return setState(key, PullRequest.State.CLOSED);
  }

  /** Marks the PR merged. */
  public FakePullRequestSource merge(PreviewKey key) {
    return setState(key, PullRequest.State.MERGED);
  }

  /** Forgets the PR, as if the SCM said it does not exist. */
  public FakePullRequestSource remove(PreviewKey key) {
    synchronized (prs) {
      prs.remove(key);
      closedOrder.remove(key);
    }
    return this;
  }

  private FakePullRequestSource setState(PreviewKey key, PullRequest.State state) {
    synchronized (prs) {
      PullRequest pr = prs.get(key);
      if (pr == null) {
        throw new IllegalArgumentException("no PR " + key + " in this fake; put() it first");
      }
      PullRequest changed = pr.withState(state);
      prs.put(key, changed);
      track(pr, changed);
    }
    return this;
  }

  private void track(PullRequest before, PullRequest now) {
    if (now.isOpen()) {
      closedOrder.remove(now.key());
    } else if (before == null || before.isOpen() || before.state() != now.state()) {
      closedOrder.remove(now.key());
      closedOrder.add(now.key());
    }
  }

  @Override
  public Optional<PullRequest> find(PreviewKey key) {
    return faults.call(NAME, "pullRequests.find", key, () -> {
      synchronized (prs) {
        return Optional.ofNullable(prs.get(key));
      }
    });
  }

  @Override
  public List<PullRequest> listOpen(String repository) {
    return faults.call(NAME, "pullRequests.listOpen", null, () -> {
      synchronized (prs) {
        return prs.values().stream()
            .filter(pr -> pr.isOpen() && pr.key().repository().equals(repository))
            .toList();
      }
    });
  }

  /** The PRs of {@code repository} closed or merged most recently (newest first), at most {@code limit}. */
  @Override
  public List<PullRequest> listRecentlyClosed(String repository, int limit) {
    return faults.call(NAME, "pullRequests.listClosed", null, () -> {
      synchronized (prs) {
        List<PullRequest> closed = new java.util.ArrayList<>();
        for (PreviewKey k : closedOrder) {
          if (k.repository().equals(repository)) {
            closed.add(0, prs.get(k));
          }
        }
        return List.copyOf(closed.subList(0, Math.min(limit, closed.size())));
      }
    });
  }

  /** Every PR this fake knows, in any state, sorted by key. */
  public List<PullRequest> all() {
    synchronized (prs) {
      return List.copyOf(prs.values());
    }
  }

  @Override
  public String toString() {
    return "FakePullRequestSource" + all();
  }
}
