package dev.preview.core.assembly;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * {@code ${NAME}}, {@code ${NAME:-default}} and {@code $${...}} (a literal {@code ${...}}) in every
 * string value of a parsed YAML tree. Problems name the path of the value and the variable, never
 * the value (it may be a secret); the values used are reported to the caller, who removes them from
 * every later problem too ({@code got "${DB_PASSWORD}"}, never the password).
 */
final class Interpolation {
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final Function<String, String> env;
  private final List<String> problems;
  /** Paths whose value could not be resolved: later problems on them would only repeat this one. */
  private final Set<String> unresolved;

  /** Told of every variable used and its value, so problems can be redacted of the values later. */
  private final java.util.function.BiConsumer<String, String> used;

  Interpolation(Function<String, String> env, List<String> problems, Set<String> unresolved) {
    this(env, problems, unresolved, (name, value) -> {});
  }

  Interpolation(Function<String, String> env, List<String> problems, Set<String> unresolved,
      java.util.function.BiConsumer<String, String> used) {
    this.env = env;
    this.problems = problems;
    this.unresolved = unresolved;
    this.used = used;
  }

  /** A copy of {@code node} (maps, lists, scalars) with every string interpolated. */
  Object resolve(Object node, String path) {
    if (node instanceof String s) {
      return string(s, path);
    }
    if (node instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(String.valueOf(k), resolve(v, PreviewConfig.child(path, String.valueOf(k)))));
      return out;
    }
    if (node instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (int i = 0; i < l.size(); i++) {
        out.add(resolve(l.get(i), path + "[" + i + "]"));
      }
      return out;
    }
    return node;
  }

  /**
   * Resolves one value. An unset variable without default (or a malformed reference) is a problem;
   * the reference then stays as written so that nothing downstream mistakes it for a real value.
   */
  String string(String s, String path) {
    if (s.indexOf('$') < 0) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '$' && s.startsWith("${", i + 1)) {
        out.append("${");
        i += 3;
      } else if (c == '$' && s.startsWith("{", i + 1)) {
        int end = s.indexOf('}', i + 2);
        if (end < 0) {
          fail(path, "\"${\" is not closed by \"}\" (write $${ for a literal ${)");
          out.append(s, i, s.length());
          break;
        }
        out.append(reference(s.substring(i + 2, end), s.substring(i, end + 1), path));
        i = end + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  private String reference(String expression, String written, String path) {
    int sep = expression.indexOf(":-");
    String name = sep < 0 ? expression : expression.substring(0, sep);
    String fallback = sep < 0 ? null : expression.substring(sep + 2);
    if (!NAME.matcher(name).matches()) {
      fail(path, "\"" + written + "\" is not a valid reference: use ${NAME} or ${NAME:-default} with NAME of"
          + " letters, digits and '_' (write $${ for a literal ${)");
      return written;
    }
    String value = env.apply(name);
    if ((value == null || value.isEmpty()) && fallback != null) {
      return fallback;
    }
    if (value == null) {
      fail(path, "environment variable " + name + " is not set (set it, or give a default: ${" + name + ":-value})");
      return written;
    }
    used.accept(name, value);
    return value;
  }

  private void fail(String path, String message) {
    problems.add(path + ": " + message);
    unresolved.add(path);
  }
}
