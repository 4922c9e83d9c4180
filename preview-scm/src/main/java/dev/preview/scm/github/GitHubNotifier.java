package dev.preview.scm.github;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.CommitStatuses;
import dev.preview.scm.internal.IndependentSteps;
import dev.preview.scm.internal.KeyedLocks;
import dev.preview.scm.internal.Settings;
import dev.preview.scm.internal.Sleeper;
import dev.preview.scm.internal.StatusDescription;
import dev.preview.scm.internal.StickyComments;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.ScmNotifier;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a preview's status on GitHub: one sticky issue comment per PR (found again by the
 * status's hidden marker and edited in place), a deployment of a transient, non-production
 * environment named after the preview with statuses {@code queued}, {@code in_progress},
 * {@code success}, {@code failure} and {@code inactive}, and optionally a commit status.
 *
 * <h2>Why there is never a second comment</h2>
 * Updates of one PR run one at a time (a lock per key; the last call wins, as the orchestrator
 * already orders the statuses of one PR), and a comment is created only after listing the PR's
 * comments found none with the marker. A create that failed midway (timeout, 5xx) is not retried blindly: the comments
 * are listed again first, because GitHub may have stored it. If duplicates exist anyway (two
 * processes raced), the next lookup keeps the oldest and deletes the others.
 *
 * <p>Thread-safe. Comment ids are remembered to save API calls; a comment deleted by a human is
 * noticed (404) and recreated.
 */
public final class GitHubNotifier implements ScmNotifier {
  private static final Logger LOG = LoggerFactory.getLogger(GitHubNotifier.class);
  private static final int MAX_DESCRIPTION = 140;

  private final GitHubApi api;
  private final boolean comments;
  private final boolean deployments;
  private final boolean commitStatus;
  private final String environmentPrefix;
  private final String statusContext;
  private final KeyedLocks<PreviewKey> locks = new KeyedLocks<>();
  private final StickyComments sticky;
  private final Map<String, Long> deploymentIds = new ConcurrentHashMap<>();
  /** The token's own login (GET /user), once known; empty when GitHub does not tell (an App, Actions). */
  private volatile Optional<String> selfLogin;
  private final Map<Long, String> lastDeploymentStatus = new ConcurrentHashMap<>();
  /** repository@sha -> state and target of the last commit status we posted there (GitHub keeps at most 1,000 per SHA and context). */
  private final Map<String, String> lastCommitStatus = new ConcurrentHashMap<>();

  private GitHubNotifier(Builder b) {
    this.api = b.api();
    this.comments = b.comments;
    this.deployments = b.deployments;
    this.commitStatus = b.commitStatus;
    this.environmentPrefix = b.environmentPrefix;
    this.statusContext = b.statusContext;
    this.sticky = new StickyComments("github", new StickyComments.Api() {
      @Override
      public List<StickyComments.Note> list(PreviewKey key) {
        return api.comments(key).stream()
            .map(c -> new StickyComments.Note(c.path("id").asLong(), c.path("body").asText(""), c.path("user"))).toList();
      }

      @Override
      public boolean byUs(PreviewKey key, JsonNode user) {
        return GitHubNotifier.this.byUs(key, user);
      }

      @Override
      public long create(PreviewKey key, String body) {
        return api.createComment(key, body).path("id").asLong();
      }

      @Override
      public void update(PreviewKey key, long id, String body) {
        api.updateComment(key.repository(), id, body);
      }

      @Override
      public void delete(PreviewKey key, long id) {
        api.deleteComment(key.repository(), id);
      }
    });
  }

