package dev.preview.core.policy;

import java.util.regex.Pattern;

/** Branch globs: {@code *} matches within one path segment, {@code **} across segments, {@code ?} one character. */
final class Glob {
  private final String text;
  private final Pattern pattern;

  Glob(String text) {
    this.text = text;
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '*') {
        if (i + 1 < text.length() && text.charAt(i + 1) == '*') {
          re.append(".*");
          i++;
        } else {
          re.append("[^/]*");
        }
      } else if (c == '?') {
        re.append("[^/]");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    this.pattern = Pattern.compile(re.toString());
  }

  boolean matches(String s) {
    return pattern.matcher(s).matches();
  }

  @Override
  public String toString() {
    return text;
  }
}
