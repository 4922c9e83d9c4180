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
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "github", "token", "ghp_x", "base-url", "https://ghe.example.com/api/v3",
            "commit-status", true, "webhook-secret", "w"))));
    assertThat(n.name()).isEqualTo("github");

    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "github", "base-url", "not a url", "comments", "maybe", "tokn", "ghp_x")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "scm.base-url: must be an http(s) URL such as https://api.github.com, got \"not a url\"",
            "scm.comments: must be true or false, got \"maybe\"",
            "scm.token: is required: a GitHub token with pull requests, issues, deployments and statuses write access, or app-id and private-key-path for a GitHub App",
            e.problems().stream().filter(p -> p.startsWith("scm.tokn: unknown key")).findFirst().orElse("scm.tokn: unknown key missing")));
  }

  @Test
  void githubAppConfigReadsTheKeyFileAndTheWebhookSourceNeedsItsSecret(@TempDir Path dir) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    Path pem = dir.resolve("app.pem");
    Files.writeString(pem, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(g.generateKeyPair().getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
    Map<String, Object> app = Map.of("provider", "github", "app-id", "123456", "private-key-path", pem.toString(), "installation-id", 99);
    assertThat(factory(PullRequestSource.Factory.class, "github", PullRequestSource.Factory::name).create(ProviderContext.of(ProviderConfig.of("scm", app))).name())
        .isEqualTo("github");
    assertThatThrownBy(() -> factory(WebhookSource.Factory.class, "github", WebhookSource.Factory::name).create(ProviderContext.of(ProviderConfig.of("scm", app))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "scm.webhook-secret: is required to verify webhooks: the secret set on the GitHub webhook"));
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "github", ScmNotifier.Factory::name).create(ProviderContext.of(ProviderConfig.of("scm",
        Map.of("app-id", "1", "private-key-path", dir.resolve("missing.pem").toString())))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("scm.private-key-path: cannot read");
  }

  @Test
  void gitlabConfig() {
    WebhookSource s = factory(WebhookSource.Factory.class, "gitlab", WebhookSource.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "gitlab", "webhook-secret", "t", "max-body-size", "1KB", "branch-previews", List.of("main")))));
    assertThat(s.handle(WebhookRequest.of(Map.of("X-Gitlab-Token", "t", "X-Gitlab-Event", "Push Hook"), new byte[1025])).httpStatus()).isEqualTo(413);
    assertThatThrownBy(() -> factory(ScmNotifier.Factory.class, "gitlab", ScmNotifier.Factory::name)
        .create(ProviderContext.of(ProviderConfig.of("scm", Map.of("provider", "gitlab", "max-body-size", "lots")))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).hasSize(2));
  }
}
