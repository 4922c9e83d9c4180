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
      prs.put(pr.key(), pr);
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
    }
    return this;
  }

  private FakePullRequestSource setState(PreviewKey key, PullRequest.State state) {
    synchronized (prs) {
      PullRequest pr = prs.get(key);
      if (pr == null) {
        throw new IllegalArgumentException("no PR " + key + " in this fake; put() it first");
      }
      prs.put(key, pr.withState(state));
    }
    return this;
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
