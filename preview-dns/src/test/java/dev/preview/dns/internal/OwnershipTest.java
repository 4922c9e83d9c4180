package dev.preview.dns.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import org.junit.jupiter.api.Test;

class OwnershipTest {
  @Test
  void markReadsBackToItsOwner() {
    PreviewKey key = PreviewKey.pr("acme/shop", 42);
    String mark = Ownership.of(null).mark(key);
    assertThat(mark).isEqualTo("heritage=preview,preview.dev/key=acme/shop#42");
    assertThat(Ownership.of(null).ownerIfMine(mark)).contains(key);
  }

  @Test
  void aBranchNameCannotForgeAnotherField() {
    PreviewKey key = PreviewKey.branch("acme/shop", "x,preview.dev/instance=ci\"%é");
    Ownership ci = Ownership.of("ci");
    String mark = Ownership.of(null).mark(key);
    assertThat(mark).doesNotContain("\"").doesNotContain(",preview.dev/instance");
    assertThat(Ownership.of(null).ownerIfMine(mark)).contains(key);
    assertThat(ci.ownerIfMine(mark)).isEmpty();
  }

  @Test
  void instancesDoNotSeeEachOther() {
    PreviewKey key = PreviewKey.pr("acme/shop", 1);
    String ciMark = Ownership.of("ci").mark(key);
    assertThat(ciMark).endsWith(",preview.dev/instance=ci");
    assertThat(Ownership.of("ci").ownerIfMine(ciMark)).contains(key);
    assertThat(Ownership.of(null).ownerIfMine(ciMark)).isEmpty();
    assertThat(Ownership.of("prod").ownerIfMine(ciMark)).isEmpty();
  }

  @Test
  void foreignOrBrokenTextIsNotOurs() {
    assertThat(Ownership.parse("heritage=external-dns,external-dns/owner=default")).isEmpty();
    assertThat(Ownership.parse("v=spf1 -all")).isEmpty();
    assertThat(Ownership.parse("heritage=preview")).isEmpty();
    assertThat(Ownership.parse("heritage=preview,preview.dev/key=not-a-key")).isEmpty();
    assertThat(Ownership.parse("heritage=preview,preview.dev/key=acme/shop%2")).isEmpty();
    assertThat(Ownership.parse(null)).isEmpty();
  }

  @Test
  void ipv6IsWrittenTheRfc5952Way() {
    assertThat(Zones.ipv6("2001:db8:0:0:0:0:0:1")).isEqualTo("2001:db8::1");
    assertThat(Zones.ipv6("2001:db8:0:0:1:0:0:1")).isEqualTo("2001:db8::1:0:0:1");
    assertThat(Zones.ipv6("2001:DB8:1:2:3:4:5:6")).isEqualTo("2001:db8:1:2:3:4:5:6");
    assertThat(Zones.ipv6("::1")).isEqualTo("::1");
    assertThat(Zones.ipv6("fe80::")).isEqualTo("fe80::");
  }
}
