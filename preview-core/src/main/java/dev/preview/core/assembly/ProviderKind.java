package dev.preview.core.assembly;

import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;

/**
 * The five kinds of provider a preview installation composes, each with the {@code preview.yaml}
 * section that configures it and the factory interface {@link ProviderRegistry} discovers.
 */
public enum ProviderKind {
  /** {@code environment:} section, an {@link EnvironmentProvider.Factory}. */
  ENVIRONMENT("environment", "environment", EnvironmentProvider.Factory.class),
  /** {@code database:} section, a {@link DatabaseProvider.Factory}. */
  DATABASE("database", "database", DatabaseProvider.Factory.class),
  /** {@code dns:} section, a {@link DnsProvider.Factory}. */
  DNS("dns", "DNS", DnsProvider.Factory.class),
  /** {@code scm:} section, a {@link ScmNotifier.Factory}. */
  SCM("scm", "SCM notifier", ScmNotifier.Factory.class),
  /** {@code pullRequests:} section, a {@link PullRequestSource.Factory}. */
  PULL_REQUESTS("pullRequests", "pull request source", PullRequestSource.Factory.class);

  private final String key;
  private final String displayName;
  private final Class<?> factoryType;

  ProviderKind(String key, String displayName, Class<?> factoryType) {
    this.key = key;
    this.displayName = displayName;
    this.factoryType = factoryType;
  }

  /** The top-level key of the section in {@code preview.yaml}, e.g. {@code pullRequests}. */
  public String key() {
    return key;
  }

  /** A name for messages, e.g. {@code "SCM notifier"}. */
  public String displayName() {
    return displayName;
  }

  /** The factory interface registered under {@code META-INF/services/<binary name>}. */
  public Class<?> factoryType() {
    return factoryType;
  }
}
