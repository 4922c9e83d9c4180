package dev.preview.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link DnsProvider}, as tests every provider must pass. Extend it and implement
 * {@link #createProvider()} and {@link #zone()}; records are made as
 * {@code <Names.dnsLabel(key)>.<zone>}, A records pointing at {@link #targetAddress()} (then
 * {@link #otherAddress()} to test updates in place).
 *
 * <pre>{@code
 * class Rfc2136DnsProviderIT extends DnsProviderKit {
 *   protected DnsProvider createProvider() { return new Rfc2136DnsProvider.Factory().create(ProviderContext.of(config, installation)); }
 *   protected String zone() { return "preview.test"; }
 * }
 * }</pre>
 *
 * <p>Owners are keys of a repository no one else uses ({@code kit-<random>/app}); the kit looks
 * only at those in {@code list()} and deletes every hostname it used after each test.
 */
public abstract class DnsProviderKit {
  private final String repository = KitIds.repository();
  private final KitResources<DnsProvider, String> resources =
      new KitResources<>(this::createProvider, DnsProvider::close);

  /** A new provider. Called once per test, and a second time in tests that simulate a restart. */
  protected abstract DnsProvider createProvider();

  /** The zone records are made under, e.g. {@code preview.test}. */
  protected abstract String zone();

  /** The address records point at. */
  protected String targetAddress() {
    return "192.0.2.10";
  }

  /** A second address, to test updates in place. */
  protected String otherAddress() {
    return "192.0.2.11";
  }

  /** How long the kit waits for the DNS service to show a change. */
  protected Duration timeout() {
    return Duration.ofSeconds(30);
  }

  /** The provider of this test, created on first use. */
  protected final DnsProvider provider() {
    return resources.provider();
  }

  /** Another instance, as after a restart of the process. */
  protected final DnsProvider newProvider() {
    return resources.newProvider();
  }

  /** This test's repository: {@code kit-<random>/app}. */
  protected final String repository() {
    return repository;
  }

  /** The key of PR {@code n} in this test's repository. */
  protected final PreviewKey key(int n) {
    return PreviewKey.pr(repository, n);
  }

  /** The hostname of {@code key} in {@link #zone()}; it is deleted after the test. */
  protected final String hostname(PreviewKey key) {
    return resources.use(Names.dnsLabel(key) + "." + zone());
  }

  /** An A record for {@code key}'s hostname owned by {@code owner}. */
  protected final DnsRecord record(PreviewKey key, PreviewKey owner, String address) {
    return new DnsRecord(hostname(key), DnsRecord.Type.A, address, 60, owner);
  }

  /** The records of this test's repository in {@code p.list()}. */
  protected final List<DnsRecord> mine(DnsProvider p) {
    List<DnsRecord> all = p.list();
    assertThat(all).as("list() never returns null").isNotNull();
    return all.stream().filter(r -> r.owner().repository().equals(repository)).toList();
  }

  private List<DnsRecord> at(DnsProvider p, String hostname) {
    return mine(p).stream().filter(r -> r.hostname().equals(hostname)).toList();
  }

  @AfterEach
  protected final void deleteEveryHostnameTheTestUsed() {
    resources.cleanUp(DnsProvider::delete);
  }

  @Test
  public void upsertIsIdempotent() {
    PreviewKey key = key(1);
    DnsRecord record = record(key, key, targetAddress());

    provider().upsert(record);
    provider().upsert(record);

    KitIds.eventually("one record", timeout()).untilAsserted(() ->
        assertThat(at(provider(), record.hostname())).singleElement().satisfies(r -> {
          assertThat(r.value()).isEqualTo(targetAddress());
          assertThat(r.type()).isEqualTo(DnsRecord.Type.A);
          assertThat(r.owner()).isEqualTo(key);
        }));
  }

  @Test
  public void upsertWithANewValueUpdatesInPlace() {
    PreviewKey key = key(1);
    provider().upsert(record(key, key, targetAddress()));

    provider().upsert(record(key, key, otherAddress()));

    KitIds.eventually("the record has the new value", timeout()).untilAsserted(() ->
        assertThat(at(provider(), hostname(key))).as("updated in place, not added")
            .singleElement().extracting(DnsRecord::value).isEqualTo(otherAddress()));
  }

  @Test
  public void deleteIsIdempotentAndDeletingAnAbsentHostnameIsFine() {
    String absent = hostname(key(2));
    assertThatCode(() -> provider().delete(absent)).as("delete of a hostname that never existed")
        .doesNotThrowAnyException();

    PreviewKey key = key(1);
    provider().upsert(record(key, key, targetAddress()));
    provider().delete(hostname(key));
    assertThatCode(() -> provider().delete(hostname(key))).as("second delete").doesNotThrowAnyException();

    KitIds.eventually("the record is gone", timeout()).untilAsserted(() ->
        assertThat(at(provider(), hostname(key))).isEmpty());
  }

  @Test
  public void listReturnsOwnedRecordsWithTheirOwnerAndSoDoesANewInstance() {
    PreviewKey k1 = key(1);
    PreviewKey k2 = key(2);
    provider().upsert(record(k1, k1, targetAddress()));
    provider().upsert(record(k2, k2, otherAddress()));

    KitIds.eventually("both records listed", timeout()).untilAsserted(() ->
        assertThat(mine(provider())).extracting(DnsRecord::hostname, DnsRecord::owner, DnsRecord::value)
            .containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(hostname(k1), k1, targetAddress()),
                org.assertj.core.groups.Tuple.tuple(hostname(k2), k2, otherAddress())));

    DnsProvider restarted = newProvider();
    assertThat(mine(restarted)).as("list() of a new instance reads the DNS service")
        .extracting(DnsRecord::owner).containsExactlyInAnyOrder(k1, k2);
    restarted.delete(hostname(k1));
    KitIds.eventually("a delete by the new instance is seen by the old one", timeout()).untilAsserted(() ->
        assertThat(mine(provider())).extracting(DnsRecord::owner).containsExactly(k2));
  }

  @Test
  public void upsertOfAHostnameOwnedByAnotherKeyIsRefused() {
    PreviewKey owner = key(1);
    PreviewKey intruder = key(2);
    DnsRecord original = record(owner, owner, targetAddress());
    provider().upsert(original);

    DnsRecord takeover = new DnsRecord(original.hostname(), DnsRecord.Type.A, otherAddress(), 60, intruder);
    assertThatThrownBy(() -> provider().upsert(takeover))
        .as("a record owned by another preview is never overwritten")
        .isInstanceOf(ProviderException.class);

    assertThat(at(provider(), original.hostname())).singleElement().satisfies(r -> {
      assertThat(r.owner()).isEqualTo(owner);
      assertThat(r.value()).isEqualTo(targetAddress());
    });
  }
}
