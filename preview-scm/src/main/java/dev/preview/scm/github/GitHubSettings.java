package dev.preview.scm.github;

import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Settings;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * The {@code scm} section of {@code preview.yaml} when {@code provider: github}. Every component
 * (notifier, PR source, webhook source) reads the whole section, so that a typo is reported by
 * whichever is built first, together with every other problem.
 */
final class GitHubSettings {
  static final String DEFAULT_BASE_URL = "https://api.github.com";

  HttpUrl baseUrl;
  Optional<Secret> token;
  String appId;
  PrivateKey privateKey;
  Long installationId;
  Optional<Secret> webhookSecret;
  List<String> branchPreviews;
  int maxBodyBytes;
  boolean comments;
  boolean deployments;
  boolean commitStatus;
  String environmentPrefix;
  String statusContext;
  Duration rateLimitMaxWait;
  Duration timeout;

  private GitHubSettings() {}

  static GitHubSettings read(ProviderConfig c, boolean needsApi, boolean needsWebhook) {
    GitHubSettings s = new GitHubSettings();
    c.ignore("provider");
    s.baseUrl = Settings.baseUrl(c, "base-url", DEFAULT_BASE_URL);
    s.token = c.secret("token");
    s.appId = c.string("app-id").orElse(null);
    Optional<String> keyPath = c.string("private-key-path");
    Optional<Secret> keyPem = c.secret("private-key");
    long installation = c.longValue("installation-id", 0, 0, Long.MAX_VALUE);
    s.installationId = installation == 0 ? null : installation;
    s.webhookSecret = c.secret("webhook-secret");
    s.branchPreviews = c.strings("branch-previews");
    s.maxBodyBytes = Settings.size(c, "max-body-size", GitHubWebhookSource.DEFAULT_MAX_BODY_BYTES);
    s.comments = c.bool("comments", true);
    s.deployments = c.bool("deployments", true);
    s.commitStatus = c.bool("commit-status", false);
    s.environmentPrefix = c.string("environment-prefix", "preview-");
    s.statusContext = c.string("status-context", "preview");
    s.rateLimitMaxWait = c.duration("rate-limit-max-wait", Duration.ofSeconds(60));
    s.timeout = c.duration("timeout", Duration.ofSeconds(30));

    if (s.appId != null) {
      if (s.token.isPresent()) {
        c.problem("token", "set either token or app-id (a GitHub App), not both");
      }
      if (keyPath.isEmpty() == keyPem.isEmpty()) {
        c.problem("private-key-path", "a GitHub App needs exactly one of private-key-path or private-key (the PEM GitHub generated)");
      } else {
        s.privateKey = readKey(c, keyPath, keyPem);
      }
    } else if (keyPath.isPresent() || keyPem.isPresent() || s.installationId != null) {
      c.problem("app-id", "is required when private-key-path, private-key or installation-id is set (GitHub App authentication)");
    } else if (needsApi && (s.token.isEmpty() || s.token.get().isEmpty())) {
      c.problem("token", "is required: a GitHub token with pull requests, issues, deployments and statuses write access, or app-id and private-key-path for a GitHub App");
    }
    if (needsWebhook && (s.webhookSecret.isEmpty() || s.webhookSecret.get().isEmpty())) {
      c.problem("webhook-secret", "is required to verify webhooks: the secret set on the GitHub webhook");
    }
    c.validate();
    return s;
  }

  private static PrivateKey readKey(ProviderConfig c, Optional<String> path, Optional<Secret> pem) {
    String text;
    String where;
    if (path.isPresent()) {
      where = "private-key-path";
      try {
        text = Files.readString(Path.of(path.get()));
      } catch (IOException | RuntimeException e) {
        c.problem(where, "cannot read " + path.get() + ": " + e.getMessage());
        return null;
      }
    } else {
      where = "private-key";
      text = pem.get().reveal();
    }
    try {
      return Pem.privateKey(text);
    } catch (IllegalArgumentException e) {
      c.problem(where, e.getMessage());
      return null;
    }
  }

  ApiClient client() {
    return ApiClient.builder("github")
        .http(new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(10)).readTimeout(timeout).callTimeout(timeout.multipliedBy(2)).build())
        .maxWait(rateLimitMaxWait)
        .build();
  }

  GitHubApi api(ApiClient client) {
    GitHubAuth auth = appId != null
        ? new GitHubAppAuth(appId, privateKey, installationId, client, baseUrl)
        : GitHubAuth.token(token.orElseThrow(() -> new ConfigurationException("scm.token: is required")));
    return new GitHubApi(client, baseUrl, auth);
  }
}
