package dev.preview.dns.internal;

import dev.preview.spi.ProviderConfig;
import java.util.LinkedHashSet;
import java.util.Set;

/** Checks shared by the DNS factories on their {@code dns:} section. Internal: not a public API. */
public final class ConfigKeys {
  private ConfigKeys() {}

  /**
   * Reports each kebab-case key whose camelCase form is one of {@code camelKeys} as renamed
   * ({@code dns.api-token: renamed to apiToken}), and marks it read so it is not also reported as
   * unknown. Returns the camelCase keys written under their old name.
   */
  public static Set<String> renamed(ProviderConfig config, String... camelKeys) {
    Set<String> known = Set.of(camelKeys);
    Set<String> out = new LinkedHashSet<>();
    for (String key : config.keys()) {
      if (key.indexOf('-') < 0) {
        continue;
      }
      String camel = camel(key);
      if (known.contains(camel)) {
        config.ignore(key);
        config.problem(key, "renamed to " + camel + (config.has(camel) ? " (which is also set: keep only " + camel + ")" : ""));
        out.add(camel);
      }
    }
    return out;
  }

  /**
   * {@code instance} belongs to the whole installation (top level of {@code preview.yaml}). Reported
   * in the assembly's own words, so that a file read by the assembly shows the problem once.
   */
  public static void instanceIsTopLevel(ProviderConfig config) {
    if (config.has("instance")) {
      String v = config.string("instance").orElse("name");
      config.problem("instance", "the instance is set once, at the top level of the file (instance: " + v
          + "); remove it here");
    }
  }

  static String camel(String kebab) {
    StringBuilder sb = new StringBuilder();
    boolean up = false;
    for (char c : kebab.toCharArray()) {
      if (c == '-') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(c) : Character.toLowerCase(c));
        up = false;
      }
    }
    return sb.toString();
  }
}
