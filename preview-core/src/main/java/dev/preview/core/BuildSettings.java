package dev.preview.core;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Secret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * How a preview gets its PR's own build: from an image that CI builds for the revision
 * ({@link From#IMAGE}, the default; optionally waiting for it), or from the PR's source, fetched
 * and built by the orchestrator ({@link From#SOURCE}). The {@code build} section of
 * {@code preview.yaml}:
 *
 * <pre>{@code
 * build:
 *   from: image                 # or source
 *   waitFor: [build-image]      # CI checks / jobs / pipelines whose success means "the image is there"
 *   pollImage: true             # or look for the image in the registry, with backoff
 *   timeout: 30m                # how long a preview waits for its build
 *   pollInterval: 15s           # the first delay between looks (grows up to 5 minutes)
 *   repository: https://github.com/acme/shop.git   # from: source (default: the SCM's clone URL)
 *   token: ${GIT_TOKEN}         # from: source, HTTPS token for private repositories
 *   workspaces: .preview/workspaces   # from: source, one checkout per preview
 * }</pre>
 *
 * Immutable; {@link #toString()} never shows the token.
 */
public final class BuildSettings {
  /** Where a revision's build comes from. */
  public enum From {
    /** An image CI builds for the revision ({@code app.image} is a template). */
    IMAGE,
    /** The PR's source, fetched at its head SHA and built by the orchestrator. */
    SOURCE
  }

  private static final BuildSettings DEFAULTS = builder().build();

  private final From from;
  private final List<String> waitFor;
  private final boolean pollImage;
  private final Duration timeout;
  private final Duration pollInterval;
  private final @Nullable String repository;
  private final @Nullable Secret token;
  private final Path workspaces;
  private final @Nullable String migrations;

  private BuildSettings(Builder b) {
    this.from = b.from;
    this.waitFor = List.copyOf(b.waitFor);
    this.pollImage = b.pollImage;
    this.timeout = b.timeout;
    this.pollInterval = b.pollInterval;
    this.repository = b.repository;
    this.token = b.token;
    this.workspaces = b.workspaces;
    this.migrations = b.migrations;
  }

  /** From an image, waiting for nothing: a missing image fails the deploy. */
  public static BuildSettings defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  public From from() {
    return from;
  }

  /** The CI checks, jobs or pipelines whose success for the revision means its image is there; empty: none. */
  public List<String> waitFor() {
    return waitFor;
  }

  /** Whether to look for the revision's image in the registry until it appears. */
  public boolean pollImage() {
    return pollImage;
  }

  /** Whether a deploy waits for its build made elsewhere (CI events or looking for the image). */
  public boolean waits() {
    return from == From.IMAGE && (!waitFor.isEmpty() || pollImage);
  }

  /** How long a preview waits for its build before it FAILS. */
  public Duration timeout() {
    return timeout;
  }

  /** The first delay between two looks for the image. */
  public Duration pollInterval() {
    return pollInterval;
  }

  /** The git repository to fetch for {@link From#SOURCE}; empty: the SCM's clone URL of the PR's repository. */
  public Optional<String> repository() {
    return Optional.ofNullable(repository);
  }

  /** The HTTPS token to fetch with, if any. */
  public Optional<Secret> token() {
    return Optional.ofNullable(token);
  }

  /** Where {@link From#SOURCE} keeps one checkout per preview (default {@code .preview/workspaces}). */
  /**
   * Where the app keeps its database migrations, relative to its checkout ({@code build.migrations},
   * e.g. {@code src/main/resources/db/migration}): the change summary lists the files a PR's checkout
   * has there that the main checkout ({@code app.buildContext}) has not. Empty when not set.
   */
  public Optional<String> migrations() {
    return Optional.ofNullable(migrations);
  }

  public Path workspaces() {
    return workspaces;
  }

  @Override
  public String toString() {
    return "BuildSettings{from=" + from + ", waitFor=" + waitFor + ", pollImage=" + pollImage + ", timeout=" + timeout
        + ", repository=" + repository + (token == null ? "" : ", token=***") + "}";
  }

  /** Builds {@link BuildSettings}; {@link #build()} reports every invalid value at once. */
  public static final class Builder {
    private From from = From.IMAGE;
    private final List<String> waitFor = new ArrayList<>();
    private @Nullable String migrations;
    private boolean pollImage;
    private Duration timeout = Duration.ofMinutes(30);
    private Duration pollInterval = Duration.ofSeconds(15);
    private @Nullable String repository;
    private @Nullable Secret token;
    private Path workspaces = Path.of(".preview", "workspaces");

    private Builder() {}

    public Builder from(From from) {
      this.from = Objects.requireNonNull(from, "from");
      return this;
    }

    public Builder waitFor(List<String> names) {
      waitFor.clear();
      waitFor.addAll(Objects.requireNonNull(names, "names"));
      return this;
    }

    public Builder pollImage(boolean on) {
      this.pollImage = on;
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder pollInterval(Duration interval) {
      this.pollInterval = Objects.requireNonNull(interval, "pollInterval");
      return this;
    }

    public Builder repository(@Nullable String url) {
      this.repository = url == null || url.isBlank() ? null : url.trim();
      return this;
    }

    public Builder token(@Nullable Secret token) {
      this.token = token;
      return this;
    }

    /** See {@link BuildSettings#migrations()}; null: none. */
    public Builder migrations(@Nullable String dir) {
      this.migrations = dir == null || dir.isBlank() ? null : dir.trim();
      return this;
    }

    public Builder workspaces(Path dir) {
      this.workspaces = Objects.requireNonNull(dir, "workspaces");
      return this;
    }

    /** @throws ConfigurationException naming every invalid value and how to fix it */
    public BuildSettings build() {
      List<String> problems = new ArrayList<>();
      if (timeout.isNegative() || timeout.isZero()) {
        problems.add("build.timeout: must be positive, got " + timeout);
      }
      if (pollInterval.isNegative() || pollInterval.isZero()) {
        problems.add("build.pollInterval: must be positive, got " + pollInterval);
      }
      for (String name : waitFor) {
        if (name == null || name.isBlank()) {
          problems.add("build.waitFor: names must not be empty (the CI check, job or pipeline to wait for)");
        }
      }
      if (from == From.SOURCE && (!waitFor.isEmpty() || pollImage)) {
        problems.add("build.from: source builds the image itself; remove build.waitFor and build.pollImage"
            + " (they wait for an image CI builds)");
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new BuildSettings(this);
    }
  }
}
