package dev.preview.core.assembly;

import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The providers built from one {@link PreviewConfig} by {@link PreviewConfig#createProviders}.
 * {@link #close()} closes every one of them (last created first); a failure to close one is logged
 * and does not stop the others.
 */
public final class ConfiguredProviders implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfiguredProviders.class);

  private final EnvironmentProvider environment;
  private final DatabaseProvider database;
  private final DnsProvider dns;
  private final ScmNotifier notifier;
  private final PullRequestSource pullRequests;

  ConfiguredProviders(EnvironmentProvider environment, DatabaseProvider database, DnsProvider dns,
      ScmNotifier notifier, PullRequestSource pullRequests) {
    this.environment = Objects.requireNonNull(environment, "environment");
    this.database = database;
    this.dns = dns;
    this.notifier = Objects.requireNonNull(notifier, "notifier");
    this.pullRequests = pullRequests;
  }

  /** The provider of the {@code environment} section ({@code local} by default). */
  public EnvironmentProvider environment() {
    return environment;
  }

  /** Empty when the file has no {@code database} section. */
  public Optional<DatabaseProvider> database() {
    return Optional.ofNullable(database);
  }

  /** Empty when the file has no {@code dns} section. */
  public Optional<DnsProvider> dns() {
    return Optional.ofNullable(dns);
  }

  /** The notifier of the {@code scm} section ({@code console} by default). */
  public ScmNotifier notifier() {
    return notifier;
  }

  /**
   * The {@code pullRequests} provider; when that section is absent, the pull request source named
   * like the {@code scm} provider (reading the {@code scm} section), if one exists; else empty.
   */
  public Optional<PullRequestSource> pullRequests() {
    return Optional.ofNullable(pullRequests);
  }

  @Override
  public void close() {
    List<AutoCloseable> all = new ArrayList<>();
    all.add(environment);
    all.add(database);
    all.add(dns);
    all.add(notifier);
    all.add(pullRequests);
    closeAll(all);
  }

  static void closeAll(List<? extends AutoCloseable> created) {
    for (int i = created.size() - 1; i >= 0; i--) {
      AutoCloseable c = created.get(i);
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("Closing {} failed: {}", c.getClass().getName(), e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "ConfiguredProviders{environment=" + environment.name()
        + ", database=" + (database == null ? "none" : database.name())
        + ", dns=" + (dns == null ? "none" : dns.name())
        + ", notifier=" + notifier.name()
        + ", pullRequests=" + (pullRequests == null ? "none" : pullRequests.name()) + "}";
  }
}
