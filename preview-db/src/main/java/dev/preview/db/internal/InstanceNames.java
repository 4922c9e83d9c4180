package dev.preview.db.internal;

import dev.preview.spi.Installation;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The names of a preview's database objects in one installation. The {@linkplain
 * Installation#DEFAULT_INSTANCE default} installation keeps the names of {@link Names} (those of
 * earlier versions, which had no instance), so upgrading does not orphan anything. Any other
 * instance gets a name that starts with the instance and ends with a hash of the instance AND the
 * key: two installations previewing the same key never share a database, role, user, key prefix or
 * file, and two long inputs that share a cut prefix still differ in their hash.
 */
public final class InstanceNames {
  private static final int HASH_LENGTH = 10;

  private InstanceNames() {}

  /** PostgreSQL database, schema and role: {@code [a-z0-9_]}, at most 63 bytes. */
  public static String postgres(Installation installation, PreviewKey key) {
    return isDefault(installation) ? Names.postgres(key) : name(installation, key, "pv_", '_', Names.POSTGRES_MAX);
  }

  /** MySQL/MariaDB database: {@code [a-z0-9_]}, at most 64. */
  public static String mysql(Installation installation, PreviewKey key) {
    return isDefault(installation) ? Names.mysql(key) : name(installation, key, "pv_", '_', Names.MYSQL_MAX);
  }

  /** MySQL/MariaDB user: {@code [a-z0-9_]}, at most 32. */
  public static String mysqlUser(Installation installation, PreviewKey key) {
    return isDefault(installation) ? Names.mysqlUser(key) : name(installation, key, "pv_", '_', Names.MYSQL_USER_MAX);
  }

  /**
   * A DNS-label-like stem ({@code [a-z0-9-]}, at most 63, no {@code :}) for Redis users and prefixes
   * and SQLite files: {@link Names#dnsLabel} in the default installation.
   */
  public static String label(Installation installation, PreviewKey key) {
    return isDefault(installation) ? Names.dnsLabel(key) : name(installation, key, "", '-', Names.DNS_LABEL_MAX);
  }

  public static boolean isDefault(Installation installation) {
    return Installation.DEFAULT_INSTANCE.equals(installation.instance());
  }

  private static String name(Installation installation, PreviewKey key, String head, char sep, int max) {
    String readable = key.isPullRequest()
        ? key.repositoryName() + "-pr-" + key.number()
        : key.repositoryName() + "-br-" + key.branch();
    String prefix = head + clean(installation.instance(), sep) + sep + clean(readable, sep);
    // the instance name cannot hold a NUL, so (instance, key) -> hash input is one-to-one
    String hash = hash(installation.instance() + "\u0000" + key.id());
    int room = max - HASH_LENGTH - 1;
    String p = prefix.length() > room ? prefix.substring(0, room) : prefix;
    while (!p.isEmpty() && !Character.isLetterOrDigit(p.charAt(p.length() - 1))) {
      p = p.substring(0, p.length() - 1);
    }
    return p.isEmpty() ? hash : p + sep + hash;
  }

  /** Lower-case ASCII letters and digits, every other run replaced by one {@code sep}. */
  static String clean(String text, char sep) {
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

  private static String hash(String text) {
    try {
      // a key never holds a lone surrogate (PreviewKey refuses them), so UTF-8 is one-to-one here
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, HASH_LENGTH);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JVM has SHA-256
    }
  }
}