  /**
   * A notifier calling {@code baseUrl} ({@code https://api.github.com}, or {@code https://HOST/api/v3} for GitHub Enterprise Server).
   *
   * @throws dev.preview.spi.ConfigurationException if {@code baseUrl} is not an http(s) URL
   */
  public static Builder builder(String baseUrl, GitHubAuth auth) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(auth, "auth");
    return new Builder(Settings.url("baseUrl", baseUrl, GitHubSettings.DEFAULT_BASE_URL), auth);
  }

  @Override
  public String name() {
    return "github";
  }

  @Override
  public void publish(PreviewStatus status) {
    Objects.requireNonNull(status, "status");
    PreviewKey key = status.key();
    locks.with(key, () -> {
      IndependentSteps steps = new IndependentSteps();
      if (comments && key.isPullRequest()) {
        if (status.state() == PreviewState.DELETED) {
          // only an existing comment says "deleted": a PR that never had a preview gets none
          steps.run(() -> sticky.updateIfPresent(key, status.marker(), StickyComments.body(status)));
        } else {
          steps.run(() -> sticky.upsert(key, status.marker(), StickyComments.body(status)));
        }
      }
      if (deployments) {
        steps.run(() -> deployment(status));
      }
      if (commitStatus && status.revision() != null) {
        steps.run(() -> commitStatus(status));
      }
      if (status.state() == PreviewState.DELETED) {
        // A long-running server must not remember every PR it ever saw; a reopened PR is looked up again.
        sticky.forget(key);
        lastCommitStatus.keySet().removeIf(k -> k.startsWith(key.id() + "@"));
        deploymentIds.entrySet().removeIf(e -> {
          if (e.getKey().startsWith(key.id() + "@")) {
            lastDeploymentStatus.remove(e.getValue());
            return true;
          }
          return false;
        });
      }
      steps.throwIfAnyFailed();
      return null;
    });
  }

  /**
   * Reads back what the PR shows from the hidden status line of our sticky comment (see
   * {@link StickyComments}); empty for a branch preview, with comments off, or when the PR has no
   * comment of ours. One list of the PR's comments the first time (none while this process has
   * written it since).
   */
  @Override
  public Optional<PublishedStatus> published(PreviewKey key) {
    Objects.requireNonNull(key, "key");
    if (!comments || !key.isPullRequest()) {
      return Optional.empty();
    }
    return locks.with(key, () -> sticky.published(key, StickyComments.marker(key)));
  }

  /**
   * Whether a comment that starts with our marker was written by us: by a bot account (a GitHub App,
   * Actions' github-actions[bot]; a person who opens or comments a PR never is one) or by the
   * token's own user. A copy of the marker posted by anyone else is not ours.
   */
  boolean byUs(PreviewKey key, JsonNode user) {
    if ("Bot".equals(user.path("type").asText())) {
      return true;
    }
    Optional<String> self = selfLogin;
    if (self == null) {
      self = Optional.ofNullable(api.selfLogin(key.repository()));
      selfLogin = self;
    }
    return self.isPresent() && self.get().equalsIgnoreCase(user.path("login").asText(""));
  }

  // --- deployments

  String environment(PreviewKey key) {
    return environmentPrefix + (key.isPullRequest() ? "pr-" + key.number() : key.branch().replaceAll("[^A-Za-z0-9._-]", "-"));
  }

  private void deployment(PreviewStatus s) {
    PreviewKey key = s.key();
    String env = environment(key);
    boolean gone = s.state() == PreviewState.SLEEPING || s.state() == PreviewState.DELETING || s.state() == PreviewState.DELETED;
    Long id;
    if (s.revision() != null) {
      String cacheKey = key.id() + "@" + s.revision();
      id = deploymentIds.get(cacheKey);
      if (id == null) {
        JsonNode existing = api.latestDeployment(key.repository(), env, s.revision());
        if (existing == null && gone) {
          return;
        }
        id = existing != null ? existing.path("id").asLong()
            : createDeployment(key.repository(), s.revision(), env, "Preview of " + key.id());
        deploymentIds.put(cacheKey, id);
      }
    } else if (gone) {
      JsonNode latest = api.latestDeployment(key.repository(), env, null);
      if (latest == null) {
        return;
      }
      id = latest.path("id").asLong();
    } else {
      return; // nothing deployed yet and no revision to deploy: the comment says PENDING
    }
    ObjectNode body = ApiClient.MAPPER.createObjectNode().put("state", deploymentState(s.state()));
    if (s.url() != null && !gone) {
      body.put("environment_url", s.url().toString());
    }
    URI logs = s.links().get("logs");
    if (logs != null) {
      body.put("log_url", logs.toString());
    }
    body.put("description", description(s));
    body.put("auto_inactive", true);
    String fingerprint = body.toString();
    if (fingerprint.equals(lastDeploymentStatus.get(id))) {
      return;
    }
    api.createDeploymentStatus(key.repository(), id, body);
    lastDeploymentStatus.put(id, fingerprint);
  }

  private long createDeployment(String repository, String sha, String env, String description) {
    Supplier<JsonNode> lookup = () -> api.latestDeployment(repository, env, sha);
    try {
      return api.createDeployment(repository, sha, env, description).path("id").asLong();
    } catch (ProviderException e) {
      if (!e.retryable()) {
        throw e;
      }
      JsonNode stored = lookup.get();
      if (stored != null) {
        return stored.path("id").asLong();
      }
      return api.createDeployment(repository, sha, env, description).path("id").asLong();
    }
  }

  static String deploymentState(PreviewState state) {
    return switch (state) {
      case PENDING, WAITING -> "queued";
      case BUILDING, PROVISIONING -> "in_progress";
      case READY -> "success";
      case FAILED -> "failure";
      case SLEEPING, DELETING, DELETED -> "inactive";
    };
  }

  // --- commit status

  private void commitStatus(PreviewStatus s) {
    String state = switch (s.state()) {
      case PENDING, WAITING, BUILDING, PROVISIONING -> "pending";
      case READY -> "success";
      case FAILED -> "failure";
      default -> null;
    };
    if (state == null) {
      return;
    }
    ObjectNode body = ApiClient.MAPPER.createObjectNode().put("state", state);
    URI target = s.url() != null ? s.url() : s.links().get("logs");
    if (target != null) {
      body.put("target_url", target.toString());
    }
    body.put("description", description(s)).put("context", statusContext);
    String statusKey = s.key().id() + "@" + s.revision();
    if (!CommitStatuses.worthPosting(lastCommitStatus, statusKey, state)) {
      return;
    }
    api.createCommitStatus(s.key().repository(), s.revision(), body);
    CommitStatuses.posted(lastCommitStatus, statusKey, state);
  }

  static String description(PreviewStatus s) {
    return StatusDescription.of(s, MAX_DESCRIPTION);
  }


  /** Options of a {@link GitHubNotifier}. */
  public static final class Builder {
    private final HttpUrl baseUrl;
    private final GitHubAuth auth;
    private boolean comments = true;
    private boolean deployments = true;
    private boolean commitStatus;
    private String environmentPrefix = "preview-";
    private String statusContext = "preview";
    private ApiClient.Builder client = ApiClient.builder("github");
    private GitHubApi api;

    private Builder(HttpUrl baseUrl, GitHubAuth auth) {
      this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
      this.auth = Objects.requireNonNull(auth, "auth");
    }

    private Builder(GitHubApi api) {
      this.baseUrl = null;
      this.auth = null;
      this.api = api;
    }

    /** The sticky PR comment (default on). */
    public Builder comments(boolean on) {
      this.comments = on;
      return this;
    }

    /** Deployments and deployment statuses (default on). */
    public Builder deployments(boolean on) {
      this.deployments = on;
      return this;
    }

    /** A commit status on the head revision (default off). */
    public Builder commitStatus(boolean on) {
      this.commitStatus = on;
      return this;
    }

    /** Environments are named {@code <prefix>pr-<number>} (default prefix {@code preview-}). */
    public Builder environmentPrefix(String prefix) {
      this.environmentPrefix = Objects.requireNonNull(prefix, "environmentPrefix");
      return this;
    }

    /** The context of the commit status (default {@code preview}). */
    public Builder statusContext(String context) {
      Objects.requireNonNull(context, "statusContext");
      if (context.isBlank()) {
        throw new ConfigurationException("statusContext: must not be blank: GitHub groups commit statuses by it (default preview)");
      }
      this.statusContext = context;
      return this;
    }

    /**
     * Read timeout of one API call (default 30 s); a whole call may take twice as long, and
     * connecting at most 10 s.
     *
     * @throws ConfigurationException if {@code timeout} is not longer than zero
     */
    public Builder timeout(Duration timeout) {
      client.timeout(timeout);
      return this;
    }

    public Builder clock(Clock clock) {
      client.clock(clock);
      return this;
    }

    Builder sleeper(Sleeper sleeper) {
      client.sleeper(sleeper);
      return this;
    }

    Builder client(ApiClient.Builder c) {
      this.client = c;
      return this;
    }

    private GitHubApi api() {
      if (api != null) {
        return api;
      }
      ApiClient c = client.build();
      GitHubAuth a = auth instanceof AppAuthSpec spec ? spec.build(c, baseUrl) : auth;
      return new GitHubApi(c, baseUrl, a);
    }

    public GitHubNotifier build() {
      return new GitHubNotifier(this);
    }
  }

  /** Placeholder auth that becomes a {@link GitHubAppAuth} sharing the notifier's HTTP client. */
  record AppAuthSpec(String appId, java.security.PrivateKey key, Long installationId) implements GitHubAuth {
    @Override
    public String authorization(String repository) {
      throw new IllegalStateException("not built");
    }

    GitHubAuth build(ApiClient c, HttpUrl baseUrl) {
      return new GitHubAppAuth(appId, key, installationId, c, baseUrl);
    }
  }

  /**
   * GitHub App authentication: the App's id, its private key (PEM, PKCS#1 or PKCS#8), and optionally
   * the installation ({@code null}: looked up per repository owner).
   *
   * @throws ConfigurationException listing every problem: a blank id, a key that is not a readable
   *     RSA PEM (the key itself is never in the message), an installation id below 1
   */
  public static GitHubAuth app(String appId, String privateKeyPem, Long installationId) {
    Objects.requireNonNull(appId, "appId");
    Objects.requireNonNull(privateKeyPem, "privateKeyPem");
    List<String> problems = new ArrayList<>();
    if (appId.isBlank()) {
      problems.add("appId: must not be blank: the App ID shown on the GitHub App's settings page");
    }
    java.security.PrivateKey key = null;
    try {
      key = Pem.privateKey(privateKeyPem);
    } catch (IllegalArgumentException e) {
      problems.add("privateKey: " + e.getMessage());
    }
    if (installationId != null && installationId < 1) {
      problems.add("installationId: must be a positive number (or null to look it up per owner), got " + installationId);
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    return new AppAuthSpec(appId, key, installationId);
  }

  static GitHubNotifier fromSettings(GitHubSettings s) {
    Builder b = new Builder(s.api(s.client()));
    b.comments = s.comments;
    b.deployments = s.deployments;
    b.commitStatus = s.commitStatus;
    b.environmentPrefix = s.environmentPrefix;
    b.statusContext = s.statusContext;
    return b.build();
  }

  /**
   * {@code scm.provider: github} (also {@code pullRequests.provider: github}). Cheap: reads and
   * checks the section, then builds the notifier and its HTTP client; nothing is built before
   * {@link #create}. Keys (see the module README): {@code token}, or {@code appId} with
   * {@code privateKeyPath} or {@code privateKey} and optionally {@code installationId};
   * {@code baseUrl}, {@code comments}, {@code deployments}, {@code commitStatus},
   * {@code environmentPrefix}, {@code statusContext}, {@code rateLimitMaxWait}, {@code timeout};
   * {@code webhookSecret}, {@code branchPreviews} and {@code maxBodySize} are accepted for the
   * webhook source that reads the same section.
   */
  public static final class Factory implements ScmNotifier.Factory {
    @Override
    public String name() {
      return "github";
    }

    @Override
    public ScmNotifier create(ProviderContext context) {
      ProviderConfig config = context.config();
      return fromSettings(GitHubSettings.read(config, true, false));
    }
  }
}
