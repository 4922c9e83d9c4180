package dev.preview.db.internal;

import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a PR's own migrations are, in its checkout: {@code database.branchMigrations} resolved
 * against {@code DatabaseSpec.buildContext()}. The checkout is the PR's, so it may hold symlinks that
 * point anywhere on the host: the directory and every file in it must resolve inside the checkout,
 * or nothing runs (a migration file linked to a host file would be read by this process and its text
 * could come back in an error).
 */
public final class BranchMigrationsDir {
  private static final Logger LOG = LoggerFactory.getLogger(BranchMigrationsDir.class);

  private BranchMigrationsDir() {}

  /**
   * The directory to run migrations from, or empty when {@code relative} or {@code checkout} is unset
   * or the branch has no such directory (no migrations of its own: not an error).
   *
   * @throws ProviderException (not retryable) if the directory or a file in it resolves outside the checkout
   */
  public static Optional<Path> resolve(String provider, PreviewKey key, String relative, Path checkout) {
    if (relative == null || checkout == null) {
      return Optional.empty();
    }
    Path root = checkout.toAbsolutePath().normalize();
    Path dir = root.resolve(relative).normalize();
    if (!Files.isDirectory(dir)) {
      LOG.warn("{}: no branch migrations for {}: {} is not a directory (branchMigrations: {})", provider, key, dir,
          relative);
      return Optional.empty();
    }
    try {
      Path realRoot = root.toRealPath();
      List<Path> entries;
      try (Stream<Path> walk = Files.walk(dir)) {
        entries = walk.toList();
      }
      for (Path p : entries) {
        if (!p.toRealPath().startsWith(realRoot)) {
          throw new ProviderException(provider, "branchMigrations of " + key + ": " + root.relativize(p)
              + " resolves outside the PR's checkout (a symlink?); no migration was run", false);
        }
      }
    } catch (IOException e) {
      throw new ProviderException(provider, "cannot read branchMigrations " + dir + " of " + key + ": " + e.getMessage(),
          true, e);
    }
    return Optional.of(dir);
  }
}
