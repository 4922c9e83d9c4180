package dev.preview.db.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.db.HostileKeys;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WideHashTest {
  final Installation staging = Installation.builder().instance("staging").build();

  @Test
  void sixteenHexDigitsOfTheInstallationAndTheFullKey() {
    Set<String> seen = new HashSet<>();
    for (PreviewKey k : HostileKeys.all()) {
      for (Installation i : List.of(Installation.defaults(), staging)) {
        String h = WideHash.of(i, k);
        assertThat(h).matches("[0-9a-f]{16}");
        assertThat(seen.add(h)).as("%s in %s", k, i.instance()).isTrue();
        assertThat(WideHash.of(i, k)).isEqualTo(h); // deterministic
      }
    }
  }

  @Test
  void theReadablePartIsCutNeverTheHash() {
    for (PreviewKey k : HostileKeys.all()) {
      String n = WideHash.name("pv", staging, k, '-', 40, String::length);
      assertThat(n).hasSizeLessThanOrEqualTo(40).startsWith("pv-").endsWith("-" + WideHash.of(staging, k))
          .doesNotContain("--").matches("[a-z0-9-]+");
    }
    assertThat(WideHash.name("pv", Installation.defaults(), PreviewKey.pr("acme/shop", 42), '_', 64, String::length))
        .isEqualTo("pv_shop_pr_42_" + WideHash.of(Installation.defaults(), PreviewKey.pr("acme/shop", 42)));
  }

  @Test
  void isTheFirstSixteenHexDigitsOfSha256OfInstanceAndKey() throws Exception {
    PreviewKey k = PreviewKey.pr("acme/shop", 42);
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    String expected = java.util.HexFormat.of()
        .formatHex(sha.digest(("staging\0" + k.id()).getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(0, 16);
    assertThat(WideHash.of(staging, k)).isEqualTo(expected);
    String plain = java.util.HexFormat.of()
        .formatHex(sha.digest(k.id().getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(0, 16);
    assertThat(WideHash.of(Installation.defaults(), k)).isEqualTo(plain);
  }
}
