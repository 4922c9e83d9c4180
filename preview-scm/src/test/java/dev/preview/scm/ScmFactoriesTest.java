package dev.preview.scm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScmFactoriesTest {

  static <T> T factory(Class<T> type, String name, java.util.function.Function<T, String> nameOf) {
    return StreamSupport.stream(ServiceLoader.load(type).spliterator(), false).filter(f -> nameOf.apply(f).equals(name))
        .findFirst().orElseThrow(() -> new AssertionError("no " + type.getName() + " named " + name));
  }

  @Test
  void everyComponentIsDiscoveredByName() {
    for (String name : List.of("github", "gitlab")) {
      assertThat(factory(ScmNotifier.Factory.class, name, ScmNotifier.Factory::name)).isNotNull();
      assertThat(factory(PullRequestSource.Factory.class, name, PullRequestSource.Factory::name)).isNotNull();
      assertThat(factory(WebhookSource.Factory.class, name, WebhookSource.Factory::name)).isNotNull();
    }
  }

  @Test
  void githubConfigBuildsAndReportsEveryProblemAtOnce() {
    ScmNotifier n = factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "github", "token", "ghp_x", "baseUrl", "https://ghe.example.com/api/v3",
            "commitStatus", true, "webhookSecret", "w"))));
    assertThat(n.name()).isEqualTo("github");

    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "github", "baseUrl", "not a url", "comments", "maybe", "tokn", "ghp_x")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "scm.baseUrl: must be an http(s) URL such as https://api.github.com, got \"not a url\"",
            "scm.comments: must be true or false, got \"maybe\"",
            "scm.token: is required: a GitHub token with pull requests, issues, deployments and statuses write access, or appId and privateKeyPath for a GitHub App",
            e.problems().stream().filter(p -> p.startsWith("scm.tokn: unknown key")).findFirst().orElse("scm.tokn: unknown key missing")));
  }

  @Test
  void githubAppConfigReadsTheKeyFileAndTheWebhookSourceNeedsItsSecret(@TempDir Path dir) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    Path pem = dir.resolve("app.pem");
    Files.writeString(pem, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(g.generateKeyPair().getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
    Map<String, Object> app = Map.of("provider", "github", "appId", "123456", "privateKeyPath", pem.toString(), "installationId", 99);
    assertThat(factory(PullRequestSource.Factory.class, "github", PullRequestSource.Factory::name).create(ProviderContext.of(ProviderConfig.of("scm", app))).name())
        .isEqualTo("github");
    assertThatThrownBy(() -> factory(WebhookSource.Factory.class, "github", WebhookSource.Factory::name).create(ProviderContext.of(ProviderConfig.of("scm", app))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "scm.webhookSecret: is required to verify webhooks: the secret set on the GitHub webhook"));
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name).create(ProviderContext.of(ProviderConfig.of("scm",
        Map.of("appId", "1", "privateKeyPath", dir.resolve("missing.pem").toString())))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("scm.privateKeyPath: cannot read");
  }

  @Test
  void gitlabConfig() {
    WebhookSource s = factory(WebhookSource.Factory.class, "gitlab", WebhookSource.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "gitlab", "webhookSecret", "t", "maxBodySize", "1KB", "branchPreviews", List.of("main")))));
    assertThat(s.handle(WebhookRequest.of(Map.of("X-Gitlab-Token", "t", "X-Gitlab-Event", "Push Hook"), new byte[1025])).httpStatus()).isEqualTo(413);
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "gitlab", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "gitlab", "maxBodySize", "lots")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).hasSize(2));
  }

  @Test
  void everyFormerKebabCaseKeyIsReportedAsRenamedOnceTogetherWithTheOtherProblems() {
    Map<String, Object> github = new java.util.LinkedHashMap<>();
    github.put("provider", "github");
    github.put("token", "ghp_x");
    for (String k : List.of("base-url", "branch-previews", "max-body-size", "commit-status", "environment-prefix", "status-context",
        "rate-limit-max-wait")) {
      github.put(k, k.equals("commit-status") ? "true" : k.equals("max-body-size") ? "1KB" : k.equals("rate-limit-max-wait") ? "5s"
          : k.equals("base-url") ? "https://ghe.example.com/api/v3" : "x");
    }
    github.put("webhook-secret", "whsec-do-not-print");
    github.put("comments", "maybe");
    assertThatThrownBy(() -> factory(WebhookSource.Factory.class, "github", WebhookSource.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", github))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> {
          assertThat(e.problems()).containsExactlyInAnyOrder(
              "scm.base-url: renamed to baseUrl",
              "scm.branch-previews: renamed to branchPreviews",
              "scm.max-body-size: renamed to maxBodySize",
              "scm.commit-status: renamed to commitStatus",
              "scm.environment-prefix: renamed to environmentPrefix",
              "scm.status-context: renamed to statusContext",
              "scm.rate-limit-max-wait: renamed to rateLimitMaxWait",
              "scm.webhook-secret: renamed to webhookSecret",
              "scm.comments: must be true or false, got \"maybe\"");
          assertThat(e.getMessage()).doesNotContain("whsec-do-not-print", "ghp_x", "unknown key", "is required");
        });

    // The GitHub App keys, and the old name next to the new one: still one problem for the old name, none for the new.
    Map<String, Object> app = Map.of("provider", "github", "app-id", "1", "private-key-path", "/nowhere.pem", "private-key", "-----BEGIN PRIVATE KEY-----",
        "installation-id", 7, "webhookSecret", "w", "webhook-secret", "w");
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", app))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "scm.app-id: renamed to appId",
            "scm.private-key-path: renamed to privateKeyPath",
            "scm.private-key: renamed to privateKey",
            "scm.installation-id: renamed to installationId",
            "scm.webhook-secret: renamed to webhookSecret",
            "scm.privateKeyPath: a GitHub App needs exactly one of privateKeyPath or privateKey (the PEM GitHub generated)"));

    // pullRequests is read by the same code, under its own path.
    assertThatThrownBy(() -> factory(PullRequestSource.Factory.class, "gitlab", PullRequestSource.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("pullRequests", Map.of("provider", "gitlab", "token", "glpat-x",
            "status-name", "s", "environment-prefix", "p/", "base-url", "https://gitlab.example.com")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "pullRequests.status-name: renamed to statusName",
            "pullRequests.environment-prefix: renamed to environmentPrefix",
            "pullRequests.base-url: renamed to baseUrl"));
  }

  @Test
  void blankStatusNamesAndAZeroTimeoutAreProblems() {
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "github", "token", "t", "statusContext", " ", "timeout", "0s")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "scm.statusContext: must not be blank: GitHub groups commit statuses by it (default preview)",
            "scm.timeout: must be longer than zero (e.g. 30s), got 0"));
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "gitlab", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "gitlab", "token", "t", "statusName", "")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "scm.statusName: must not be blank: GitLab groups commit statuses by it (default preview)"));
  }
}
