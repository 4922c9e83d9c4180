package dev.preview.scm.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.CommitStatuses;
import dev.preview.scm.internal.IndependentSteps;
import dev.preview.scm.internal.KeyedLocks;
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
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a preview's status on GitLab: one sticky MR note (found by the hidden marker, edited in
 * place; same guarantees as the GitHub notifier: per-MR serialisation with the last call winning, look
 * before create, duplicates from other processes cleaned up), an environment named after the
 * preview ({@code preview/mr-7}) whose {@code external_url} is the preview URL and which is stopped
 * on teardown, and a commit status on the head revision. Thread-safe.
 */
public final class GitLabNotifier implements ScmNotifier {
  private static final Logger LOG = LoggerFactory.getLogger(GitLabNotifier.class);
  private static final int MAX_DESCRIPTION = 255;

  private final GitLabApi api;
  private final boolean comments;
  private final boolean environments;
  private final boolean commitStatus;
  private final String environmentPrefix;
  private final String statusName;
  private final KeyedLocks<PreviewKey> locks = new KeyedLocks<>();
  private final StickyComments sticky;
  private final Map<PreviewKey, JsonNode> environmentCache = new ConcurrentHashMap<>();
  /** The id of the token's own user (GET /user), once known: only its notes are ours. */
  private volatile Long selfId;
  private final Map<String, String> lastCommitStatus = new ConcurrentHashMap<>();

  private GitLabNotifier(GitLabApi api, Builder b) {
    this.api = api;
    this.comments = b.comments;
    this.environments = b.environments;
    this.commitStatus = b.commitStatus;
    this.environmentPrefix = b.environmentPrefix;
    this.statusName = b.statusName;
    this.sticky = new StickyComments("gitlab", new StickyComments.Api() {
      @Override
      public List<StickyComments.Note> list(PreviewKey key) {
        List<StickyComments.Note> out = new ArrayList<>();
        for (JsonNode n : api.notesOf(key)) {
          if (!n.path("system").asBoolean(false)) {
            out.add(new StickyComments.Note(n.path("id").asLong(), n.path("body").asText(""), n.path("author")));
          }
        }
        return out;
      }

      @Override
      public boolean byUs(PreviewKey key, JsonNode author) {
        Long self = selfId;
        if (self == null) {
          self = api.selfId();
          selfId = self;
        }
        return author.path("id").isIntegralNumber() && author.path("id").asLong() == self;
      }

      @Override
      public long create(PreviewKey key, String body) {
        return api.createNote(key, body).path("id").asLong();
      }

      @Override
      public void update(PreviewKey key, long id, String body) {
        api.updateNote(key, id, body);
      }

      @Override
      public void delete(PreviewKey key, long id) {
        api.deleteNote(key, id);
      }
    });
  }

