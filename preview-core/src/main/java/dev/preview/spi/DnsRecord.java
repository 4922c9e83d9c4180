package dev.preview.spi;

import java.util.Locale;
import java.util.Objects;

/**
 * One DNS record owned by a preview.
 *
 * @param hostname fully qualified name, lower case, without trailing dot
 * @param type A, AAAA or CNAME
 * @param value the address or target name
 * @param ttlSeconds time to live
 * @param owner the preview that owns it
 */
public record DnsRecord(String hostname, Type type, String value, int ttlSeconds, PreviewKey owner) {

  public enum Type { A, AAAA, CNAME }

  public DnsRecord {
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(owner, "owner");
    hostname = hostname.toLowerCase(Locale.ROOT);
    if (hostname.endsWith(".")) {
      hostname = hostname.substring(0, hostname.length() - 1);
    }
    if (!hostname.matches("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
        || hostname.length() > 253) {
      throw new IllegalArgumentException("not a valid DNS name: \"" + hostname + "\"");
    }
    if (ttlSeconds < 1) {
      throw new IllegalArgumentException("ttlSeconds must be positive, got " + ttlSeconds);
    }
    if (type == Type.A && !value.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      throw new IllegalArgumentException("an A record needs an IPv4 address, got \"" + value + "\"");
    }
    if (type == Type.AAAA && !value.contains(":")) {
      throw new IllegalArgumentException("an AAAA record needs an IPv6 address, got \"" + value + "\"");
    }
  }
}
