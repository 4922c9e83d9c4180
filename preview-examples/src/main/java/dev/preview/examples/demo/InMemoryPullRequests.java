package dev.preview.examples.demo;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** A {@link PullRequestSource} that knows the PRs it is told about: the SCM of {@code preview demo}. Thread-safe. */
public final class InMemoryPullRequests implements PullRequestSource {
  private final Map<PreviewKey, PullRequest> prs = new ConcurrentSkipListMap<>();

  @Override
  public String name() {
    return "in-memory";
  }

  /** Records the PR as it is now (opened, pushed, closed). */
  public void put(PullRequest pr) {
    prs.put(pr.key(), pr);
  }

  @Override
  public Optional<PullRequest> find(PreviewKey key) {
    return Optional.ofNullable(prs.get(key));
  }

  @Override
  public List<PullRequest> listOpen(String repository) {
    return prs.values().stream().filter(p -> p.isOpen() && p.key().repository().equals(repository)).toList();
  }
}
