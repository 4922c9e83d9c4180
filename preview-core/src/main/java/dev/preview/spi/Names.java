package dev.preview.spi;

import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;

/**
 * Generated names for a preview's resources: deterministic, valid for their target, and
 * collision-resistant. Each name is a readable part derived from the key followed by a short hash of
 * the full {@link PreviewKey#id()}, so two distinct keys never share a name even when their readable
 * parts are equal after cleaning or cutting (e.g. {@code a/b#1} and {@code a/B#1}, or two 300-char
 * branches with the same first 50 characters). The readable part is cut first; the hash is never cut.
 */
public final class Names {
  /**
   * Length of the hash suffix, in hex characters: 64 bits, so finding two keys whose names meet takes
   * about 2^32 tries per target pair (a 40-bit suffix fell in 1.5 s). Even then a provider never
   * adopts a resource whose {@code preview.dev/key} label is another preview's (it refuses).
   */
  public static final int HASH_LENGTH = 16;
  /** RFC 1123 label and Kubernetes namespace limit. */
  public static final int DNS_LABEL_MAX = 63;
  /** PostgreSQL identifier limit (NAMEDATALEN - 1), in bytes. */
  public static final int POSTGRES_MAX = 63;
  /** MySQL database name limit. */
  public static final int MYSQL_MAX = 64;
  /** MySQL (5.7+, MariaDB 10+) user name limit. */
  public static final int MYSQL_USER_MAX = 32;
  /** Docker container, network and volume names (kept DNS-safe, as they double as hostnames). */
  public static final int DOCKER_MAX = 63;
  /** Kubernetes label value limit. */
  public static final int LABEL_VALUE_MAX = 63;

  private Names() {}

  /** The readable part: {@code shop-pr-42} or {@code shop-br-feature-x}, not yet cleaned. */
  private static String readable(PreviewKey key) {
    return key.isPullRequest()
        ? key.repositoryName() + "-pr-" + key.number()
        : key.repositoryName() + "-br-" + key.branch();
  }

  /**
   * What a name of {@code key} in {@code installation} is made of: the readable part and the hash.
   * The {@linkplain Installation#DEFAULT_INSTANCE default} installation keeps the names of earlier
   * versions (which had no instance), so upgrading orphans nothing; any other instance leads the
   * readable part and goes into the hash, so two installations previewing the same key never share
   * a name, and two long inputs that share a cut prefix still differ in their hash.
   */
  private record Stem(String readable, String hash) {}

  private static Stem stem(Installation installation, PreviewKey key) {
    if (installation.isDefault()) {
      return new Stem(readable(key), hash(key));
    }
    // an instance name holds no NUL, so (instance, key) -> hash input is one-to-one
    return new Stem(installation.instance() + "-" + readable(key), hash(installation.instance() + "\0" + key.id()));
  }

  /** A short, stable hash of the key, lower-case hex. */
  public static String hash(PreviewKey key) {
    return hash(key.id());
  }

  /**
   * The hash every name of {@code key} in {@code installation} ends with: {@value #HASH_LENGTH} lower-case
   * hex digits (64 bits) of SHA-256 of the key (and the instance, outside the default installation).
   * For providers that build names of their own (with other limits) so they stay apart as these do.
   */
  public static String hash(Installation installation, PreviewKey key) {
    return stem(installation, key).hash();
  }

  static String hash(String text) {
    // UTF-8 turns every lone surrogate into '?', so "a\uD800" and "a\uD801" would share a hash;
    // such text is hashed as UTF-16 code units instead (well-formed text keeps its UTF-8 hash).
    return (wellFormed(text)
        ? Hashing.sha256().hashString(text, StandardCharsets.UTF_8)
        : Hashing.sha256().hashUnencodedChars(text)).toString().substring(0, HASH_LENGTH);
  }