  /**
   * A notifier for {@code baseUrl} ({@code https://gitlab.com} or a self-managed instance) with an access token (api scope).
   *
   * @throws ConfigurationException if {@code baseUrl} is not an http(s) URL or {@code token} is empty
   */
  public static Builder builder(String baseUrl, Secret token) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(token, "token");
    return new Builder(GitLabSettings.url(baseUrl, token), token);
  }

  @Override
  public String name() {
    return "gitlab";
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
      if (environments) {
        steps.run(() -> environment(status));
      }
      if (commitStatus && status.revision() != null) {
        steps.run(() -> commitStatus(status));
      }
      if (status.state() == PreviewState.DELETED) {
        sticky.forget(key);
        lastCommitStatus.keySet().removeIf(k -> k.startsWith(key.id() + "@"));
      }
      steps.throwIfAnyFailed();
      return null;
    });
  }

  /**
   * Reads back what the MR shows from the hidden status line of our sticky note (see
   * {@link StickyComments}); only a note whose author is the token's own user counts. Empty for a
   * branch preview, with comments off, or when the MR has no note of ours.
   */
  @Override
  public Optional<PublishedStatus> published(PreviewKey key) {
    Objects.requireNonNull(key, "key");
    if (!comments || !key.isPullRequest()) {
      return Optional.empty();
    }
    return locks.with(key, () -> sticky.published(key, StickyComments.marker(key)));
  }

  String environmentName(PreviewKey key) {
    return environmentPrefix + (key.isPullRequest() ? "mr-" + key.number() : key.branch().replaceAll("[^A-Za-z0-9._/-]", "-"));
  }

  private void environment(PreviewStatus s) {
    PreviewKey key = s.key();
    String name = environmentName(key);
    boolean gone = s.state() == PreviewState.DELETING || s.state() == PreviewState.DELETED;
    JsonNode env = environmentCache.get(key);
    if (env == null) {
      env = api.environment(key.repository(), name);
    }
    if (gone) {
      if (env != null && !"stopped".equals(env.path("state").asText())) {
        api.stopEnvironment(key.repository(), env.path("id").asLong());
      }
      environmentCache.remove(key);
      return;
    }
    String url = s.url() == null ? null : s.url().toString();
    if (env != null && "stopped".equals(env.path("state").asText()) && url != null) {
      // closed, then reopened: a stopped environment cannot be started through the API; the stopped
      // one is deleted (only stopped ones can be) and an available one with the URL takes its place
      api.deleteEnvironment(key.repository(), env.path("id").asLong());
      environmentCache.remove(key);
      env = null;
    }
    if (env == null) {
      if (url == null) {
        return; // nothing to point at yet; the environment appears with its URL
      }
      env = createEnvironment(key.repository(), name, url);
    } else if (url != null && !url.equals(env.path("external_url").asText(null))) {
      env = api.updateEnvironment(key.repository(), env.path("id").asLong(), url);
    }
    environmentCache.put(key, env);
  }

  private JsonNode createEnvironment(String repository, String name, String url) {
    try {
      return api.createEnvironment(repository, name, url);
    } catch (ProviderException e) {
      // "name has already been taken" (400) after a race, or a create that failed midway: look first.
      JsonNode stored = api.environment(repository, name);
      if (stored == null) {
        throw e;
      }
      return url.equals(stored.path("external_url").asText(null)) ? stored : api.updateEnvironment(repository, stored.path("id").asLong(), url);
    }
  }

  private void commitStatus(PreviewStatus s) {
    String state = switch (s.state()) {
      case PENDING, WAITING -> "pending";
      case BUILDING, PROVISIONING -> "running";
      case READY -> "success";
      case FAILED -> "failed";
      default -> null;
    };
    if (state == null) {
      return;
    }
    ObjectNode body = ApiClient.MAPPER.createObjectNode().put("state", state).put("name", statusName);
    URI target = s.url() != null ? s.url() : s.links().get("logs");
    if (target != null) {
      body.put("target_url", target.toString());
    }
    body.put("description", description(s));
    String statusKey = s.key().id() + "@" + s.revision();
    if (!CommitStatuses.worthPosting(lastCommitStatus, statusKey, state)) {
      return;
    }
    try {
      api.commitStatus(s.key().repository(), s.revision(), body);
    } catch (ProviderException e) {
      // GitLab refuses a transition to the state the status already has ("Cannot transition status via :run from :running").
      if (e.httpStatus().orElse(0) != 400 || !e.getMessage().contains("Cannot transition status")) {
        throw e;
      }
    }
    CommitStatuses.posted(lastCommitStatus, statusKey, state);
  }

  static String description(PreviewStatus s) {
    return StatusDescription.of(s, MAX_DESCRIPTION);
  }


  /** Options of a {@link GitLabNotifier}. */
  public static final class Builder {
    private final HttpUrl baseUrl;
    private final Secret token;
    private boolean comments = true;
    private boolean environments = true;
    private boolean commitStatus = true;
    private String environmentPrefix = "preview/";
    private String statusName = "preview";
    private final ApiClient.Builder client = ApiClient.builder("gitlab");

    private Builder(HttpUrl baseUrl, Secret token) {
      this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
      this.token = Objects.requireNonNull(token, "token");
    }

    /** The sticky MR note (default on). */
    public Builder comments(boolean on) {
      this.comments = on;
      return this;
    }

    /** The GitLab environment with the preview's URL, stopped on teardown (default on). */
    public Builder environments(boolean on) {
      this.environments = on;
      return this;
    }

    /** A commit status on the head revision (default on). */
    public Builder commitStatus(boolean on) {
      this.commitStatus = on;
      return this;
    }

    /** Environments are named {@code <prefix>mr-<iid>} (default {@code preview/}, a folder in GitLab's list). */
    public Builder environmentPrefix(String prefix) {
      this.environmentPrefix = Objects.requireNonNull(prefix, "environmentPrefix");
      return this;
    }

    /** The name of the commit status (default {@code preview}). */
    public Builder statusName(String name) {
      Objects.requireNonNull(name, "statusName");
      if (name.isBlank()) {
        throw new ConfigurationException("statusName: must not be blank: GitLab groups commit statuses by it (default preview)");
      }
      this.statusName = name;
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

    public GitLabNotifier build() {
      return new GitLabNotifier(new GitLabApi(client.build(), baseUrl, token), this);
    }
  }

  static GitLabNotifier fromSettings(GitLabSettings s) {
    Builder b = new Builder(s.baseUrl, s.token.orElseThrow());
    b.comments = s.comments;
    b.environments = s.environments;
    b.commitStatus = s.commitStatus;
    b.environmentPrefix = s.environmentPrefix;
    b.statusName = s.statusName;
    return new GitLabNotifier(s.api(), b);
  }

  /**
   * {@code scm.provider: gitlab}. Cheap: reads and checks the section, then builds the notifier and
   * its HTTP client; nothing is built before {@link #create}. Keys (see the module README):
   * {@code token} (required), {@code baseUrl}, {@code comments}, {@code environments},
   * {@code commitStatus}, {@code environmentPrefix}, {@code statusName}, {@code rateLimitMaxWait},
   * {@code timeout}; {@code webhookSecret}, {@code branchPreviews} and {@code maxBodySize} are
   * accepted for the webhook source that reads the same section.
   */
  public static final class Factory implements ScmNotifier.Factory {
    @Override
    public String name() {
      return "gitlab";
    }

    @Override
    public ScmNotifier create(ProviderContext context) {
      ProviderConfig config = context.config();
      return fromSettings(GitLabSettings.read(config, true, false));
    }
  }
}
