package dev.preview.scm.internal;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/** Config readers shared by the GitHub and GitLab settings. */
public final class Settings {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kb|k|mb|m|gb|g)?");

  private static final Pattern UPPER = Pattern.compile("(?=[A-Z])");

  private Settings() {}

  /**
   * The key to read for the camelCase {@code key}. Its former kebab-case name ({@code baseUrl} was
   * {@code base-url}) is always a problem, {@code scm.base-url: renamed to baseUrl}, and is not
   * also reported as unknown. When only the former name is set, it is returned so that its value
   * still takes part in the other checks (no second, misleading "is required" for the new name);
   * the config never validates while a former name is present.
   */
  public static String key(ProviderConfig c, String key) {
    String former = kebab(key);
    if (former.equals(key) || !c.keys().contains(former)) {
      return key;
    }
    c.ignore(former);
    c.problem(former, "renamed to " + key);
    return c.keys().contains(key) ? key : former;
  }

  static String kebab(String camel) {
    return String.join("-", UPPER.split(camel)).toLowerCase(Locale.ROOT);
  }

  /**
   * {@code value} as an http(s) URL, for builders called from code; throws a
   * {@link ConfigurationException} naming {@code key}, the value and an example otherwise.
   */
  public static HttpUrl url(String key, String value, String example) {
    HttpUrl url = value == null ? null : HttpUrl.parse(value);
    if (url == null) {
      throw new ConfigurationException(key + ": must be an http(s) URL such as " + example + ", got \"" + value + "\"");
    }
    return url;
  }

  /** An http(s) base URL; records a problem and returns the default when it is not one. */
  public static HttpUrl baseUrl(ProviderConfig c, String key, String dflt) {
    String s = c.string(key, dflt);
    HttpUrl url = HttpUrl.parse(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    if (url == null) {
      c.problem(key, "must be an http(s) URL such as " + dflt + ", got \"" + s + "\"");
      return HttpUrl.get(dflt);
    }
    return url;
  }

  /** A size such as {@code 25MB}, {@code 512KB} or a number of bytes. */
  public static int size(ProviderConfig c, String key, int dflt) {
    String s = c.string(key).orElse(null);
    if (s == null) {
      return dflt;
    }
    Matcher m = SIZE.matcher(s.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      c.problem(key, "must be a size such as 25MB, 512KB or a number of bytes, got \"" + s + "\"");
      return dflt;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    long bytes = switch (unit.charAt(0)) {
      case 'k' -> n * 1024;
      case 'm' -> n * 1024 * 1024;
      case 'g' -> n * 1024 * 1024 * 1024;
      default -> n;
    };
    if (bytes < 1 || bytes > Integer.MAX_VALUE - 16) {
      c.problem(key, "must be between 1 byte and 2GB, got \"" + s + "\"");
      return dflt;
    }
    return (int) bytes;
  }
}
