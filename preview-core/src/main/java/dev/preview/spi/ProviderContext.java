package dev.preview.spi;

import java.util.Objects;

/**
 * What a provider factory builds its provider from: the typed {@link ProviderConfig} of its own
 * section of {@code preview.yaml}, and the {@link Installation} it belongs to (instance name,
 * clock, hostname rule, DNS target and TTL, ownership labels).
 *
 * <pre>{@code
 * public EnvironmentProvider create(ProviderContext context) {
 *   ProviderConfig config = context.config();
 *   String address = config.string("address", "http://127.0.0.1:4646");
 *   config.validate();
 *   return new NomadProvider(address, context.installation());   // list() filters on installation().owns(labels)
 * }
 * }</pre>
 *
 * <p>A provider never reads installation-wide values from its own section: they are written once,
 * and the assembly has already checked them. Immutable; the config inside is not thread-safe (a
 * factory reads it on one thread).
 */
public final class ProviderContext {
  private final ProviderConfig config;
  private final Installation installation;

  private ProviderContext(ProviderConfig config, Installation installation) {
    this.config = Objects.requireNonNull(config, "config");
    this.installation = Objects.requireNonNull(installation, "installation");
  }

  /** A context for {@code config} in {@code installation}. */
  public static ProviderContext of(ProviderConfig config, Installation installation) {
    return new ProviderContext(config, installation);
  }

  /** A context for {@code config} in the {@linkplain Installation#defaults() default installation}. */
  public static ProviderContext of(ProviderConfig config) {
    return new ProviderContext(config, Installation.defaults());
  }

  /** The provider's own section, to read with its typed accessors and then {@link ProviderConfig#validate()}. */
  public ProviderConfig config() {
    return config;
  }

  /** The installation-wide values. */
  public Installation installation() {
    return installation;
  }

  @Override
  public String toString() {
    return "ProviderContext{" + config + ", " + installation + "}";
  }
}
