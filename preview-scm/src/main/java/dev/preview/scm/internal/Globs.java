package dev.preview.scm.internal;

import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** Branch globs: {@code *} matches within one path segment, {@code **} across segments. */
public final class Globs {
  private Globs() {}

  public static Predicate<String> anyOf(List<String> globs) {
    if (globs.isEmpty()) {
      return s -> false;
    }
    StringBuilder re = new StringBuilder();
    for (String g : globs) {
      re.append(re.length() > 0 ? "|" : "").append("(?:").append(toRegex(g)).append(')');
    }
    Pattern p = Pattern.compile(re.toString());
    return s -> p.matcher(s).matches();
  }

  static String toRegex(String glob) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          sb.append(".*");
          i++;
        } else {
          sb.append("[^/]*");
        }
      } else if (c == '?') {
        sb.append("[^/]");
      } else {
        sb.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return sb.toString();
  }
}
