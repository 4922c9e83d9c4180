package dev.preview.dns.internal;

import dev.preview.spi.DnsRecord;
import java.util.Locale;

/** Zone and hostname helpers shared by the providers. Internal: not a public API. */
public final class Zones {
  private Zones() {}

  /** Lower case, no trailing dot. */
  public static String normalize(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  /** Whether {@code hostname} is {@code zone} or below it. Both normalized. */
  public static boolean inZone(String hostname, String zone) {
    return hostname.equals(zone) || hostname.endsWith("." + zone);
  }

  /**
   * {@code hostname} (normalized) if it is strictly below {@code zone}; otherwise an
   * {@link IllegalArgumentException} naming both, as a provider may only write inside its zone.
   */
  public static String requireInside(String hostname, String zone) {
    if (!inZone(hostname, zone) || hostname.equals(zone)) {
      throw new IllegalArgumentException("hostname \"" + hostname + "\" is not inside zone " + zone);
    }
    return hostname;
  }

  /** The record's value as DNS names are written in a zone: a CNAME target made absolute (trailing dot). */
  public static String absoluteValue(DnsRecord r) {
    return r.type() == DnsRecord.Type.CNAME && !r.value().endsWith(".") ? r.value() + "." : r.value();
  }

  /** The name of the ownership TXT record of {@code hostname}: {@code <prefix>.<hostname>}. */
  public static String ownerName(String prefix, String hostname) {
    return prefix + "." + hostname;
  }

  /**
   * The hostname an ownership TXT name stands for, or null if {@code name} does not start with
   * {@code prefix}.
   */
  public static String hostnameOfOwnerName(String prefix, String name) {
    String p = prefix + ".";
    return name.startsWith(p) && name.length() > p.length() ? name.substring(p.length()) : null;
  }

  /** RFC 5952 text of an IPv6 address ({@code 2001:db8::1}), so values read back equal values written. */
  public static String ipv6(String address) {
    String full;
    try {
      byte[] b = java.net.InetAddress.getByName(address.contains(":") ? address : "[" + address + "]").getAddress();
      if (b.length != 16) {
        return address;
      }
      int[] groups = new int[8];
      for (int i = 0; i < 8; i++) {
        groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
      }
      int bestStart = -1;
      int bestLen = 1;
      for (int i = 0; i < 8; i++) {
        int j = i;
        while (j < 8 && groups[j] == 0) {
          j++;
        }
        if (j - i > bestLen) {
          bestStart = i;
          bestLen = j - i;
        }
        i = Math.max(i, j);
      }
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < 8; i++) {
        if (i == bestStart) {
          sb.append("::");
          i += bestLen - 1;
          continue;
        }
        if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
          sb.append(':');
        }
        sb.append(Integer.toHexString(groups[i]));
      }
      full = sb.toString();
    } catch (java.net.UnknownHostException e) {
      return address;
    }
    return full;
  }
}
