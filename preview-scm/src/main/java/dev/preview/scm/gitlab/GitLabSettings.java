package dev.preview.scm.gitlab;

import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Settings;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import okhttp3.HttpUrl;

/** The {@code scm} section of {@code preview.yaml} when {@code provider: gitlab}. */
final class GitLabSettings {
  static final String DEFAULT_BASE_URL = "https://gitlab.com";

  HttpUrl baseUrl;
  Optional<Secret> token;
  Optional<Secret> webhookSecret;
  List<String> branchPreviews;
  int maxBodyBytes;
  boolean comments;
  boolean environments;
  boolean commitStatus;
  String environmentPrefix;
  String statusName;
  Duration rateLimitMaxWait;
  Duration timeout;

  private GitLabSettings() {}

  static GitLabSettings read(ProviderConfig c, boolean needsApi, boolean needsWebhook) {
    GitLabSettings s = new GitLabSettings();
    c.ignore("provider");
    s.baseUrl = Settings.baseUrl(c, Settings.key(c, "baseUrl"), DEFAULT_BASE_URL);
    s.token = c.secret("token");
    s.webhookSecret = c.secret(Settings.key(c, "webhookSecret"));
    s.branchPreviews = c.strings(Settings.key(c, "branchPreviews"));
    s.maxBodyBytes = Settings.size(c, Settings.key(c, "maxBodySize"), GitLabWebhookSource.DEFAULT_MAX_BODY_BYTES);
    s.comments = c.bool("comments", true);
    s.environments = c.bool("environments", true);
    s.commitStatus = c.bool(Settings.key(c, "commitStatus"), true);
    s.environmentPrefix = c.string(Settings.key(c, "environmentPrefix"), "preview/");
    String nameKey = Settings.key(c, "statusName");
    s.statusName = c.string(nameKey, "preview");
    if (s.statusName.isBlank()) {
      c.problem(nameKey, "must not be blank: GitLab groups commit statuses by it (default preview)");
    }
    s.rateLimitMaxWait = c.duration(Settings.key(c, "rateLimitMaxWait"), Duration.ofSeconds(60));
    s.timeout = c.duration("timeout", Duration.ofSeconds(30));
    if (s.timeout.isZero()) {
      c.problem("timeout", "must be longer than zero (e.g. 30s), got 0");
      s.timeout = Duration.ofSeconds(30);
    }
    if (needsApi && (s.token.isEmpty() || s.token.get().isEmpty())) {
      c.problem("token", "is required: a GitLab access token with the api scope (project, group or personal)");
    }
    if (needsWebhook && (s.webhookSecret.isEmpty() || s.webhookSecret.get().isEmpty())) {
      c.problem("webhookSecret", "is required to verify webhooks: the secret token set on the GitLab webhook");
    }
    c.validate();
    return s;
  }

  /**
   * {@code baseUrl} checked for a builder called from code, together with {@code token}: every
   * problem in one {@link ConfigurationException}.
   */
  static HttpUrl url(String baseUrl, Secret token) {
    List<String> problems = new ArrayList<>();
    HttpUrl url = null;
    try {
      url = Settings.url("baseUrl", baseUrl, DEFAULT_BASE_URL);
    } catch (ConfigurationException e) {
      problems.addAll(e.problems());
    }
    if (token.isEmpty()) {
      problems.add("token: must not be empty: a GitLab access token with the api scope (project, group or personal)");
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    return url;
  }

  GitLabApi api() {
    ApiClient client = ApiClient.builder("gitlab")
        .timeout(timeout)
        .maxWait(rateLimitMaxWait)
        .build();
    return new GitLabApi(client, baseUrl, token.orElseThrow());
  }
}
