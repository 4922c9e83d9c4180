package dev.preview.scm.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/** Reads RFC 8288 {@code Link} headers, as GitHub and GitLab use them for pagination. */
public final class Links {
  private static final Pattern LINK = Pattern.compile("<([^>]*)>\\s*((?:;\\s*[^;,]+)*)");
  private static final Pattern NEXT = Pattern.compile(";\\s*rel=\"?([^\";]*\\s)?next(\\s[^\";]*)?\"?");

  private Links() {}

  /** The {@code rel="next"} URL, or null on the last page. */
  public static HttpUrl next(String linkHeader) {
    if (linkHeader == null) {
      return null;
    }
    Matcher m = LINK.matcher(linkHeader);
    while (m.find()) {
      if (NEXT.matcher(m.group(2)).find()) {
        return HttpUrl.parse(m.group(1));
      }
    }
    return null;
  }
}
