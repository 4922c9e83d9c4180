package dev.preview.db.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The ownership mark a provider stores on the server (a database or role comment, a side file):
 * the ownership labels as one line of JSON, behind a fixed prefix so that a foreign comment is never
 * mistaken for ours.
 */
public final class OwnerMark {
  /** Every mark starts with this. */
  public static final String PREFIX = "preview.dev ";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<LinkedHashMap<String, String>> MAP = new TypeReference<>() {};

  private OwnerMark() {}

  /** The mark for {@code key}: the given labels plus {@link Labels#MANAGED} and {@link Labels#KEY}. */
  public static String encode(PreviewKey key, Map<String, String> labels) {
    Map<String, String> all = new LinkedHashMap<>(labels);
    all.putAll(Labels.ownership(key, labels.get(Labels.REVISION)));
    try {
      return PREFIX + JSON.writeValueAsString(all);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e); // a map of strings always serialises
    }
  }

  /** The labels in a mark, or empty if {@code text} is not one of our marks. */
  public static Optional<Map<String, String>> labels(String text) {
    if (text == null || !text.startsWith(PREFIX)) {
      return Optional.empty();
    }
    try {
      Map<String, String> m = JSON.readValue(text.substring(PREFIX.length()), MAP);
      return Labels.isManaged(m) ? Optional.of(m) : Optional.empty();
    } catch (JsonProcessingException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The owner key in a mark, or empty if it is not one of our marks. */
  public static Optional<PreviewKey> key(String text) {
    return labels(text).flatMap(Labels::key);
  }
}
