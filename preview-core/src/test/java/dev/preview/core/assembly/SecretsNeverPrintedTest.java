package dev.preview.core.assembly;

import static dev.preview.core.assembly.PreviewConfigTest.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.preview.core.registry.Fixtures;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** No toString or message of anything config-related shows a secret's value. */
class SecretsNeverPrintedTest {
  private static final String STRIPE = "sk_live_STRIPE_51HxYz";
  private static final String TOKEN = "ghp_TOKEN_abcdef0123";
  private static final String ENV_TOKEN = "env_TOKEN_9876";
  private static final Function<String, String> ENV =
      env("STRIPE_KEY", STRIPE, "GITHUB_TOKEN", TOKEN, "ENV_TOKEN", ENV_TOKEN);

  private static final String YAML = """
      app:
        image: x
        secrets: {STRIPE_KEY: "${STRIPE_KEY}"}
      environment: {provider: test-env, token: "${ENV_TOKEN}"}
      scm: {provider: test-scm, token: "${GITHUB_TOKEN}"}
      """;

  private static void assertClean(Object o) {
    String s = String.valueOf(o);
    assertThat(s).doesNotContain(STRIPE).doesNotContain(TOKEN).doesNotContain(ENV_TOKEN);
  }

  @Test
  void toStringOfTheConfigItsSectionsTemplateAndProvidersHidesSecrets() {
    PreviewConfig c = PreviewConfig.parse(YAML, ENV, "preview.yaml");

    assertClean(c);
    assertClean(c.app());
    assertClean(c.app().secrets());
    assertClean(c.app().specBuilder(dev.preview.spi.PreviewKey.pr("acme/shop", 1), "abcdef").build());
    assertClean(c.scm());
    assertClean(c.scm().config());
    assertClean(c.environment());
    assertClean(c.environment().config());
    try (ConfiguredProviders p = c.createProviders(PreviewConfigTest.registry())) {
      assertClean(p);
      assertClean(p.environment());
      assertThat(((Fixtures.Env) p.environment()).token.reveal()).isEqualTo(ENV_TOKEN);
      assertThat(c.app().secrets().get("STRIPE_KEY").reveal()).isEqualTo(STRIPE);
    }
  }

  @Test
  void problemMessagesAboutSecretValuesDoNotQuoteThem() {
    String yaml = """
        app:
          image: x
          secrets: {"bad name": "${STRIPE_KEY}", NESTED: {v: "${GITHUB_TOKEN}"}}
        environment: {provider: test-env, token: "${ENV_TOKEN}", tokn: "${GITHUB_TOKEN}"}
        scm: {provider: test-scm, token: ["${GITHUB_TOKEN}"]}
        """;
    PreviewConfig c = PreviewConfig.read(yaml, ENV, "preview.yaml");

    Throwable t = catchThrowable(() -> c.createProviders(PreviewConfigTest.registry()));

    assertThat(t).hasMessageContaining("app.secrets.bad name").hasMessageContaining("environment.tokn: unknown key")
        .hasMessageContaining("scm.token: must be a single value");
    assertClean(t.getMessage());
    assertClean(c.problems());
  }

  @Test
  void aProblemAboutAnInterpolatedValueShowsTheReferenceNotTheValue() {
    // Each of these keys quotes what it got; the values come from the environment and may be secrets.
    Function<String, String> env = env("S1", "S3CR3T-one", "S2", "S3CR3T-two", "S3", "S3CR3T-three",
        "S4", "S3CR3T-four", "S5", "S3CR3T-five", "STRIPE_KEY", STRIPE, "GITHUB_TOKEN", TOKEN);
    String yaml = """
        instance: "${S1}"
        app: {image: x, port: "${S2}", secrets: {STRIPE_KEY: "${STRIPE_KEY}"}}
        policy: {forks: "${S3}", ttl: "${S4}"}
        environment: {provider: test-env, token: "${GITHUB_TOKEN}"}
        scm: {provider: test-scm, token: "${GITHUB_TOKEN}", unknown: "${S5}"}
        """;
    PreviewConfig c = PreviewConfig.read(yaml, env, "preview.yaml");

    Throwable t = catchThrowable(() -> c.createProviders(PreviewConfigTest.registry()));

    assertThat(t.getMessage()).doesNotContain("S3CR3T").doesNotContain(STRIPE).doesNotContain(TOKEN)
        .contains("${S2}").contains("${S3}").contains("${S4}");
    assertThat(String.join("\n", c.problems())).doesNotContain("S3CR3T");
  }

  @Test
  void theRedactorOfAConfigHoldsTheAppsSecretsAndEverySecretItsProvidersRead() {
    PreviewConfig c = PreviewConfig.parse(YAML, ENV, "preview.yaml");
    try (ConfiguredProviders p = c.createProviders(PreviewConfigTest.registry())) {
      assertThat(c.redactor().redact("k=" + STRIPE + " e=" + ENV_TOKEN + " STRIPE_KEY=x"))
          .isEqualTo("k=****** e=****** STRIPE_KEY=******");
    }
  }
}
