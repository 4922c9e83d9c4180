package dev.preview.core.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.policy.Admission;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PullRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * A hostname template that gives two repositories' PRs one name is refused at load unless
 * {@code policy.repositories} pins one repository (without it, every repository is served);
 * {@code policy.repositories} keeps the others out.
 */
class HostnameCollisionConfigTest {

  static PreviewConfig read(String hostname, String repositories) {
    String yaml = "app:\n  image: shop:1\n  hostname: \"" + hostname + "\"\n"
        + (repositories == null ? "" : "policy:\n  repositories: [\"" + repositories.replace(", ", "\", \"") + "\"]\n");
    return PreviewConfig.read(yaml, name -> null, "preview.yaml");
  }

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource(delimiter = ';', value = {
      "pr-{number}.preview.example.com; 'acme/shop, zeta/app'",
      "pr-{number}.preview.example.com; 'acme/*'",
      "{repo}-{number}.preview.example.com; 'acme/app, zeta/app'",
      "{repo}-{number}.preview.example.com; '*/app'",
      "{owner}-{number}.preview.example.com; 'acme/shop, acme/web'"})
  void aTemplateThatCollidesAcrossTheRepositoriesServedIsRefused(String hostname, String repositories) {
    assertThat(read(hostname, repositories).problems()).singleElement().asString()
        .startsWith("app.hostname: \"" + hostname + "\" gives PRs of different repositories the same hostname")
        .contains("add {repo} and {owner}, or {name}");
  }

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource(delimiter = ';', value = {
      "pr-{number}.preview.example.com; 'acme/shop'",
      "{repo}-{number}.preview.example.com; 'acme/shop, acme/web'",
      "{repo}-{number}.preview.example.com; 'acme/*'",
      "{repo}-{owner}-{number}.preview.example.com; '**'",
      "{name}.preview.example.com; 'acme/shop, zeta/app'",
      "pr-{number}-{hash}.preview.example.com; 'acme/shop, zeta/app'"})
  void aTemplateThatTellsTheRepositoriesServedApartIsAccepted(String hostname, String repositories) {
    assertThat(read(hostname, repositories).problems()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"pr-{number}.preview.example.com", "{repo}-{number}.preview.example.com",
      "{owner}-{number}.preview.example.com", "{branch}.preview.example.com"})
  void withoutPolicyRepositoriesEveryRepositoryIsServedSoACollidingTemplateIsRefused(String hostname) {
    assertThat(read(hostname, null).problems()).singleElement().asString()
        .startsWith("app.hostname: \"" + hostname + "\" gives PRs of different repositories the same hostname,"
            + " and without policy.repositories every repository that sends events is served")
        .contains("add {repo} and {owner}, or {name}")
        .contains("listing it alone in policy.repositories (e.g. policy: {repositories: [acme/shop]})");
  }

  @Test
  void theRefusalSuggestsTheConfiguredRepository() {
    PreviewConfig config = PreviewConfig.read("repository: zeta/app\napp:\n  image: shop:1\n"
        + "  hostname: pr-{number}.preview.example.com\n", name -> null, "preview.yaml");
    assertThat(config.problems()).singleElement().asString()
        .contains("policy: {repositories: [zeta/app]}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"{repo}-{owner}-{number}.preview.example.com", "{name}.preview.example.com",
      "pr-{number}-{hash}.preview.example.com"})
  void withoutPolicyRepositoriesATemplateThatTellsRepositoriesApartIsAccepted(String hostname) {
    assertThat(read(hostname, null).problems()).isEmpty();
  }

  @Test
  void policyRepositoriesKeepsOtherRepositoriesOut() {
    PreviewConfig config = read("pr-{number}.preview.example.com", "acme/shop");
    Admission zeta = config.policy().admit(PullRequest.open(PreviewKey.pr("zeta/app", 7), "a".repeat(40), "f", "main"), 0);
    Admission shop = config.policy().admit(PullRequest.open(PreviewKey.pr("acme/shop", 7), "a".repeat(40), "f", "main"), 0);

    assertThat(zeta.decision()).isEqualTo(Admission.Decision.SKIP);
    assertThat(zeta.reason()).isEqualTo("repository zeta/app matches none of policy.repositories [acme/shop]");
    assertThat(shop.decision()).isEqualTo(Admission.Decision.DEPLOY);
  }
}
