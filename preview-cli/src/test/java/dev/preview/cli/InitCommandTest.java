package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code preview init}: what it writes passes {@code preview validate}, and the CI file is the repository's template. */
class InitCommandTest {
  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"local,github", "docker,github", "kubernetes,github", "local,gitlab", "docker,gitlab", "kubernetes,gitlab"})
  void writesAConfigThatValidatesAndTheCiTemplate(String environment, String scm) throws Exception {
    Map<String, String> env = TestEnv.withoutCi();
    var r = ValidateCommandTest.run(env, "init", "--environment", environment, "--scm", scm, "--repo", "acme/shop",
        "--dir", dir.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    Path config = dir.resolve("preview.yaml");
    String text = Files.readString(config);
    assertThat(text).contains("provider: " + environment, "provider: " + scm, "repository: acme/shop", "# ");

    // the token comes from the environment: without it, validate names it
    var without = ValidateCommandTest.run(env, "validate", "-c", config.toString());
    assertThat(without.code()).isEqualTo(2);
    assertThat(without.err()).contains("scm.token: environment variable " + scm.toUpperCase() + "_TOKEN is not set");
    env.put(scm.toUpperCase() + "_TOKEN", "t0ken-for-validate");
    var valid = ValidateCommandTest.run(env, "validate", "-c", config.toString());
    assertThat(valid.code()).as(valid.out() + valid.err()).isZero();
    assertThat(valid.out()).contains("valid (environment " + environment + ", scm " + scm);
    assertThat(valid.out() + valid.err()).doesNotContain("t0ken-for-validate");

    Path ci = dir.resolve(scm.equals("github") ? ".github/workflows/preview.yml" : ".gitlab/preview.gitlab-ci.yml");
    Path template = DocumentedRoot.root().resolve(scm.equals("github") ? "ci/github/preview.yml" : "ci/gitlab/preview.gitlab-ci.yml");
    assertThat(Files.readString(ci)).isEqualTo(Files.readString(template));
  }

  @Test
  void neverOverwritesWithoutForce() throws Exception {
    Files.writeString(dir.resolve("preview.yaml"), "app: {command: [mine]}\n");
    var r = ValidateCommandTest.run(TestEnv.withoutCi(), "init", "--dir", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("preview.yaml already exists; nothing written (--force overwrites)");
    assertThat(Files.readString(dir.resolve("preview.yaml"))).isEqualTo("app: {command: [mine]}\n");
    assertThat(dir.resolve(".github")).doesNotExist();

    var forced = ValidateCommandTest.run(TestEnv.withoutCi(), "init", "--dir", dir.toString(), "--force", "--no-ci");
    assertThat(forced.code()).as(forced.out() + forced.err()).isZero();
    assertThat(Files.readString(dir.resolve("preview.yaml"))).contains("provider: local");
    assertThat(dir.resolve(".github")).doesNotExist();
  }
}
