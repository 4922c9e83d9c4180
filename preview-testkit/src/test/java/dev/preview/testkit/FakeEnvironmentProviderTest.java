package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fake passes the kit, plus the fake's own helpers. */
class FakeEnvironmentProviderTest extends EnvironmentProviderKit {
  private final FakeEnvironmentProvider infrastructure = new FakeEnvironmentProvider();

  @Override
  protected EnvironmentProvider createProvider() {
    return infrastructure.reopen();
  }

  @Override
  protected EnvironmentSpec.Builder spec(PreviewKey key, String revision) {
    return EnvironmentSpec.builder(key, revision).command(List.of("app")).port(8080);
  }

  @Test
  void urlComesFromTheHostnameOrTheKey() {
    PreviewKey key = key(7);
    Environment plain = provider().apply(kitSpec(key, "abc1234").build());
    assertThat(plain.url()).hasToString("http://app-pr-7-" + dev.preview.spi.Names.hash(key) + ".fake.test/");
    assertThat(plain.phase()).isEqualTo(Environment.Phase.RUNNING);

    Environment named = provider().apply(kitSpec(key, "abc1234").hostname("pr-7.example.test").build());
    assertThat(named.url()).isEqualTo(URI.create("http://pr-7.example.test/"));
  }

  @Test
  void helpersShowHistoryCurrentSpecKeysAndDeletes() {
    PreviewKey k1 = key(1);
    PreviewKey k2 = key(2);
    provider().apply(kitSpec(k1, "aaaa111").build());
    provider().apply(kitSpec(k2, "bbbb222").build());
    provider().apply(kitSpec(k1, "cccc333").build());
    provider().delete(k2);

    assertThat(infrastructure.applied()).extracting(EnvironmentSpec::revision)
        .containsExactly("aaaa111", "bbbb222", "cccc333");
    assertThat(infrastructure.applied(k1)).extracting(EnvironmentSpec::revision)
        .containsExactly("aaaa111", "cccc333");
    assertThat(infrastructure.current(k1)).get().extracting(EnvironmentSpec::revision).isEqualTo("cccc333");
    assertThat(infrastructure.current(k2)).isEmpty();
    assertThat(infrastructure.keys()).containsExactly(k1);
    assertThat(infrastructure.deleted()).containsExactly(k2);
  }

  @Test
  void plantedEnvironmentsAreListedAsOrphans() {
    PreviewKey orphan = key(9);
    infrastructure.plant(new Environment(orphan, "dead123", null, Environment.Phase.FAILED,
        Labels.ownership(orphan, "dead123")));

    assertThat(mine(provider())).singleElement().satisfies(e -> {
      assertThat(e.key()).isEqualTo(orphan);
      assertThat(e.phase()).isEqualTo(Environment.Phase.FAILED);
    });
    assertThat(infrastructure.current(orphan)).isEmpty();
  }

  @Test
  void logsReturnTheLastLinesOfTheCannedOutput() {
    PreviewKey key = key(1);
    infrastructure.setLogs(key, List.of("one", "two", "three"));

    assertThat(provider().logs(key, 2)).containsExactly("two", "three");
    assertThat(provider().logs(key, 10)).containsExactly("one", "two", "three");
    assertThat(provider().logs(key(2), 5)).isEmpty();
  }

  @Test
  void suspendOfAnAbsentEnvironmentFails() {
    assertThatThrownBy(() -> provider().suspend(key(3))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("apply it first");
  }

  @Test
  void anInjectedFailureChangesNothing() {
    PreviewKey key = key(1);
    infrastructure.faults().failNext("environment.apply");

    assertThatThrownBy(() -> provider().apply(kitSpec(key, "abc1234").build()))
        .isInstanceOf(ProviderException.class).hasMessageContaining("injected failure: environment.apply call 1");
    assertThat(infrastructure.keys()).isEmpty();
    assertThat(infrastructure.applied()).isEmpty();
    assertThat(provider().apply(kitSpec(key, "abc1234").build()).revision()).isEqualTo("abc1234");
  }
}