  private static boolean wellFormed(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /** An RFC 1123 DNS label, also a valid Kubernetes namespace: {@code [a-z0-9-]}, at most 63, alphanumeric at both ends. */
  public static String dnsLabel(PreviewKey key) {
    return dnsLabel(Installation.defaults(), key);
  }

  /** {@link #dnsLabel(PreviewKey)} of {@code key} in {@code installation} (see {@link Installation}: names never collide across instances). */
  public static String dnsLabel(Installation installation, PreviewKey key) {
    Stem s = stem(installation, key);
    return join(clean(s.readable(), '-'), s.hash(), '-', DNS_LABEL_MAX);
  }

  /** Same as {@link #dnsLabel(PreviewKey)}: a Kubernetes namespace name. */
  public static String namespace(PreviewKey key) {
    return dnsLabel(key);
  }

  /** {@link #namespace(PreviewKey)} of {@code key} in {@code installation}. */
  public static String namespace(Installation installation, PreviewKey key) {
    return dnsLabel(installation, key);
  }

  /**
   * A PostgreSQL identifier (database, schema or role name): {@code [a-z0-9_]}, starting with a
   * letter, at most 63 bytes. Still quote it in SQL.
   */
  public static String postgres(PreviewKey key) {
    return postgres(Installation.defaults(), key);
  }

  /** {@link #postgres(PreviewKey)} of {@code key} in {@code installation}. */
  public static String postgres(Installation installation, PreviewKey key) {
    return underscored(installation, key, POSTGRES_MAX);
  }

  /** A MySQL/MariaDB database name: {@code [a-z0-9_]}, starting with a letter, at most 64. Still quote it. */
  public static String mysql(PreviewKey key) {
    return mysql(Installation.defaults(), key);
  }

  /** {@link #mysql(PreviewKey)} of {@code key} in {@code installation}. */
  public static String mysql(Installation installation, PreviewKey key) {
    return underscored(installation, key, MYSQL_MAX);
  }

  /** A MySQL/MariaDB user name: at most 32 characters. */
  public static String mysqlUser(PreviewKey key) {
    return mysqlUser(Installation.defaults(), key);
  }

  /** {@link #mysqlUser(PreviewKey)} of {@code key} in {@code installation}. */
  public static String mysqlUser(Installation installation, PreviewKey key) {
    return underscored(installation, key, MYSQL_USER_MAX);
  }

  private static String underscored(Installation installation, PreviewKey key, int max) {
    Stem s = stem(installation, key);
    return join("pv_" + clean(s.readable(), '_'), s.hash(), '_', max);
  }

  /** A Docker container, network or volume name: {@code preview-shop-pr-42-<hash>}. */
  public static String docker(PreviewKey key) {
    return docker(Installation.defaults(), key);
  }

  /** {@link #docker(PreviewKey)} of {@code key} in {@code installation}. */
  public static String docker(Installation installation, PreviewKey key) {
    Stem s = stem(installation, key);
    return join("preview-" + clean(s.readable(), '-'), s.hash(), '-', DOCKER_MAX);
  }

  /** Longest part suffix kept as is in {@link #docker(PreviewKey, String)}. */
  static final int PART_MAX = 20;

  /**
   * A Docker name for a part of a preview: {@code preview-shop-pr-42-<hash>-redis}. The part is
   * cleaned like the rest ({@code Redis} and {@code redis} are the same part); a part longer than
   * 20 characters is cut and suffixed with its own hash, so the name keeps its {@code preview-}
   * prefix and the key's hash whatever the part.
   */
  public static String docker(PreviewKey key, String part) {
    return docker(Installation.defaults(), key, part);
  }

  /** {@link #docker(PreviewKey, String)} of {@code key} in {@code installation}. */
  public static String docker(Installation installation, PreviewKey key, String part) {
    Stem s = stem(installation, key);
    String p = clean(part, '-');
    if (p.isEmpty()) {
      p = hash(part);
    } else if (p.length() > PART_MAX) {
      p = join(p, hash(part), '-', PART_MAX);
    }
    int room = DOCKER_MAX - p.length() - 1;
    return join("preview-" + clean(s.readable(), '-'), s.hash(), '-', room) + "-" + p;
  }

  /** A Redis key prefix: {@code preview:shop-pr-42-<hash>:}. */
  public static String redisPrefix(PreviewKey key) {
    return redisPrefix(Installation.defaults(), key);
  }

  /** {@link #redisPrefix(PreviewKey)} of {@code key} in {@code installation}. */
  public static String redisPrefix(Installation installation, PreviewKey key) {
    return "preview:" + dnsLabel(installation, key) + ":";
  }

  /**
   * A value that fits a Kubernetes label: at most 63 of {@code [A-Za-z0-9_.-]}, alphanumeric at both
   * ends. Values that already fit are kept as they are; others are cleaned and suffixed with a hash.
   */
  public static String labelValue(String value) {
    if (value.isEmpty()) {
      return value;
    }
    if (value.length() <= LABEL_VALUE_MAX && value.matches("[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?")) {
      return value;
    }
    String cleaned = value.replaceAll("[^A-Za-z0-9_.-]+", "-");
    return join(trimNonAlnum(cleaned), hash(value), '-', LABEL_VALUE_MAX);
  }

  /**
   * Lower-case ASCII, accents folded, every run of other characters replaced by {@code sep},
   * no {@code sep} at either end: the readable part of every name (public for providers that build
   * names of their own).
   */
  public static String clean(String text, char sep) {
    String folded = Normalizer.normalize(text, Normalizer.Form.NFKD).toLowerCase(Locale.ROOT);
    StringBuilder sb = new StringBuilder(folded.length());
    boolean pendingSep = false;
    for (int i = 0; i < folded.length(); i++) {
      char c = folded.charAt(i);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        if (pendingSep && sb.length() > 0) {
          sb.append(sep);
        }
        pendingSep = false;
        sb.append(c);
      } else if (Character.getType(c) != Character.NON_SPACING_MARK) {
        pendingSep = true;
      }
    }
    return sb.toString();
  }

  private static String trimNonAlnum(String s) {
    int a = 0;
    int b = s.length();
    while (a < b && !Character.isLetterOrDigit(s.charAt(a))) {
      a++;
    }
    while (b > a && !Character.isLetterOrDigit(s.charAt(b - 1))) {
      b--;
    }
    return s.substring(a, b);
  }

  /** {@code prefix + sep + hash}, with the prefix cut (and its trailing separators dropped) to fit {@code max}. */
  private static String join(String prefix, String hash, char sep, int max) {
    int room = max - hash.length() - 1;
    String p = prefix.length() > room ? prefix.substring(0, room) : prefix;
    while (!p.isEmpty() && !Character.isLetterOrDigit(p.charAt(p.length() - 1))) {
      p = p.substring(0, p.length() - 1);
    }
    return p.isEmpty() ? hash : p + sep + hash;
  }
}
