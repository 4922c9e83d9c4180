package dev.preview.scm.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256 signatures as GitHub sends them ({@code sha256=<hex>}), checked in constant time. */
public final class Hmac {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private Hmac() {}

  /** {@code sha256=} followed by the lower-case hex HMAC-SHA256 of {@code body} under {@code key}. */
  public static String sign(byte[] key, byte[] body) {
    return new String(signatureBytes(key, body), StandardCharsets.US_ASCII);
  }

  /** Whether {@code header} is the signature of {@code body}; the comparison time does not depend on where they differ. */
  public static boolean verify(byte[] key, byte[] body, String header) {
    if (header == null) {
      return false;
    }
    byte[] expected = signatureBytes(key, body);
    // Lower-case the candidate's hex so "sha256=ABC.." still compares equal, without branching on content.
    byte[] given = header.trim().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, given);
  }

  /**
   * A key to verify many bodies with: each thread keeps its own initialised {@link Mac} (building and
   * initialising one costs about as much as signing a 28 KB body), instead of one per call.
   */
  public static Key key(byte[] key) {
    return new Key(key);
  }

  /** See {@link #key}. Safe for concurrent use. */
  public static final class Key {
    private final ThreadLocal<Mac> macs;

    private Key(byte[] key) {
      SecretKeySpec spec = new SecretKeySpec(key.clone(), "HmacSHA256");
      this.macs = ThreadLocal.withInitial(() -> mac(spec));
    }

    /** Like {@link Hmac#verify}. */
    public boolean verify(byte[] body, String header) {
      if (header == null) {
        return false;
      }
      byte[] expected = hex(macs.get().doFinal(body)); // doFinal leaves the Mac ready for the next body
      byte[] given = header.trim().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
      return MessageDigest.isEqual(expected, given);
    }

    /** Like {@link Hmac#sign}. */
    public String sign(byte[] body) {
      return new String(hex(macs.get().doFinal(body)), StandardCharsets.US_ASCII);
    }
  }

  private static Mac mac(SecretKeySpec spec) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(spec);
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
  }

  private static byte[] signatureBytes(byte[] key, byte[] body) {
    return hex(mac(new SecretKeySpec(key, "HmacSHA256")).doFinal(body));
  }

  private static byte[] hex(byte[] mac) {
    byte[] out = new byte[7 + mac.length * 2];
    System.arraycopy("sha256=".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 7);
    for (int i = 0; i < mac.length; i++) {
      out[7 + 2 * i] = HEX[(mac[i] >> 4) & 0xf];
      out[8 + 2 * i] = HEX[mac[i] & 0xf];
    }
    return out;
  }
}
