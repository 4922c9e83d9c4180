package dev.preview.scm.internal;

import dev.preview.spi.ProviderConfig;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/** Config readers shared by the GitHub and GitLab settings. */
public final class Settings {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kb|k|mb|m|gb|g)?");

  private Settings() {}

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
