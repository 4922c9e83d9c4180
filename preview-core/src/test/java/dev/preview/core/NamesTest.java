package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import org.junit.jupiter.api.Test;

/** Regressions found by {@link NamesPropertiesTest}, kept as plain examples. */
class NamesTest {

  @Test
  void textWithLoneSurrogatesDoesNotShareAHashWithOtherSuchText() {
    // UTF-8 encodes every lone surrogate as '?', so both used to hash alike.
    assertThat(Names.labelValue("a\uD800")).isNotEqualTo(Names.labelValue("a\uD801"));
    assertThat(Names.labelValue("a\uD800")).matches(NamesPropertiesTest.LABEL_VALUE);
  }

  @Test
  void wellFormedTextKeepsItsHash() {
    assertThat(Names.hash(PreviewKey.pr("acme/shop", 42))).isEqualTo("191559f595daf6a8");
    assertThat(Names.dnsLabel(PreviewKey.pr("acme/shop", 42))).isEqualTo("shop-pr-42-191559f595daf6a8");
  }

  @Test
  void aBranchWithALoneSurrogateIsNotAGitBranch() {
    assertThatThrownBy(() -> PreviewKey.branch("a/b", "x\uD800"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a valid git branch name: \"x\\ud800\"");
    assertThat(PreviewKey.branch("a/b", "emoji-\uD83D\uDE00").branch()).isEqualTo("emoji-😀");
  }

  @Test
  void aLongDockerPartIsShortenedInsteadOfEatingThePrefix() {
    PreviewKey key = PreviewKey.pr("acme/shop", 42);
    String part = "'; DROP TABLE users; --".repeat(3);

    String name = Names.docker(key, part);

    assertThat(name).startsWith("preview-shop-pr-42-" + Names.hash(key) + "-dro-")
        .hasSizeLessThanOrEqualTo(63).matches(NamesPropertiesTest.DNS_LABEL);
    assertThat(Names.docker(key, part + "x")).isNotEqualTo(name);
    assertThat(Names.docker(key, "redis")).isEqualTo("preview-shop-pr-42-" + Names.hash(key) + "-redis");
  }
}
