package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DatabaseConnection;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fake passes the kit, plus the fake's own helpers. */
class FakeDatabaseProviderTest extends DatabaseProviderKit {
  private final FakeDatabaseProvider server = new FakeDatabaseProvider();

  @Override
  protected DatabaseProvider createProvider() {
    return server.reopen();
  }

  @Override
  protected void assertUsable(DatabaseConnection c) {
    assertThat(server.accepts(c)).as("the fake server accepts %s", c).isTrue();
  }

  @Test
  void connectionFactsFollowTheNamingRules() {
    PreviewKey key = key(5);
    DatabaseConnection c = provider().create(key, new DatabaseSpec("baseline", Map.of("a", "b")));

    String name = Names.postgres(key);
    assertThat(c.name()).isEqualTo(name);
    assertThat(c.url()).isEqualTo("fake://db/" + name);
    assertThat(c.env()).containsEntry("DATABASE_NAME", name);
    assertThat(c.secretEnv().get("DATABASE_URL").reveal()).contains(c.password().reveal()).endsWith("@db/" + name);
    assertThat(server.spec(key)).get().extracting(DatabaseSpec::baseline).isEqualTo("baseline");
    assertThat(server.connection(key)).contains(c);
  }

  @Test
  void aDroppedDatabaseNoLongerAcceptsItsOldCredentials() {
    PreviewKey key = key(1);
    DatabaseConnection c = provider().create(key, DatabaseSpec.empty());
    provider().drop(key);

    assertThat(server.accepts(c)).isFalse();
    DatabaseConnection again = provider().create(key, DatabaseSpec.empty());
    assertThat(again.password()).isNotEqualTo(c.password());
  }

  @Test
  void plantedDatabasesAreListed() {
    PreviewKey leftover = key(8);
    server.plant(leftover);
    assertThat(mine(provider())).containsExactly(leftover);
    assertThat(server.keys()).containsExactly(leftover);
  }
}
