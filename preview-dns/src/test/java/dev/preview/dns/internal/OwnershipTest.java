package dev.preview.dns.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.PreviewKey;
import org.junit.jupiter.api.Test;

class OwnershipTest {
  @Test
  void markReadsBackToItsOwner() {
    PreviewKey key = PreviewKey.pr("acme/shop", 42);
    String mark = Ownership.of("default").mark(key);
    assertThat(mark).isEqualTo("heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=default");
    assertThat(Ownership.of("default").ownerIfMine(mark)).contains(key);
  }

  @Test
  void aBranchNameCannotForgeAnotherField() {
    PreviewKey key = PreviewKey.branch("acme/shop", "x,preview.dev/instance=ci\"%é");
    Ownership ci = Ownership.of("ci");
    String mark = Ownership.of("default").mark(key);
    assertThat(mark).doesNotContain("\"").doesNotContain(",preview.dev/instance=ci")
        .endsWith(",preview.dev/instance=default");
    assertThat(mark.split(",preview.dev/instance=", -1)).hasSize(2);
    assertThat(Ownership.of("default").ownerIfMine(mark)).contains(key);
    assertThat(ci.ownerIfMine(mark)).isEmpty();
  }

  @Test
  void instancesDoNotSeeEachOther() {
    PreviewKey key = PreviewKey.pr("acme/shop", 1);
    String ciMark = Ownership.of("ci").mark(key);
    assertThat(ciMark).endsWith(",preview.dev/instance=ci");
    assertThat(Ownership.of("ci").ownerIfMine(ciMark)).contains(key);
    assertThat(Ownership.of("default").ownerIfMine(ciMark)).isEmpty();
    assertThat(Ownership.of("prod").ownerIfMine(ciMark)).isEmpty();
  }

  @Test
  void aLegacyMarkWithoutInstanceIsNoInstallationsNotEvenTheDefault() {
    PreviewKey key = PreviewKey.pr("acme/shop", 1);
    String legacy = "heritage=preview,preview.dev/key=acme/shop#1";
    assertThat(Ownership.parse(legacy)).contains(new Ownership.Owner(key, null));
    assertThat(Ownership.of("default").ownerIfMine(legacy)).isEmpty();
    assertThat(Ownership.of("ci").ownerIfMine(legacy)).isEmpty();
    assertThat(Ownership.of("default").ownedByOtherInstallation("rfc2136", "pr-1.example.com",
        Ownership.parse(legacy).orElseThrow(), "the TXT record _preview.pr-1.example.com").getMessage())
        .contains("earlier version of preview that wrote no instance (acme/shop#1 (no instance))")
        .contains("remove the mark (the TXT record _preview.pr-1.example.com)");
    assertThatThrownBy(() -> Ownership.of(null)).isInstanceOf(NullPointerException.class).hasMessage("instance");
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
