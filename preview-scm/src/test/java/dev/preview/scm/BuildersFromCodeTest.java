package dev.preview.scm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.scm.github.GitHubAuth;
import dev.preview.scm.github.GitHubNotifier;
import dev.preview.scm.github.GitHubPullRequestSource;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.scm.gitlab.GitLabNotifier;
import dev.preview.scm.gitlab.GitLabPullRequestSource;
import dev.preview.scm.gitlab.GitLabWebhookSource;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Secret;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Invalid options given in code fail like invalid YAML: one ConfigurationException, every problem named. */
class BuildersFromCodeTest {
  static final GitHubAuth AUTH = GitHubAuth.token(Secret.of("ghp_secret_token"));

  @Test
  void aBaseUrlThatIsNotHttpIsAConfigurationProblemNamingTheValue() {
    assertThatThrownBy(() -> GitHubNotifier.builder("api.github.com", AUTH))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "baseUrl: must be an http(s) URL such as https://api.github.com, got \"api.github.com\""));
    assertThatThrownBy(() -> GitHubPullRequestSource.create("ftp://ghe.example.com", AUTH))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "baseUrl: must be an http(s) URL such as https://api.github.com, got \"ftp://ghe.example.com\""));
    assertThatThrownBy(() -> GitLabNotifier.builder("gitlab", Secret.of("")))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "baseUrl: must be an http(s) URL such as https://gitlab.com, got \"gitlab\"",
            "token: must not be empty: a GitLab access token with the api scope (project, group or personal)"));
    assertThatThrownBy(() -> GitLabPullRequestSource.create("https://gitlab.example.com", Secret.of("")))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "token: must not be empty: a GitLab access token with the api scope (project, group or personal)"));
    assertThat(GitHubNotifier.builder("https://ghe.example.com/api/v3", AUTH).build().name()).isEqualTo("github");
  }

  @Test
  void nullsAreRejectedWithTheParameterName() {
    assertThatThrownBy(() -> GitHubNotifier.builder(null, AUTH)).isInstanceOf(NullPointerException.class).hasMessage("baseUrl");
    assertThatThrownBy(() -> GitHubNotifier.builder("https://api.github.com", null)).isInstanceOf(NullPointerException.class).hasMessage("auth");
    assertThatThrownBy(() -> GitLabPullRequestSource.create("https://gitlab.com", null)).isInstanceOf(NullPointerException.class).hasMessage("token");
    assertThatThrownBy(() -> GitHubWebhookSource.builder(null)).isInstanceOf(NullPointerException.class).hasMessage("webhookSecret");
    assertThatThrownBy(() -> GitLabWebhookSource.builder(Secret.of("t")).branchPreviews(null))
        .isInstanceOf(NullPointerException.class).hasMessage("branchPreviews");
  }

  @Test
  void checkingSettersThrowConfigurationException() {
    assertThatThrownBy(() -> GitHubAuth.token(Secret.of("")))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("token: must not be empty");
    assertThatThrownBy(() -> GitHubWebhookSource.builder(Secret.of("")))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "webhookSecret: must not be empty: pass the secret set on the GitHub webhook"));
    assertThatThrownBy(() -> GitLabWebhookSource.builder(Secret.of("")))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "webhookSecret: must not be empty: pass the secret token set on the GitLab webhook"));
    assertThatThrownBy(() -> GitHubWebhookSource.builder(Secret.of("s")).maxBodyBytes(0))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("maxBodyBytes: must be at least 1, got 0");
    assertThatThrownBy(() -> GitLabWebhookSource.builder(Secret.of("s")).maxBodyBytes(-5))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("maxBodyBytes: must be at least 1, got -5");
    assertThatThrownBy(() -> GitHubNotifier.builder("https://api.github.com", AUTH).statusContext(" "))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("statusContext: must not be blank");
    assertThatThrownBy(() -> GitLabNotifier.builder("https://gitlab.com", Secret.of("t")).statusName(""))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("statusName: must not be blank");
    assertThatThrownBy(() -> GitHubNotifier.builder("https://api.github.com", AUTH).timeout(Duration.ZERO))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("timeout: must be longer than zero");
    assertThatThrownBy(() -> GitLabNotifier.builder("https://gitlab.com", Secret.of("t")).timeout(Duration.ofSeconds(-1)))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("timeout: must be longer than zero");
  }

  @Test
  void aBadGitHubAppReportsEveryProblemAndNeverTheKey() {
    String pem = "-----BEGIN PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL!!\n-----END PRIVATE KEY-----\n";
    assertThatThrownBy(() -> GitHubNotifier.app(" ", pem, 0L))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> {
          assertThat(e.problems()).containsExactly(
              "appId: must not be blank: the App ID shown on the GitHub App's settings page",
              "privateKey: is not valid PEM: its body is not base64",
              "installationId: must be a positive number (or null to look it up per owner), got 0");
          assertThat(e.getMessage()).doesNotContain("TOP-SECRET-KEY-MATERIAL");
        });
  }
}
