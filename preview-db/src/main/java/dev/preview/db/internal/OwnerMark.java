package dev.preview.db.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The ownership mark a provider stores on the server (a database or role comment, a side file):
 * the ownership labels as one line of JSON, behind a fixed prefix so that a foreign comment is never
 * mistaken for ours.
 *
 * <h2>Instances</h2>
 * Every mark written now carries {@link Labels#INSTANCE}, the installation that wrote it; an
 * installation reads as its own only the marks of its instance ({@link #owner}). A mark written by an
 * earlier version has no instance: it belongs to the {@linkplain Installation#DEFAULT_INSTANCE
 * default} installation, which keeps those versions' names, adopts such a mark on its next create
 * (rewriting it with the instance) and lists and drops it. A named installation never lists, adopts
 * nor drops it (its own names differ anyway), so upgrading one of two installations that shared a
 * server to a named instance cannot make it reclaim the other's previews.
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

  /**
   * The mark for {@code key} in {@code installation}: the given labels plus {@link Labels#MANAGED},
   * {@link Labels#KEY} and {@link Labels#INSTANCE} (the installation's, whatever {@code labels} say).
   */
  public static String encode(Installation installation, PreviewKey key, Map<String, String> labels) {
    Map<String, String> all = new LinkedHashMap<>(labels);
    all.put(Labels.INSTANCE, installation.instance());
    return encode(key, all);
  }

  /** Whether managed {@code labels} belong to {@code installation} (a mark without instance: the default one's). */
  public static boolean ownedBy(Installation installation, Map<String, String> labels) {
    String instance = labels.getOrDefault(Labels.INSTANCE, Installation.DEFAULT_INSTANCE);
    return Labels.isManaged(labels) && installation.instance().equals(instance);
  }

  /** The key in {@code text} if it is one of our marks AND belongs to {@code installation}; else empty. */
  public static Optional<PreviewKey> owner(Installation installation, String text) {
    return labels(text).filter(l -> ownedBy(installation, l)).flatMap(Labels::key);
  }

  /** The instance a mark belongs to ({@value Installation#DEFAULT_INSTANCE} for a mark without one), or empty if it is not a mark. */
  public static Optional<String> instance(String text) {
    return labels(text).map(l -> l.getOrDefault(Labels.INSTANCE, Installation.DEFAULT_INSTANCE));
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
