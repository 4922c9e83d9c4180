package dev.preview.spi;

import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What database a preview wants.
 *
 * @param baseline the known-good source to clone from (a template database, a schema, a file),
 *     in the provider's terms; null for an empty database
 * @param labels ownership labels (see {@link Labels}); providers that can store them do
 * @param buildContext the directory the preview's app is built from (the branch's checkout), or null
 *     when unknown; providers that run the branch's own migrations after cloning resolve their
 *     configured, relative migrations location against it, and do nothing extra when it is null
 * @param fromFork the preview runs a fork PR's code (anyone's): a provider whose isolation relies on
 *     trusting the PR's author (a mode whose previews share a server-wide resource no grant can split)
 *     refuses it
 */
public record DatabaseSpec(@Nullable String baseline, Map<String, String> labels, @Nullable Path buildContext,
    boolean fromFork) {
  public DatabaseSpec {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** A spec of a PR from the repository itself (not a fork). */
  public DatabaseSpec(String baseline, Map<String, String> labels, Path buildContext) {
    this(baseline, labels, buildContext, false);
  }

  /** A spec without a build context. */
  public DatabaseSpec(String baseline, Map<String, String> labels) {
    this(baseline, labels, null);
  }

  public static DatabaseSpec empty() {
    return new DatabaseSpec(null, Map.of());
  }
}
