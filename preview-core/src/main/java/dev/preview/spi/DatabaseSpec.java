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
 */
public record DatabaseSpec(@Nullable String baseline, Map<String, String> labels, @Nullable Path buildContext) {
  public DatabaseSpec {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** A spec without a build context. */
  public DatabaseSpec(String baseline, Map<String, String> labels) {
    this(baseline, labels, null);
  }

  public static DatabaseSpec empty() {
    return new DatabaseSpec(null, Map.of());
  }
}
