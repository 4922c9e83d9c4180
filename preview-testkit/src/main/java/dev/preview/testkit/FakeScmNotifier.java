package dev.preview.testkit;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.ScmNotifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An in-memory {@link ScmNotifier} named {@code fake}: records every published status and keeps one
 * sticky comment per PR, rendered by {@link #render(PreviewStatus)} and replaced in place on each
 * publish. {@link #published} reads back what the PR shows (the last status published). Thread-safe;
 * operations {@code scm.publish}, {@code scm.published} and {@code scm.publishedAll} (a read-back fault throws, as an SCM that
 * cannot be read does). Instances made with {@link #reopen()} share the simulated SCM.
 */
public final class FakeScmNotifier implements ScmNotifier {
  public static final String NAME = "fake";

  private final Faults faults;
  private final Scm scm;

  public FakeScmNotifier() {
    this(new Faults());
  }

  public FakeScmNotifier(Faults faults) {
    this(faults, new Scm());
  }

  private FakeScmNotifier(Faults faults, Scm scm) {
    this.faults = Objects.requireNonNull(faults, "faults");
    this.scm = scm;
  }

  /** A new instance over the same simulated SCM and faults. */
  public FakeScmNotifier reopen() {
    return new FakeScmNotifier(faults, scm);
  }

  public Faults faults() {
    return faults;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void publish(PreviewStatus status) {
    Objects.requireNonNull(status, "status");
    faults.run(NAME, "scm.publish", status.key(), () -> {
      synchronized (scm) {
        scm.all.add(status);
        scm.latest.put(status.key(), status);
        scm.comments.put(status.key(), render(status));
      }
    });
  }

  @Override
  public Optional<PublishedStatus> published(PreviewKey key) {
    Objects.requireNonNull(key, "key");
    return faults.call(NAME, "scm.published", key, () -> latest(key).map(PublishedStatus::of));
  }

  /** Every PR of {@code repository} that shows a status, in one read (operation {@code scm.publishedAll}). */
  @Override
  public Optional<Map<PreviewKey, PublishedStatus>> publishedAll(String repository) {
    Objects.requireNonNull(repository, "repository");
    return faults.call(NAME, "scm.publishedAll", repository, () -> {
      Map<PreviewKey, PublishedStatus> out = new LinkedHashMap<>();
      synchronized (scm) {
        scm.latest.forEach((key, status) -> {
          if (key.repository().equals(repository)) {
            out.put(key, PublishedStatus.of(status));
          }
        });
      }
      return Optional.of(out);
    });
  }

  /** Every status published for {@code key}, in order. */
  public List<PreviewStatus> history(PreviewKey key) {
    synchronized (scm) {
      return scm.all.stream().filter(s -> s.key().equals(key)).toList();
    }
  }

  /** The last status published for {@code key}. */
  public Optional<PreviewStatus> latest(PreviewKey key) {
    synchronized (scm) {
      return Optional.ofNullable(scm.latest.get(key)); // not a scan of every status: reconciles of 10,000 PRs read it per key
    }
  }

  /** Every status published, in order. */
  public List<PreviewStatus> all() {
    synchronized (scm) {
      return List.copyOf(scm.all);
    }
  }

  /** The sticky comment on the PR of {@code key}, as the SCM would show it. */
  public Optional<String> comment(PreviewKey key) {
    synchronized (scm) {
      return Optional.ofNullable(scm.comments.get(key));
    }
  }

  /** The comment body: marker, state, revision, URL, links, message, failed step, log tail, step timings. */
  public static String render(PreviewStatus s) {
    StringBuilder b = new StringBuilder(s.marker()).append('\n');
    b.append("Preview ").append(s.state());
    if (s.revision() != null) {
      b.append(" at ").append(s.revision());
    }
    b.append('\n');
    if (s.url() != null) {
      b.append("URL: ").append(s.url()).append('\n');
    }
    s.links().forEach((name, uri) -> b.append(name).append(": ").append(uri).append('\n'));
    if (!s.message().isEmpty()) {
      b.append(s.message()).append('\n');
    }
    if (s.failedStep() != null) {
      b.append("Failed step: ").append(s.failedStep()).append('\n');
    }
    if (!s.logTail().isEmpty()) {
      b.append("```\n");
      s.logTail().forEach(line -> b.append(line).append('\n'));
      b.append("```\n");
    }
    s.steps().forEach((step, d) -> b.append(step).append(": ").append(d.toMillis()).append(" ms\n"));
    return b.toString();
  }

  @Override
  public String toString() {
    synchronized (scm) {
      return "FakeScmNotifier" + scm.comments.keySet();
    }
  }

  private static final class Scm {
    final List<PreviewStatus> all = new ArrayList<>();
    final Map<PreviewKey, String> comments = new LinkedHashMap<>();
    final Map<PreviewKey, PreviewStatus> latest = new java.util.HashMap<>();
  }
}
