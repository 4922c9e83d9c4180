package dev.preview.core.assembly;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One provider's section of {@code preview.yaml}: its kind, the provider name chosen by its
 * {@code provider} key, and the rest of its keys (already interpolated) for the provider to read.
 *
 * <p>{@link #config()} returns a <em>fresh</em> {@link ProviderConfig} on every call (with
 * {@code provider} already marked as read), because a {@code ProviderConfig} remembers what was read
 * and the problems found: creating a provider twice from one section must not report stale problems.
 * Immutable but for {@link #secretsRead()}; {@link #toString()} lists keys, never values (they may be secrets).
 */
public final class ProviderSection {
  private final ProviderKind kind;
  private final String provider;
  private final String path;
  private final Map<String, Object> values;
  private final boolean reportUnknownKeys;
  /** Every secret a provider read from {@link #config()}: kept out of PRs and logs by the orchestrator. */
  private final java.util.List<Secret> secretsRead = new java.util.concurrent.CopyOnWriteArrayList<>();

  private ProviderSection(ProviderKind kind, String provider, String path, Map<String, ?> values,
      boolean reportUnknownKeys) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.provider = Objects.requireNonNull(provider, "provider");
    this.path = Objects.requireNonNull(path, "path");
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values == null ? Map.of() : values));
    this.reportUnknownKeys = reportUnknownKeys;
  }

  /**
   * A section built in code, e.g. {@code ProviderSection.of(ProviderKind.DNS, "cloudflare",
   * Map.of("zone", "example.com"))}. Values are strings, numbers, booleans, lists and maps, as a
   * YAML parser produces them; a {@code provider} entry, if present, is ignored by the provider.
   */
  public static ProviderSection of(ProviderKind kind, String provider, Map<String, ?> values) {
    return new ProviderSection(kind, provider, kind.key(), values, true);
  }

  /**
   * The same keys read by a provider of another kind (the pull request source reusing the
   * {@code scm} section). Keys it does not read are not reported: the section's own provider does that.
   */
  ProviderSection reusedAs(ProviderKind otherKind) {
    return new ProviderSection(otherKind, provider, path, values, false);
  }

  /** Which kind of provider the section configures. */
  public ProviderKind kind() {
    return kind;
  }

  /** The provider name, e.g. {@code docker}; matched against {@code Factory.name()}. */
  public String provider() {
    return provider;
  }

  /** The path of the section in the file, used as the prefix of problems, e.g. {@code environment}. */
  public String path() {
    return path;
  }

  /** The keys present, including {@code provider} when it was written. */
  public Set<String> keys() {
    return values.keySet();
  }

  /** The values as written (interpolated), for the assembly's own reading of installation-wide keys. */
  Map<String, Object> values() {
    return values;
  }

  /**
   * A new typed view of the section for {@code Factory.create}; {@code provider} counts as read, and
   * so do the installation-wide keys the assembly reads itself ({@code dns.target}, {@code dns.ttl}):
   * they reach the provider through {@link dev.preview.spi.ProviderContext#installation()}.
   */
  public ProviderConfig config() {
    ProviderConfig c = ProviderConfig.of(path, values).onSecretRead(secret -> {
      if (!secretsRead.contains(secret)) {
        secretsRead.add(secret);
      }
    });
    c.ignore("provider");
    if (kind == ProviderKind.DNS) {
      c.ignore("target", "ttl");
    }
    if (!reportUnknownKeys) {
      c.ignore(values.keySet().toArray(String[]::new));
    }
    return c;
  }

  /** The secrets that providers built from this section have read so far (tokens, passwords). */
  public java.util.List<Secret> secretsRead() {
    return java.util.List.copyOf(secretsRead);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ProviderSection s && s.kind == kind && s.provider.equals(provider)
        && s.path.equals(path) && s.values.equals(values) && s.reportUnknownKeys == reportUnknownKeys;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, provider, path);
  }

  @Override
  public String toString() {
    return "ProviderSection{" + path + ", provider=" + provider + ", keys=" + values.keySet() + "}";
  }
}
