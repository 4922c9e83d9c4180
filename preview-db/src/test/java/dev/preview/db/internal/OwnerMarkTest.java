package dev.preview.db.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.Labels;
import dev.preview.spi.PreviewKey;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OwnerMarkTest {
  @Test
  void roundTripsKeysAndLabelsEvenHostileOnes() {
    PreviewKey key = PreviewKey.branch("acme/shop", "it's-\"x\"\\-ünï-🚀");
    String mark = OwnerMark.encode(key, Map.of(Labels.REVISION, "abc", "note", "a'b\"c"));
    assertThat(mark).startsWith(OwnerMark.PREFIX).doesNotContain("\n");
    assertThat(OwnerMark.key(mark)).contains(key);
    assertThat(OwnerMark.labels(mark).orElseThrow())
        .containsEntry(Labels.MANAGED, "true").containsEntry(Labels.REVISION, "abc").containsEntry("note", "a'b\"c");
  }

  @Test
  void foreignOrBrokenTextIsNotAMark() {
    assertThat(OwnerMark.key(null)).isEmpty();
    assertThat(OwnerMark.key("the orders database, ask Bob")).isEmpty();
    assertThat(OwnerMark.key(OwnerMark.PREFIX + "{not json")).isEmpty();
    assertThat(OwnerMark.key(OwnerMark.PREFIX + "{\"preview.dev/key\":\"acme/shop#1\"}")).as("not managed").isEmpty();
    assertThat(OwnerMark.key(OwnerMark.PREFIX + "{\"preview.dev/managed\":\"true\",\"preview.dev/key\":\"nope\"}")).isEmpty();
  }

  @Test
  void passwordsAreLongRandomAndUrlSafe() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      String p = Passwords.generate().reveal();
      assertThat(p).hasSize(32).matches("[A-Za-z0-9]+");
      seen.add(p);
    }
    assertThat(seen).hasSize(200);
  }
}
