package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.spi.PreviewKey;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class AppTemplateHostnameTest {
  static final Pattern DNS_NAME = Pattern.compile(
      "(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

  static String host(String template, PreviewKey key) {
    return AppTemplate.builder().image("x").hostnameTemplate(template).build().hostname(key);
  }

  @Property(tries = 3_000)
  void everyTemplateGivesAValidDnsNameForHostileKeys(@ForAll("keys") PreviewKey key, @ForAll("templates") String template) {
    String host = host(template, key);

    assertThat(host).matches(DNS_NAME);
    assertThat(host(template, key)).isEqualTo(host);
  }

  @Test
  void placeholders() {
    PreviewKey pr = PreviewKey.pr("Acme/Shop", 42);
    PreviewKey branch = PreviewKey.branch("group/sub/app", "Feature/ÄÖ-x");

    assertThat(host("pr-{number}.preview.example.com", pr)).isEqualTo("pr-42.preview.example.com");
    assertThat(host("{repo}-{number}.{owner}.example.com", pr)).isEqualTo("shop-42.acme.example.com");
    assertThat(host("{branch}.{owner}.example.com", branch)).isEqualTo("feature-x.group-sub.example.com");
    assertThat(host("{name}.example.com", pr)).startsWith("shop-pr-42-");
    assertThat(AppTemplate.builder().image("x").build().hostname(pr)).isNull();
  }

  @Test
  void aBranchWithoutLettersOrDigitsStillGivesALabel() {
    String host = host("{branch}.example.com", PreviewKey.branch("a/b", "中文"));

    assertThat(host).matches(DNS_NAME).isNotEqualTo(host("{branch}.example.com", PreviewKey.branch("a/b", "日本")));
  }

  @Test
  void aLabelMadeOfSeveralLongPlaceholdersIsCutWithAHash() {
    PreviewKey a = PreviewKey.branch("acme/" + "r".repeat(60), "b".repeat(200) + "1");
    PreviewKey b = PreviewKey.branch("acme/" + "r".repeat(60), "b".repeat(200) + "2");

    String ha = host("{name}-{repo}-{branch}.example.com", a);

    assertThat(ha).matches(DNS_NAME);
    assertThat(ha).isNotEqualTo(host("{name}-{repo}-{branch}.example.com", b));
  }

  @Provide
  Arbitrary<String> templates() {
    return Arbitraries.of(
        "pr-{number}.preview.example.com", "{name}.preview.example.com", "{branch}.{repo}.{owner}.example.com",
        "{hash}-{repo}.example.com", "{name}-{hash}-{repo}-{branch}.x.example.com", "{owner}-{repo}-{number}.example.com",
        "{repo}.example.com");
  }

  @Provide
  Arbitrary<PreviewKey> keys() {
    return new NamesPropertiesTest().keys();
  }

  @Test
  void twoLongBranchesWithOnePrefixNeverShareAHostname() {
    AppTemplate app = AppTemplate.builder().image("x").hostnameTemplate("{branch}.preview.example.com").build();
    String prefix = "feature/" + "x".repeat(240);

    String a = app.hostname(PreviewKey.branch("acme/shop", prefix + "a"));
    String b = app.hostname(PreviewKey.branch("acme/shop", prefix + "b"));

    assertThat(a).isNotEqualTo(b).matches("feature-x+-[0-9a-f]{16}\\.preview\\.example\\.com");
    assertThat(a.split("\\.")[0]).hasSizeLessThanOrEqualTo(40);
  }
}
