package dev.preview.dns.internal;

import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The ownership mark every DNS provider writes beside the records it makes, in the style of
 * external-dns' registry: {@code heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=ci}.
 * RFC 2136 and Route53 put it in a TXT record, Cloudflare in the record's comment.
 *
 * <p>The instance is always written, {@code default} included, so a mark names exactly one
 * installation. A mark <em>without</em> an instance field (written by an earlier version, where "no
 * instance" meant "no {@code dns.instance} configured") is foreign to every installation: it is never
 * listed, never deleted and never taken over. Nothing proves whose it is: several installations could
 * share a zone with no instance configured, and an installation that now names itself (top-level
 * {@code instance}) may have written such marks before, so the {@code default} installation claiming
 * them could delete another installation's records.
 *
 * <p>Values are percent-encoded where they hold {@code , = " % \} or anything outside printable
 * ASCII, so a branch name can never forge another field. Internal: not a public API.
 */
public final class Ownership {
  public static final String HERITAGE = "heritage=preview";

  private final String instance;

  private Ownership(String instance) {
    this.instance = Objects.requireNonNull(instance, "instance");
  }

  /** Ownership for the installation {@code instance} ({@link dev.preview.spi.Installation#instance()}). */
  public static Ownership of(String instance) {
    return new Ownership(instance);
  }

  /** The installation's instance name; never null. */
  public String instance() {
    return instance;
  }

  /** The mark for records owned by {@code key} in this installation. */
  public String mark(PreviewKey key) {
    return HERITAGE + ',' + Labels.KEY + '=' + encode(key.id()) + ',' + Labels.INSTANCE + '=' + encode(instance);
  }

  /** Longest character-string of a TXT record (RFC 1035 3.3.14): a longer mark is split over several. */
  public static final int TXT_STRING_MAX = 255;

  /**
   * {@code mark} as the character-strings of one TXT record, each at most {@value #TXT_STRING_MAX}
   * characters (a mark is ASCII), to be joined back on reading: a long branch key gives a long mark.
   */
  public static List<String> txtStrings(String mark) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < mark.length(); i += TXT_STRING_MAX) {
      out.add(mark.substring(i, Math.min(mark.length(), i + TXT_STRING_MAX)));
    }
    return out.isEmpty() ? List.of("") : List.copyOf(out);
  }

  /** What a mark says, if {@code text} is one of preview's (any instance, or none for a legacy mark). */
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

  /** Whether {@code owner} belongs to this installation: the same instance, written in the mark. */
  public boolean isMine(Owner owner) {
    return instance.equals(owner.instance());
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

  /**
   * A hostname is marked by another installation sharing the zone, or by an earlier version of
   * preview that wrote no instance; {@code where} says where the mark is (to remove it by hand).
   */
  public ProviderException ownedByOtherInstallation(String provider, String host, Owner owner, String where) {
    if (owner.instance() == null) {
      return new ProviderException(provider, host + " is marked by an earlier version of preview that wrote no"
          + " instance (" + owner.describe() + "), so no installation can prove it is its own; refusing to take it"
          + " over. If it belongs to this installation (instance \"" + instance + "\"), remove the mark (" + where
          + ") and deploy again with adopt: true, or delete its records.", false);
    }
    return new ProviderException(provider, host + " is owned by another preview installation (" + owner.describe()
        + "); this one is instance \"" + instance + "\"; refusing to take it over.", false);
  }

  /** A hostname is marked by this installation, but for another preview than {@code expected}. */
  public static ProviderException ownedByOtherPreview(String provider, String host, Owner owner, PreviewKey expected) {
    return new ProviderException(provider, host + " is owned by preview " + owner.describe() + ", not by "
        + expected.id() + "; refusing to take it over.", false);
  }

  /** An owner read from a mark; {@code instance} is null in a legacy mark. */
  public record Owner(PreviewKey key, String instance) {
    /** For messages: {@code acme/shop#42 (instance ci)}, or {@code acme/shop#42 (no instance)}. */
    public String describe() {
      return key.id() + (instance == null ? " (no instance)" : " (instance " + instance + ")");
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
