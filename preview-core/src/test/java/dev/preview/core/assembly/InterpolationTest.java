package dev.preview.core.assembly;

import static dev.preview.core.assembly.PreviewConfigTest.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class InterpolationTest {
  private final List<String> problems = new ArrayList<>();
  private final Set<String> unresolved = new LinkedHashSet<>();

  private String resolve(String text, Function<String, String> env) {
    return new Interpolation(env, problems, unresolved).string(text, "app.image");
  }

  @Test
  void aSetVariableIsReplaced() {
    assertThat(resolve("ghcr.io/acme/shop:${REV}", env("REV", "abc123"))).isEqualTo("ghcr.io/acme/shop:abc123");
    assertThat(problems).isEmpty();
  }

  @Test
  void severalReferencesInOneValue() {
    assertThat(resolve("${A}-${B}/${A}", env("A", "x", "B", "y"))).isEqualTo("x-y/x");
  }

  @Test
  void theDefaultAppliesWhenTheVariableIsUnsetOrEmpty() {
    assertThat(resolve("${REV:-latest}", env())).isEqualTo("latest");
    assertThat(resolve("${REV:-latest}", env("REV", ""))).isEqualTo("latest");
    assertThat(resolve("${REV:-latest}", env("REV", "v2"))).isEqualTo("v2");
    assertThat(resolve("${REV:-}", env())).isEmpty();
    assertThat(resolve("${URL:-http://localhost:8080/x}", env())).isEqualTo("http://localhost:8080/x");
    assertThat(problems).isEmpty();
  }

  @Test
  void aSetButEmptyVariableWithoutDefaultIsEmpty() {
    assertThat(resolve("a${X}b", env("X", ""))).isEqualTo("ab");
    assertThat(problems).isEmpty();
  }

  @Test
  void anUnsetVariableWithoutDefaultIsAProblemWithItsPath() {
    assertThat(resolve("${GITHUB_TOKEN}", env())).isEqualTo("${GITHUB_TOKEN}");
    assertThat(problems).containsExactly(
        "app.image: environment variable GITHUB_TOKEN is not set (set it, or give a default: ${GITHUB_TOKEN:-value})");
    assertThat(unresolved).containsExactly("app.image");
  }

  @Test
  void doubleDollarWritesALiteralReference() {
    assertThat(resolve("echo $${HOME} and ${A}", env("A", "a", "HOME", "/root"))).isEqualTo("echo ${HOME} and a");
    assertThat(resolve("cost: $5, $$", env())).isEqualTo("cost: $5, $$");
    assertThat(problems).isEmpty();
  }

  @Test
  void theValueOfAVariableIsNotInterpolatedAgain() {
    assertThat(resolve("${A}", env("A", "${B}", "B", "no"))).isEqualTo("${B}");
  }

  @Test
  void malformedReferencesAreProblems() {
    resolve("${unclosed", env());
    resolve("${1BAD}", env());
    resolve("${}", env());
    assertThat(problems).hasSize(3).allMatch(p -> p.startsWith("app.image: "));
    assertThat(problems.get(0)).contains("is not closed");
    assertThat(problems.get(1)).contains("\"${1BAD}\" is not a valid reference");
  }

  @Test
  void everyStringInTheTreeIsResolvedWithItsPathButKeysAndNumbersAreLeftAlone() {
    Object tree = Map.of("app", Map.of("command", List.of("run", "${X}"), "port", 8080, "env", Map.of("${K}", "${MISSING}")));

    Object out = new Interpolation(env("X", "x"), problems, unresolved).resolve(tree, "");

    assertThat(out).isEqualTo(Map.of("app", Map.of("command", List.of("run", "x"), "port", 8080,
        "env", Map.of("${K}", "${MISSING}"))));
    assertThat(problems).singleElement().asString().startsWith("app.env.${K}: environment variable MISSING is not set");
  }

  @Test
  void throughTheParserEveryValueIsInterpolatedAndNumbersComeOutTyped() {
    String yaml = """
        app:
          command: ["${JAVA:-java}", -jar, "${JAR}"]
          port: ${PORT}
          env: {A: "${A}"}
        environment: {provider: "${ENV_PROVIDER:-local}", greeting: "${GREETING}"}
        policy: {ttl: "${TTL:-72h}", drafts: "${DRAFTS:-false}"}
        """;
    PreviewConfig c = PreviewConfig.parse(yaml, env("JAR", "app.jar", "PORT", "9090", "A", "a", "GREETING", "hi"), "p.yaml");

    assertThat(c.app().command()).containsExactly("java", "-jar", "app.jar");
    assertThat(c.app().port()).isEqualTo(9090);
    assertThat(c.app().env()).containsEntry("A", "a");
    assertThat(c.environment().provider()).isEqualTo("local");
    assertThat(c.environment().config().string("greeting")).contains("hi");
    assertThat(c.policy().ttl()).hasHours(72);
  }

  @Test
  void anUnsetVariableIsReportedOnceNotAgainAsABadValue() {
    String yaml = "app: {image: x, port: \"${PORT}\"}\nscm: {provider: test-scm, token: \"${TOKEN}\"}\n";

    PreviewConfig lenient = PreviewConfig.read(yaml, env(), "p.yaml");
    assertThatThrownBy(() -> lenient.createProviders(PreviewConfigTest.registry()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "app.port: environment variable PORT is not set (set it, or give a default: ${PORT:-value})",
            "scm.token: environment variable TOKEN is not set (set it, or give a default: ${TOKEN:-value})"));
  }
}
