package dev.preview.server.gateway;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.Secret;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signed, expiring access tokens for one preview: {@code <expiry epoch seconds>.<HMAC-SHA256>}, the MAC
 * over a purpose ({@code link} or {@code cookie}), the preview's key and the expiry. A token names no
 * preview in clear and opens only the one it was signed for; a link token is not a cookie token (and
 * the other way round). Compared in constant time. Thread-safe.
 */
final class AccessTokens {
  static final String LINK = "link";
  static final String COOKIE = "cookie";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final byte[] key;

  AccessTokens(Secret signingKey) {
    this.key = signingKey.reveal().getBytes(StandardCharsets.UTF_8);
  }

  String issue(String purpose, PreviewKey preview, Instant expires) {
    long exp = expires.getEpochSecond();
    return exp + "." + B64.encodeToString(mac(purpose, preview, exp));
  }

  /** Whether {@code token} is a valid, unexpired {@code purpose} token of {@code preview} at {@code now}. */
  boolean valid(String token, String purpose, PreviewKey preview, Instant now) {
    if (token == null || token.length() > 200) {
      return false;
    }
    int dot = token.indexOf('.');
    if (dot < 1 || dot > 19) {
      return false;
    }
    long exp;
    try {
      exp = Long.parseLong(token.substring(0, dot));
    } catch (NumberFormatException e) {
      return false;
    }
    byte[] given;
    try {
      given = Base64.getUrlDecoder().decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return false;
    }
    boolean signed = MessageDigest.isEqual(given, mac(purpose, preview, exp));
    return signed && now.getEpochSecond() < exp;
  }

  private byte[] mac(String purpose, PreviewKey preview, long exp) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m.doFinal(("preview-gateway\n" + purpose + "\n" + preview.id() + "\n" + exp).getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  @Override
  public String toString() {
    return "AccessTokens{HMAC-SHA256}";
  }
}
