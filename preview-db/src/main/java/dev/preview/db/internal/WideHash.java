package dev.preview.db.internal;

import dev.preview.spi.Installation;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;

/**
 * Names with a 64-bit hash suffix (16 hex digits) of the installation and the full key, for the
 * providers whose names must stay distinct even between keys chosen to collide: a 40-bit suffix
 * (as {@link dev.preview.spi.Names} had) is within reach of a birthday search (about 2^20 branch
 * names), 64 bits is not. The readable part is what {@code Names} shows ({@code shop-pr-42}, the
 * instance first in a named installation), cleaned and cut; the hash is never cut.
 */
public final class WideHash {
  /** Hex digits of the hash: 64 bits. */
  public static final int HEX = Names.HASH_LENGTH;

  private WideHash() {}

  /** The hash of {@code key} in {@code installation}: {@link Names#hash(Installation, PreviewKey)}, 16 hex digits. */
  public static String of(Installation installation, PreviewKey key) {
    return Names.hash(installation, key);
  }

  /** The readable part of a name: {@code shop-pr-42}, {@code <instance>-shop-br-x} in a named installation, not cleaned. */
  public static String readable(Installation installation, PreviewKey key) {
    String r = key.isPullRequest()
        ? key.repositoryName() + "-pr-" + key.number()
        : key.repositoryName() + "-br-" + key.branch();
    return installation.isDefault() ? r : installation.instance() + "-" + r;
  }

  /** {@link Names#clean}: lower-case ASCII letters and digits, accents folded, every other run replaced by {@code sep}. */
  public static String clean(String text, char sep) {
    return Names.clean(text, sep);
  }

  /**
   * {@code head + sep + cleaned readable part + sep + hash}, the readable part cut (and its trailing
   * separators dropped) until {@code cost} of the whole is at most {@code max}.
   *
   * @param cost how much a name costs against the limit (its length, or its length once escaped)
   */
  public static String name(String head, Installation installation, PreviewKey key, char sep, int max,
      java.util.function.ToIntFunction<String> cost) {
    String hash = of(installation, key);
    String r = clean(readable(installation, key), sep);
    while (true) {
      String name = r.isEmpty() ? head + sep + hash : head + sep + r + sep + hash;
      if (cost.applyAsInt(name) <= max) {
        return name;
      }
      if (r.isEmpty()) {
        throw new IllegalArgumentException("no name fits " + max + " with head " + head);
      }
      r = r.substring(0, r.length() - 1);
      while (!r.isEmpty() && r.charAt(r.length() - 1) == sep) {
        r = r.substring(0, r.length() - 1);
      }
    }
  }
}
