package dev.preview.spi;

import java.util.List;

/**
 * Gives each preview its own database (or schema, or key space), cloned from a known-good
 * baseline where the engine allows, with credentials that reach only that preview's data.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #create} and {@link #drop} are idempotent and safe for different keys concurrently.</li>
 *   <li>{@link #create} called again for an existing preview returns working connection facts for the
 *       existing data (it does not reset it), rotating the password if it cannot be read back.</li>
 *   <li>{@link #list()} finds databases by their generated names or ownership marks, never from memory.</li>
 *   <li>Identifiers are quoted and values bound; nothing from a PR reaches SQL unchecked.</li>
 * </ul>
 */
public interface DatabaseProvider extends AutoCloseable {

  String name();

  /** Creates (or adopts) the preview's database and returns how to reach it. */
  DatabaseConnection create(PreviewKey key, DatabaseSpec spec);

  /** Drops the preview's database and its user. Idempotent. */
  void drop(PreviewKey key);

  /** The previews that have a database here. May be empty, never null. */
  List<PreviewKey> list();

  @Override
  default void close() {}

  /** Discovered from {@code META-INF/services/dev.preview.spi.DatabaseProvider$Factory}. */
  interface Factory {
    /** The name users put in the {@code provider} key of the section. */
    String name();

    /**
     * Builds the provider from {@code context}: reads its settings from {@link ProviderContext#config()},
     * then calls {@link ProviderConfig#validate()} so all problems are reported at once; takes the
     * installation-wide values (instance, clock, hostnames, DNS target and TTL) from
     * {@link ProviderContext#installation()}, never from its own section. Must not contact any
     * server for a config that fails validation.
     *
     * @throws ConfigurationException listing every problem of the section
     */
    DatabaseProvider create(ProviderContext context);
  }
}
