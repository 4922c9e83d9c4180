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
    s.baseUrl = Settings.baseUrl(c, Settings.key(c, "baseUrl"), DEFAULT_BASE_URL);
    s.token = c.secret("token");
    s.appId = c.string(Settings.key(c, "appId")).orElse(null);
    Optional<String> keyPath = c.string(Settings.key(c, "privateKeyPath"));
    Optional<Secret> keyPem = c.secret(Settings.key(c, "privateKey"));
    long installation = c.longValue(Settings.key(c, "installationId"), 0, 0, Long.MAX_VALUE);
    s.installationId = installation == 0 ? null : installation;
    s.webhookSecret = c.secret(Settings.key(c, "webhookSecret"));
    s.branchPreviews = c.strings(Settings.key(c, "branchPreviews"));
    s.maxBodyBytes = Settings.size(c, Settings.key(c, "maxBodySize"), GitHubWebhookSource.DEFAULT_MAX_BODY_BYTES);
    s.comments = c.bool("comments", true);
    s.deployments = c.bool("deployments", true);
    s.commitStatus = c.bool(Settings.key(c, "commitStatus"), false);
    s.environmentPrefix = c.string(Settings.key(c, "environmentPrefix"), "preview-");
    String contextKey = Settings.key(c, "statusContext");
    s.statusContext = c.string(contextKey, "preview");
    if (s.statusContext.isBlank()) {
      c.problem(contextKey, "must not be blank: GitHub groups commit statuses by it (default preview)");
    }
    s.rateLimitMaxWait = c.duration(Settings.key(c, "rateLimitMaxWait"), Duration.ofSeconds(60));
    s.timeout = c.duration("timeout", Duration.ofSeconds(30));
    if (s.timeout.isZero()) {
      c.problem("timeout", "must be longer than zero (e.g. 30s), got 0");
      s.timeout = Duration.ofSeconds(30);
    }

    if (s.appId != null) {
      if (s.token.isPresent()) {
        c.problem("token", "set either token or appId (a GitHub App), not both");
      }
      if (keyPath.isEmpty() == keyPem.isEmpty()) {
        c.problem("privateKeyPath", "a GitHub App needs exactly one of privateKeyPath or privateKey (the PEM GitHub generated)");
      } else {
        s.privateKey = readKey(c, keyPath, keyPem);
      }
    } else if (keyPath.isPresent() || keyPem.isPresent() || s.installationId != null) {
      c.problem("appId", "is required when privateKeyPath, privateKey or installationId is set (GitHub App authentication)");
    } else if (needsApi && (s.token.isEmpty() || s.token.get().isEmpty())) {
      c.problem("token", "is required: a GitHub token with pull requests, issues, deployments and statuses write access, or appId and privateKeyPath for a GitHub App");
    }
    if (needsWebhook && (s.webhookSecret.isEmpty() || s.webhookSecret.get().isEmpty())) {
      c.problem("webhookSecret", "is required to verify webhooks: the secret set on the GitHub webhook");
    }
    c.validate();
    return s;
  }

  private static PrivateKey readKey(ProviderConfig c, Optional<String> path, Optional<Secret> pem) {
    String text;
    String where;
    if (path.isPresent()) {
      where = "privateKeyPath";
      try {
        text = Files.readString(Path.of(path.get()));
      } catch (IOException | RuntimeException e) {
        c.problem(where, "cannot read " + path.get() + ": " + e.getMessage());
        return null;
      }
    } else {
      where = "privateKey";
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
        .timeout(timeout)
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
