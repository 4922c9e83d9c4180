package dev.preview.spi;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IPv4 and IPv6 networks in CIDR notation as firewall settings take them ({@code 169.254.0.0/16},
 * {@code fd00:ec2::254/128}, or one address): checked without a lookup, never a host name.
 */
public final class Cidr {
  private static final Pattern V4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})(?:/(\\d{1,2}))?");
  private static final Pattern V6 = Pattern.compile("([0-9a-fA-F:]*:[0-9a-fA-F:.]*)(?:/(\\d{1,3}))?");

  private Cidr() {}

  /** Whether {@code s} is an IPv4 or IPv6 address or network. */
  public static boolean valid(String s) {
    Matcher v4 = V4.matcher(s);
    if (v4.matches()) {
      for (int g = 1; g <= 4; g++) {
        if (Integer.parseInt(v4.group(g)) > 255) {
          return false;
        }
      }
      return v4.group(5) == null || Integer.parseInt(v4.group(5)) <= 32;
    }
    Matcher v6 = V6.matcher(s);
    if (!v6.matches() || v6.group(2) != null && Integer.parseInt(v6.group(2)) > 128) {
      return false;
    }
    try {
      // a literal (the pattern admits no name), so no lookup is made
      return InetAddress.getByName(v6.group(1)) instanceof Inet6Address;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * The list of networks at {@code key} of {@code c} (trimmed), or {@code defaults} when the key is
   * not set; every entry that is not a network is a problem of {@code c}, all reported together.
   */
  public static java.util.List<String> list(ProviderConfig c, String key, java.util.List<String> defaults) {
    if (!c.has(key)) {
      return defaults;
    }
    java.util.List<String> out = c.strings(key).stream().map(String::trim).toList();
    for (int i = 0; i < out.size(); i++) {
      if (!valid(out.get(i))) {
        c.problem(key + "[" + i + "]", "must be an IPv4 or IPv6 address or network in CIDR notation (169.254.0.0/16,"
            + " 10.0.0.0/8, fd00:ec2::254/128), got \"" + out.get(i) + "\"");
      }
    }
    return out;
  }

  /** Whether {@code s} (valid) is an IPv6 network. */
  public static boolean ipv6(String s) {
    return s.contains(":");
  }

  /** {@code s} with its prefix length: {@code /32} or {@code /128} added to a single address. */
  public static String withPrefix(String s) {
    return s.contains("/") ? s : s + (ipv6(s) ? "/128" : "/32");
  }

  /** The cloud metadata services a workload must not reach: link-local IPv4 and AWS's IPv6 endpoint. */
  public static final java.util.List<String> METADATA = java.util.List.of("169.254.0.0/16", "fd00:ec2::254/128");
}
