package dev.preview.spi;

import java.util.Map;

/**
 * What database a preview wants.
 *
 * @param baseline the known-good source to clone from (a template database, a schema, a file),
 *     in the provider's terms; null for an empty database
 * @param labels ownership labels (see {@link Labels}); providers that can store them do
 */
public record DatabaseSpec(String baseline, Map<String, String> labels) {
  public DatabaseSpec {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  public static DatabaseSpec empty() {
    return new DatabaseSpec(null, Map.of());
  }
}
