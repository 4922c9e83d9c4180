package dev.preview.db.internal;

import dev.preview.spi.Secret;
import java.security.SecureRandom;

/** Generated credentials for a preview's own database user. */
public final class Passwords {
  // Letters and digits only: the value goes into URLs (DATABASE_URL, REDIS_URL) and SQL literals
  // without any escaping problem, and 32 of them carry ~190 bits.
  private static final char[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private Passwords() {}

  /** A fresh random password of 32 letters and digits. */
  public static Secret generate() {
    char[] out = new char[32];
    for (int i = 0; i < out.length; i++) {
      out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
    }
    return Secret.of(new String(out));
  }
}
