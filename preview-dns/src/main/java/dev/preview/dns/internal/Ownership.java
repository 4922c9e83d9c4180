package dev.preview.dns.internal;

import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The ownership mark every DNS provider writes beside the records it makes, in the style of
 * external-dns' registry: {@code heritage=preview,preview.dev/key=acme/shop#42} (plus
 * {@code ,preview.dev/instance=NAME} when several installations share one zone). RFC 2136 and Route53
 * put it in a TXT record, Cloudflare in the record's comment.
 *
 * <p>Values are percent-encoded where they hold {@code , = " % \} or anything outside printable
 * ASCII, so a branch name can never forge another field. Internal: not a public API.
 */
public final class Ownership {
  public static final String HERITAGE = "heritage=preview";

  private final String instance;

  private Ownership(String instance) {
    this.instance = instance == null || instance.isBlank() ? null : instance;
  }

  /** Ownership for the installation {@code instance}, or for the default one when null or blank. */
  public static Ownership of(String instance) {
    return new Ownership(instance);
  }

  /** The configured instance name, or null for the default installation. */
  public String instance() {
    return instance;
  }

  /** The mark for records owned by {@code key}. */
  public String mark(PreviewKey key) {
    StringBuilder sb = new StringBuilder(HERITAGE).append(',').append(Labels.KEY).append('=').append(encode(key.id()));
    if (instance != null) {
      sb.append(',').append(Labels.INSTANCE).append('=').append(encode(instance));
    }
    return sb.toString();
  }

  /** What a mark says, if {@code text} is one of ours (any instance). */
  public static Optional<Owner> parse(String text) {
    if (text == null || !(text.equals(HERITAGE) || text.startsWith(HERITAGE + ","))) {
      return Optional.empty();
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String part : text.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        return Optional.empty();
      }
      String value = decode(part.substring(eq + 1));
      if (value == null) {
        return Optional.empty();
      }
      fields.put(part.substring(0, eq), value);
    }
    Optional<PreviewKey> key = Labels.key(fields);
    return key.map(k -> new Owner(k, fields.get(Labels.INSTANCE)));
  }

  /** Whether {@code owner} belongs to this installation (same instance, or both default). */
  public boolean isMine(Owner owner) {
    return Objects.equals(owner.instance(), instance);
  }

  /** The owner of a mark, if the mark is ours and of this installation. */
  public Optional<PreviewKey> ownerIfMine(String text) {
    return parse(text).filter(this::isMine).map(Owner::key);
  }

  /** A hostname already holds records nobody marked as preview's, and adopt is off; {@code found} lists them. */
  public static ProviderException foreignRecords(String provider, String host, String found) {
    return new ProviderException(provider, host + " already has records that preview does not own (" + found
        + "). Delete them, choose another hostname, or set adopt: true to take them over.", false);
  }

  /** A hostname is marked by another installation sharing the zone. */
  public static ProviderException ownedByOtherInstallation(String provider, String host, Owner owner) {
    return new ProviderException(provider, host + " is owned by another preview installation ("
        + owner.describe() + "); refusing to take it over.", false);
  }

  /** A hostname is marked by this installation, but for another preview than {@code expected}. */
  public static ProviderException ownedByOtherPreview(String provider, String host, Owner owner, PreviewKey expected) {
    return new ProviderException(provider, host + " is owned by preview " + owner.describe() + ", not by "
        + expected.id() + "; refusing to take it over.", false);
  }

  /** An owner read from a mark. */
  public record Owner(PreviewKey key, String instance) {
    /** For messages: {@code acme/shop#42} or {@code acme/shop#42 (instance ci)}. */
    public String describe() {
      return instance == null ? key.id() : key.id() + " (instance " + instance + ")";
    }
  }

  static String encode(String value) {
    StringBuilder sb = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c <= 0x20 || c >= 0x7f || c == ',' || c == '=' || c == '"' || c == '%' || c == '\\' || c == ';') {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      } else {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }

  static String decode(String value) {
    byte[] out = new byte[value.length()];
    int n = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '%') {
        if (i + 2 >= value.length()) {
          return null;
        }
        int hi = Character.digit(value.charAt(i + 1), 16);
        int lo = Character.digit(value.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out[n++] = (byte) ((hi << 4) | lo);
        i += 2;
      } else if (c > 0x7f) {
        return null;
      } else {
        out[n++] = (byte) c;
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }
}
