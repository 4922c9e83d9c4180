package dev.preview.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A typed, validating view of one provider's section of {@code preview.yaml} (or of a map built in
 * code). Accessors never throw on bad input: they record a problem with its full path
 * ({@code environment.port: must be 1-65535, got 70000}) and return the default, so that a
 * factory reads everything first and then calls {@link #validate()}, which reports every problem at
 * once, including keys that nobody read (usually typos).
 *
 * <pre>{@code
 * String host = config.string("host", "unix:///var/run/docker.sock");
 * int port = config.integer("port", 8080, 1, 65535);
 * Optional<Secret> token = config.secret("token");
 * config.validate();
 * }</pre>
 *
 * Not thread-safe; a factory uses it on one thread.
 */
public final class ProviderConfig {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

  private final String path;
  private final Map<String, Object> values;
  private final List<String> problems;
  private final Set<String> read = new LinkedHashSet<>();
  private final Map<String, ProviderConfig> children = new LinkedHashMap<>();
  /** Told of every secret read (shared with the nested sections), so the assembly can redact them. */
  private java.util.function.Consumer<Secret> secretsRead = s -> {};

  private ProviderConfig(String path, Map<String, ?> values, List<String> problems) {
    this.path = path;
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    this.problems = problems;
  }

  /**
   * A config for the section at {@code path} (used in messages, e.g. {@code "environment"}).
   * Values are strings, numbers, booleans, lists and maps, as a YAML parser produces them.
   */
  public static ProviderConfig of(String path, Map<String, ?> values) {
    return new ProviderConfig(path, values == null ? Map.of() : values, new ArrayList<>());
  }

  /** An empty config, for providers with nothing to set. */
  public static ProviderConfig empty(String path) {
    return of(path, Map.of());
  }

  /** The path of this section, e.g. {@code environment} or {@code environment.services.redis}. */
  public String path() {
    return path;
  }

  /** The raw keys present. */
  public Set<String> keys() {
    return values.keySet();
  }

  public boolean has(String key) {
    return values.containsKey(key) && values.get(key) != null;
  }

  /** A string value, if set. Numbers and booleans are accepted and turned into text. */
  public Optional<String> string(String key) {
    Object v = get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (v instanceof Map || v instanceof List) {
      problem(key, "must be a single value, not a " + (v instanceof Map ? "map" : "list"));
      return Optional.empty();
    }
    return Optional.of(v.toString());
  }

  public @Nullable String string(String key, @Nullable String defaultValue) {
    return string(key).orElse(defaultValue);
  }

  /** A string that must be set and non-blank; records "is required" otherwise and returns null. */
  public @Nullable String requiredString(String key) {
    Optional<String> v = string(key);
    if (v.isEmpty() || v.get().isBlank()) {
      if (v.isEmpty() && !values.containsKey(key)) {
        problem(key, "is required");
      } else if (v.isEmpty() || v.get().isBlank()) {
        problem(key, "must not be empty");
      }
      return null;
    }
    return v.get();
  }

  /** One of the given choices (case-insensitive), lower-cased. */
  public String choice(String key, String defaultValue, String... choices) {
    Optional<String> v = string(key);
    if (v.isEmpty()) {
      return defaultValue;
    }
    String s = v.get().toLowerCase(Locale.ROOT);
    for (String c : choices) {
      if (c.equals(s)) {
        return c;
      }
    }
    problem(key, "must be one of " + String.join(", ", choices) + ", got \"" + v.get() + "\"");
    return defaultValue;
  }

  /** An integer within [min, max]. */
  public int integer(String key, int defaultValue, int min, int max) {
    long v = longValue(key, defaultValue, min, max);
    return (int) v;
  }

  public long longValue(String key, long defaultValue, long min, long max) {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    long v;
    try {
      v = Long.parseLong(s.get().trim());
    } catch (NumberFormatException e) {
      problem(key, "must be a whole number, got \"" + s.get() + "\"");
      return defaultValue;
    }
    if (v < min || v > max) {
      problem(key, "must be " + min + "-" + max + ", got " + v);
      return defaultValue;
    }
    return v;
  }

  public boolean bool(String key, boolean defaultValue) {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    switch (s.get().trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1":
        return true;
      case "false", "no", "off", "0":
        return false;
      default:
        problem(key, "must be true or false, got \"" + s.get() + "\"");
        return defaultValue;
    }
  }

  /**
   * A duration: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 48h}, {@code 7d}, ISO-8601
   * ({@code PT1H}), or a bare number of seconds.
   */
  public @Nullable Duration duration(String key, @Nullable Duration defaultValue) {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    try {
      return parseDuration(s.get());
    } catch (IllegalArgumentException e) {
      problem(key, e.getMessage());
      return defaultValue;
    }
  }

  /** Parses the forms {@link #duration} accepts. */
  public static Duration parseDuration(String text) {
    String t = text.trim();
    if (t.startsWith("P") || t.startsWith("p")) {
      try {
        return Duration.parse(t.toUpperCase(Locale.ROOT));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("must be a duration like 30s, 5m, 48h or 7d, got \"" + text + "\"");
      }
    }
    Matcher m = DURATION.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException("must be a duration like 30s, 5m, 48h or 7d, got \"" + text + "\"");
    }
    String unit = m.group(2) == null ? "s" : m.group(2);
    try {
      long n = Long.parseLong(m.group(1));
      return switch (unit) {
        case "ms" -> Duration.ofMillis(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        case "d" -> Duration.ofDays(n);
        default -> Duration.ofSeconds(n);
      };
    } catch (ArithmeticException | NumberFormatException e) {
      // Digits beyond a long, or days beyond what Duration holds: still a problem with a path, not a crash.
      throw new IllegalArgumentException("is too long a duration, got \"" + text + "\"");
    }
  }

  /** A secret value, if set. Its text never appears in messages. */
  public Optional<Secret> secret(String key) {
    Object v = get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (v instanceof Secret s) {
      secretsRead.accept(s);
      return Optional.of(s);
    }
    if (v instanceof Map || v instanceof List) {
      problem(key, "must be a single value");
      return Optional.empty();
    }
    Secret s = Secret.of(v.toString());
    secretsRead.accept(s);
    return Optional.of(s);
  }

  /**
   * Calls {@code sink} with every secret this config (or a nested section of it) reads from now on,
   * through {@link #secret}, {@link #requiredSecret} or {@link #secretMap}: the assembly collects them
   * to keep them out of every PR status and log line ({@link Redactor}). Returns this config.
   */
  public ProviderConfig onSecretRead(java.util.function.Consumer<Secret> sink) {
    this.secretsRead = Objects.requireNonNull(sink, "sink");
    return this;
  }

  public @Nullable Secret requiredSecret(String key) {
    Optional<Secret> s = secret(key);
    if (s.isEmpty() || s.get().isEmpty()) {
      problem(key, s.isEmpty() ? "is required" : "must not be empty");
      return null;
    }
    return s.get();
  }

  /** A list of strings; a single value is read as a one-element list. */
  public List<String> strings(String key) {
    Object v = get(key);
    if (v == null) {
      return List.of();
    }
    if (v instanceof List<?> l) {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < l.size(); i++) {
        Object e = l.get(i);
        if (e == null || e instanceof Map || e instanceof List) {
          problem(key + "[" + i + "]", "must be a single value");
        } else {
          out.add(e.toString());
        }
      }
      return List.copyOf(out);
    }
    if (v instanceof Map) {
      problem(key, "must be a list, not a map");
      return List.of();
    }
    return List.of(v.toString());
  }

  /** A map of string to string (e.g. env vars). */
  public Map<String, String> stringMap(String key) {
    Object v = get(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      problem(key, "must be a map of name: value");
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, e) -> {
      if (e instanceof Map || e instanceof List) {
        problem(key + "." + k, "must be a single value");
      } else {
        out.put(String.valueOf(k), e == null ? "" : e.toString());
      }
    });
    return Collections.unmodifiableMap(out);
  }

  /** A map of name to secret (e.g. secret env vars). */
  public Map<String, Secret> secretMap(String key) {
    Map<String, Secret> out = new LinkedHashMap<>();
    stringMap(key).forEach((k, v) -> {
      Secret s = Secret.of(v);
      secretsRead.accept(s);
      out.put(k, s);
    });
    return Collections.unmodifiableMap(out);
  }

  /** A nested section; empty if absent. Its problems are reported with this config's. */
  public ProviderConfig section(String key) {
    Object v = get(key);
    Map<String, ?> m = Map.of();
    if (v instanceof Map<?, ?> map) {
      Map<String, Object> copy = new LinkedHashMap<>();
      map.forEach((k, e) -> copy.put(String.valueOf(k), e));
      m = copy;
    } else if (v != null) {
      problem(key, "must be a map");
    }
    ProviderConfig child = new ProviderConfig(path + "." + key, m, problems);
    child.secretsRead = secretsRead;
    children.put(key, child);
    return child;
  }

  /** Every entry of a map of sections, e.g. {@code services: {redis: {...}, db: {...}}}. */
  public Map<String, ProviderConfig> sections(String key) {
    ProviderConfig parent = section(key);
    Map<String, ProviderConfig> out = new LinkedHashMap<>();
    for (String k : parent.keys()) {
      out.put(k, parent.section(k));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Records a problem found by the provider's own checks, e.g. two options that exclude each other. */
  public void problem(String key, String message) {
    problems.add(path + "." + key + ": " + message);
  }

  /** Marks keys as known without reading them (e.g. {@code provider}, read by the registry). */
  public void ignore(String... keys) {
    read.addAll(List.of(keys));
  }

  /** Every problem recorded so far, including unknown keys; does not throw. */
  public List<String> problems() {
    List<String> all = new ArrayList<>(problems);
    collectUnknown(all);
    return all;
  }

  /**
   * Runs a provider builder's {@code build()} for a factory: the {@link ConfigurationException} of a
   * builder names keys without a section ({@code tsigSecret: ...}, as when built in code); here each
   * problem gets this section's path ({@code dns.tsigSecret: ...}), like every other problem of the file.
   */
  public <T> T build(java.util.function.Supplier<T> builder) {
    try {
      return builder.get();
    } catch (ConfigurationException e) {
      String prefix = path + ".";
      throw new ConfigurationException(e.problems().stream().map(p -> p.startsWith(prefix) ? p : prefix + p).toList());
    }
  }

  /** Throws a {@link ConfigurationException} listing every problem, if there is any. */
  public void validate() {
    List<String> all = problems();
    if (!all.isEmpty()) {
      throw new ConfigurationException(all);
    }
  }

  private void collectUnknown(List<String> out) {
    Set<String> known = new TreeSet<>(read);
    for (String k : values.keySet()) {
      if (!read.contains(k)) {
        out.add(path + "." + k + ": unknown key" + (known.isEmpty() ? "" : " (known here: " + String.join(", ", known) + ")"));
      }
    }
    for (ProviderConfig c : children.values()) {
      c.collectUnknown(out);
    }
  }

  private Object get(String key) {
    read.add(key);
    return values.get(key);
  }

  /** Lists the keys, never the values (which may be secrets). */
  @Override
  public String toString() {
    return "ProviderConfig{" + path + ", keys=" + values.keySet() + "}";
  }
}
