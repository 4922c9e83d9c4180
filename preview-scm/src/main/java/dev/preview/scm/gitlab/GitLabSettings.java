package dev.preview.scm.gitlab;

import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Settings;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

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
    s.baseUrl = Settings.baseUrl(c, "base-url", DEFAULT_BASE_URL);
    s.token = c.secret("token");
    s.webhookSecret = c.secret("webhook-secret");
    s.branchPreviews = c.strings("branch-previews");
    s.maxBodyBytes = Settings.size(c, "max-body-size", GitLabWebhookSource.DEFAULT_MAX_BODY_BYTES);
    s.comments = c.bool("comments", true);
    s.environments = c.bool("environments", true);
    s.commitStatus = c.bool("commit-status", true);
    s.environmentPrefix = c.string("environment-prefix", "preview/");
    s.statusName = c.string("status-name", "preview");
    s.rateLimitMaxWait = c.duration("rate-limit-max-wait", Duration.ofSeconds(60));
    s.timeout = c.duration("timeout", Duration.ofSeconds(30));
    if (needsApi && (s.token.isEmpty() || s.token.get().isEmpty())) {
      c.problem("token", "is required: a GitLab access token with the api scope (project, group or personal)");
    }
    if (needsWebhook && (s.webhookSecret.isEmpty() || s.webhookSecret.get().isEmpty())) {
      c.problem("webhook-secret", "is required to verify webhooks: the secret token set on the GitLab webhook");
    }
    c.validate();
    return s;
  }

  GitLabApi api() {
    ApiClient client = ApiClient.builder("gitlab")
        .http(new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(10)).readTimeout(timeout).callTimeout(timeout.multipliedBy(2)).build())
        .maxWait(rateLimitMaxWait)
        .build();
    return new GitLabApi(client, baseUrl, token.orElseThrow());
  }
}
