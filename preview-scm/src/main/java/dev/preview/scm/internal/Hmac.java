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

  private static byte[] signatureBytes(byte[] key, byte[] body) {
    byte[] mac;
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      mac = m.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
    byte[] out = new byte[7 + mac.length * 2];
    System.arraycopy("sha256=".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 7);
    for (int i = 0; i < mac.length; i++) {
      out[7 + 2 * i] = HEX[(mac[i] >> 4) & 0xf];
      out[8 + 2 * i] = HEX[mac[i] & 0xf];
    }
    return out;
  }
}
