package dev.preview.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two installations ({@code a-<random>} and {@code b-<random>}) on ONE server: both preview the same
 * key, and each previews a key of its own. Extend it per engine and say how a preview writes and
 * reads a row with its own credentials, and how one preview's credentials fail on the other's data.
 */
public abstract class TwoInstallationsContract {
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  protected final Installation a = Installation.builder().instance("a-" + run).build();
  protected final Installation b = Installation.builder().instance("b-" + run).build();
  protected final PreviewKey shared = PreviewKey.pr("acme/shop", 7);
  protected final PreviewKey onlyA = PreviewKey.pr("acme/shop", 8);
  protected final PreviewKey onlyB = PreviewKey.branch("acme/shop", "feature/b");
  private final List<Runnable> cleanup = new ArrayList<>();

  /** A fresh provider of {@code installation} on the shared server (directory), as after a restart. */
  protected abstract DatabaseProvider provider(Installation installation);

  /** Writes one row holding {@code text} into the preview's database with its own credentials. */
  protected abstract void write(DatabaseConnection c, String text) throws Exception;

  /** Every row of the preview's database, read with its own credentials. */
  protected abstract List<String> read(DatabaseConnection c) throws Exception;

  /** Asserts that {@code mine}'s credentials reach none of {@code other}'s rows. */
  protected abstract void assertCannotRead(DatabaseConnection mine, DatabaseConnection other) throws Exception;

  protected DatabaseSpec spec(Installation installation) {
    return DatabaseSpec.empty();
  }

  private DatabaseConnection create(Installation installation, PreviewKey key) {
    DatabaseConnection c = provider(installation).create(key, spec(installation));
    cleanup.add(() -> provider(installation).drop(key));
    return c;
  }

  @AfterEach
  void dropAll() {
    cleanup.forEach(Runnable::run);
  }

  @Test
  void theSameKeyInTwoInstallationsGetsTwoDatabasesThatCannotReadEachOther() throws Exception {
    DatabaseConnection inA = create(a, shared);
    DatabaseConnection inB = create(b, shared);

    assertThat(inA.name()).isNotEqualTo(inB.name());
    assertThat(inA.url()).isNotEqualTo(inB.url());
    if (inA.username() != null) {
      assertThat(inA.username()).isNotEqualTo(inB.username());
    }
    write(inA, "written by a");
    write(inB, "written by b");
    assertThat(read(inA)).containsExactly("written by a");
    assertThat(read(inB)).containsExactly("written by b");
    assertCannotRead(inA, inB);
    assertCannotRead(inB, inA);

    // a create again in A (a new push) rotates A's password only: B's still works
    DatabaseConnection again = provider(a).create(shared, spec(a));
    assertThat(read(again)).containsExactly("written by a");
    assertThat(read(inB)).containsExactly("written by b");
  }

  @Test
  void listAndDropOfOneInstallationNeverSeeTheOthers() throws Exception {
    DatabaseConnection sharedA = create(a, shared);
    create(a, onlyA);
    DatabaseConnection sharedB = create(b, shared);
    DatabaseConnection ownB = create(b, onlyB);
    write(sharedB, "b's shared row");
    write(ownB, "b's own row");

    DatabaseProvider providerA = provider(a);
    assertThat(providerA.list()).containsExactlyInAnyOrder(shared, onlyA);
    assertThat(provider(b).list()).containsExactlyInAnyOrder(onlyB, shared);

    providerA.drop(shared);
    providerA.drop(onlyB); // not A's: nothing of A's under that key, and B's must survive
    assertThat(providerA.list()).containsExactlyInAnyOrder(onlyA);
    assertThat(read(sharedB)).containsExactly("b's shared row");
    assertThat(read(ownB)).containsExactly("b's own row");
    assertThat(provider(b).list()).containsExactlyInAnyOrder(onlyB, shared);
    assertDropped(sharedA);

    // a restarted installation knows only what the server says is its own
    assertThat(provider(a).list()).containsExactlyInAnyOrder(onlyA);
    assertThat(provider(b).list()).containsExactlyInAnyOrder(onlyB, shared);
  }

  /** Asserts that a dropped preview's database is gone (its credentials no longer work, or it is empty). */
  protected abstract void assertDropped(DatabaseConnection c) throws Exception;
}
