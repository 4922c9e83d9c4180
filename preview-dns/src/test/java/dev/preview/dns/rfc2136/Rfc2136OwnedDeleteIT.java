package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * On the real BIND9: a change is one UPDATE message, a delete removes a name only for its owner
 * (another preview's record at the same name stays), and reconcile's many deletes go in one message.
 */
class Rfc2136OwnedDeleteIT {
  static final PreviewKey SHOP7 = PreviewKey.pr("acme/shop", 7);
  static final PreviewKey ZETA7 = PreviewKey.pr("zeta/app", 7);
  Rfc2136DnsProvider dns;

  @BeforeEach
  void setUp() {
    Bind9.require();
    dns = Bind9.provider(Map.of());
  }

  DnsRecord a(String host, String ip, PreviewKey owner) {
    return new DnsRecord(host, DnsRecord.Type.A, ip, 60, owner);
  }

  @Test
  void createUpdateAndDeleteAreOneMessageEach() {
    String host = Bind9.freshHost("one");
    long m0 = dns.messagesSent();
    dns.upsert(a(host, "192.0.2.10", SHOP7));
    assertThat(dns.messagesSent() - m0).as("create").isEqualTo(1);
    dns.upsert(a(host, "192.0.2.11", SHOP7));
    assertThat(dns.messagesSent() - m0).as("create + update").isEqualTo(2);
    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.11");
    dns.delete(host, SHOP7);
    assertThat(dns.messagesSent() - m0).as("create + update + delete").isEqualTo(3);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void anUpdateAfterARestartOfTheProviderStillRewritesItsOwnName() {
    String host = Bind9.freshHost("restart");
    dns.upsert(a(host, "192.0.2.10", SHOP7));
    Rfc2136DnsProvider restarted = Bind9.provider(Map.of());
    restarted.upsert(a(host, "192.0.2.12", SHOP7));
    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.12");
    assertThat(restarted.list()).filteredOn(r -> r.hostname().equals(host)).singleElement()
        .satisfies(r -> assertThat(r.owner()).isEqualTo(SHOP7));
    restarted.delete(host, SHOP7);
  }

  @Test
  void theTeardownOfAnotherRepositorysPrSevenLeavesThisOnesRecord() {
    // pr-{number}.<zone> gives acme/shop#7 and zeta/app#7 the same name; acme/shop#7 has it
    String host = Bind9.freshHost("pr-7");
    dns.upsert(a(host, "192.0.2.7", SHOP7));

    dns.delete(host, ZETA7);

    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.7");
    assertThat(dns.list()).filteredOn(r -> r.hostname().equals(host)).singleElement()
        .satisfies(r -> assertThat(r.owner()).isEqualTo(SHOP7));
    dns.delete(host, SHOP7);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void deleteAllRemovesFiftyNamesInOneMessageAndStillSparesANameThatChangedOwner() {
    List<DnsRecord> listed = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      DnsRecord r = a(Bind9.freshHost("batch" + i), "192.0.2." + (i + 1), PreviewKey.pr("acme/shop", 100 + i));
      dns.upsert(r);
      listed.add(r);
    }
    long m0 = dns.messagesSent();
    dns.deleteAll(listed.subList(0, 40));
    assertThat(dns.messagesSent() - m0).as("40 names, one UPDATE").isEqualTo(1);
    assertThat(Bind9.query(listed.get(0).hostname(), Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(Bind9.query(listed.get(39).hostname(), Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);

    // after the listing, name 45 was torn down and taken by another preview
    DnsRecord moved = listed.get(45);
    dns.delete(moved.hostname(), moved.owner());
    dns.upsert(a(moved.hostname(), "198.51.100.45", ZETA7));
    dns.deleteAll(listed.subList(40, 50));

    assertThat(Bind9.answers(moved.hostname(), Type.A)).containsExactly("198.51.100.45");
    for (DnsRecord r : listed.subList(40, 50)) {
      if (r != moved) {
        assertThat(Bind9.query(r.hostname(), Type.A).getRcode()).as(r.hostname()).isEqualTo(Rcode.NXDOMAIN);
      }
    }
    dns.delete(moved.hostname(), ZETA7);
  }

  @Test
  void theOneMessageRewriteOfANameTakenOverMeanwhileIsRefusedByItsPrerequisite() {
    String host = Bind9.freshHost("taken");
    dns.upsert(a(host, "192.0.2.20", SHOP7)); // this provider now rewrites the name in one message
    Rfc2136DnsProvider other = Bind9.provider(Map.of());
    other.delete(host, SHOP7);
    other.upsert(a(host, "198.51.100.20", ZETA7)); // another preview's now

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> dns.upsert(a(host, "192.0.2.21", SHOP7)))
        .isInstanceOf(dev.preview.spi.ProviderException.class).hasMessageContaining("zeta/app#7");

    assertThat(Bind9.answers(host, Type.A)).containsExactly("198.51.100.20");
    assertThat(other.list()).filteredOn(r -> r.hostname().equals(host)).singleElement()
        .satisfies(r -> assertThat(r.owner()).isEqualTo(ZETA7));
    other.delete(host, ZETA7);
  }
}
