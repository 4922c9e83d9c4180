package dev.preview.spi;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Takes secret values out of text before it reaches a PR, a log or a state file: the one filter the
 * orchestrator applies to log tails, reasons, exception messages and config problems.
 *
 * <p>What it removes:
 * <ul>
 *   <li>every known secret value of at least {@value #MIN_LENGTH} characters, wherever it appears,
 *       also in its URL-encoded and Base64 forms, replaced by {@code ******} (or by the replacement
 *       given with {@link Builder#value(String, String)}, e.g. {@code ${DB_PASSWORD}} in config problems);
 *   <li>the value of every {@code NAME=value} (and {@code NAME: value}, {@code "NAME":"value"}) whose
 *       NAME is a known secret name, whatever the value's length: an app that prints its environment
 *       shows {@code STRIPE_KEY=******}.
 * </ul>
 * A value shorter than {@value #MIN_LENGTH} characters is not searched for in free text: a one-letter
 * secret would otherwise blank every {@code a} of every message. Such a secret is still removed in
 * its {@code NAME=value} form; give secrets at least {@value #MIN_LENGTH} characters (real ones have
 * far more).
 *
 * <p>Immutable and thread-safe; {@link #plus} returns a new instance.
 */
public final class Redactor {
  /** Shortest secret value searched for in free text. */
  public static final int MIN_LENGTH = 6;
  /** What a removed value becomes. */
  public static final String MASK = "******";
  private static final Redactor NONE = new Redactor(Map.of(), Set.of());

  /** Value (or an encoded form of it) -> replacement, longest value first. */
  private final Map<String, String> values;
  private final Set<String> names;
  private final @Nullable Pattern assignment;

  private Redactor(Map<String, String> values, Set<String> names) {
    List<Map.Entry<String, String>> sorted = new ArrayList<>(values.entrySet());
    sorted.sort(Comparator.comparingInt((Map.Entry<String, String> e) -> e.getKey().length()).reversed()
        .thenComparing(Map.Entry::getKey));
    Map<String, String> v = new LinkedHashMap<>();
    sorted.forEach(e -> v.put(e.getKey(), e.getValue()));
    this.values = java.util.Collections.unmodifiableMap(v);
    this.names = Set.copyOf(names);
    this.assignment = names.isEmpty() ? null : assignmentPattern(this.names);
  }

  /** Removes nothing. */
  public static Redactor none() {
    return NONE;
  }

  /** A redactor of {@code secrets} (values) and {@code names} (for {@code NAME=value}). */
  public static Redactor of(Collection<Secret> secrets, Collection<String> names) {
    Builder b = builder();
    secrets.forEach(b::secret);
    names.forEach(b::name);
    return b.build();
  }

  /** A redactor of the secret env vars {@code secrets}: their values, and their names. */
  public static Redactor of(Map<String, Secret> secrets) {
    return builder().secrets(secrets).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** This redactor and {@code other}'s values and names. */
  public Redactor plus(Redactor other) {
    if (other.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return other;
    }
    Map<String, String> v = new LinkedHashMap<>(values);
    other.values.forEach(v::putIfAbsent);
    Set<String> n = new LinkedHashSet<>(names);
    n.addAll(other.names);
    return new Redactor(v, n);
  }

  /** Whether it removes nothing. */
  public boolean isEmpty() {
    return values.isEmpty() && names.isEmpty();
  }

  /** {@code text} without any known secret; null stays null. */
  public @Nullable String redact(@Nullable String text) {
    if (text == null || text.isEmpty() || isEmpty()) {
      return text;
    }
    String out = text;
    for (Map.Entry<String, String> e : values.entrySet()) {
      if (out.contains(e.getKey())) {
        out = out.replace(e.getKey(), e.getValue());
      }
    }
    if (assignment != null) {
      Matcher m = assignment.matcher(out);
      if (m.find()) {
        StringBuilder sb = new StringBuilder(out.length());
        do {
          String value = m.group(3);
          m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1) + m.group(2)
              + (value.startsWith("\"") ? "\"" + MASK + "\"" : MASK)));
        } while (m.find());
        m.appendTail(sb);
        out = sb.toString();
      }
    }
    return out;
  }

  /** Every line redacted. */
  public List<String> redact(List<String> lines) {
    if (isEmpty() || lines.isEmpty()) {
      return lines;
    }
    List<String> out = new ArrayList<>(lines.size());
    lines.forEach(l -> out.add(redact(l)));
    return List.copyOf(out);
  }

  /**
   * {@code t} as an exception whose message (and whose causes' and suppressed exceptions' messages)
   * hold no known secret, with the original stack traces: what to log or hand to a listener. Returns
   * {@code t} itself when nothing in it needed redacting.
   */
  public Throwable redact(Throwable t) {
    if (isEmpty() || !needsRedaction(t, 0)) {
      return t;
    }
    return copy(t, 0);
  }

  private boolean needsRedaction(@Nullable Throwable t, int depth) {
    if (t == null || depth > 20) {
      return false;
    }
    String m = t.getMessage();
    if (m != null && !m.equals(redact(m))) {
      return true;
    }
    for (Throwable s : t.getSuppressed()) {
      if (needsRedaction(s, depth + 1)) {
        return true;
      }
    }
    return t.getCause() != t && needsRedaction(t.getCause(), depth + 1);
  }

  private Throwable copy(Throwable t, int depth) {
    RedactedException r = new RedactedException(t.getClass().getName(), redact(t.getMessage()),
        t.getCause() == null || t.getCause() == t || depth > 20 ? null : copy(t.getCause(), depth + 1));
    r.setStackTrace(t.getStackTrace());
    for (Throwable s : t.getSuppressed()) {
      r.addSuppressed(copy(s, depth + 1));
    }
    return r;
  }

  /** Names and counts only: never a value. */
  @Override
  public String toString() {
    return "Redactor{values=" + values.size() + ", names=" + new java.util.TreeSet<>(names) + "}";
  }

  /** {@code NAME=value}, {@code NAME: value}, {@code "NAME":"value"}, {@code 'NAME'='value'} for the names. */
  private static Pattern assignmentPattern(Set<String> names) {
    StringBuilder alt = new StringBuilder();
    names.stream().sorted(Comparator.comparingInt(String::length).reversed()).forEach(n -> {
      if (alt.length() > 0) {
        alt.append('|');
      }
      alt.append(Pattern.quote(n));
    });
    return Pattern.compile("((?<![A-Za-z0-9_])[\"']?(?:" + alt + ")[\"']?)(\\s*[=:]\\s*)(\"[^\"]*\"|'[^']*'|[^\\s,;}\"']+)");
  }

  /**
   * An exception with a redacted message standing in for another: its text names the original class.
   * Thrown by nothing; made by {@link Redactor#redact(Throwable)} for logs and listeners.
   */
  public static final class RedactedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String originalClass;

    RedactedException(String originalClass, @Nullable String message, @Nullable Throwable cause) {
      super(message, cause);
      this.originalClass = originalClass;
    }

    /** The class name of the exception this one stands in for. */
    public String originalClass() {
      return originalClass;
    }

    @Override
    public String toString() {
      String m = getLocalizedMessage();
      return m == null ? originalClass : originalClass + ": " + m;
    }
  }

  /** Collects values and names. */
  public static final class Builder {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> names = new LinkedHashSet<>();

    private Builder() {}

    /** A secret's value (and its encoded forms) becomes {@link #MASK}. */
    public Builder secret(Secret secret) {
      return value(Objects.requireNonNull(secret, "secret").reveal(), MASK);
    }

    /** Each secret's value, and its name for {@code NAME=value}. */
    public Builder secrets(Map<String, Secret> secrets) {
      secrets.forEach((name, s) -> {
        name(name);
        secret(s);
      });
      return this;
    }

    /**
     * {@code value} (and its URL-encoded and Base64 forms) becomes {@code replacement}; a value shorter
     * than {@link #MIN_LENGTH} is ignored (see the class comment).
     */
    public Builder value(String value, String replacement) {
      Objects.requireNonNull(value, "value");
      Objects.requireNonNull(replacement, "replacement");
      if (value.length() < MIN_LENGTH) {
        return this;
      }
      values.putIfAbsent(value, replacement);
      String url = URLEncoder.encode(value, StandardCharsets.UTF_8);
      if (!url.equals(value)) {
        values.putIfAbsent(url, replacement);
      }
      byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
      values.putIfAbsent(Base64.getEncoder().encodeToString(bytes), replacement);
      values.putIfAbsent(Base64.getEncoder().withoutPadding().encodeToString(bytes), replacement);
      values.putIfAbsent(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes), replacement);
      return this;
    }

    /** A secret's name: the value of {@code NAME=value} is removed, whatever its length. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.isBlank()) {
        names.add(name);
      }
      return this;
    }

    public Redactor build() {
      return values.isEmpty() && names.isEmpty() ? NONE : new Redactor(values, names);
    }
  }
}
