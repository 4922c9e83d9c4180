package dev.preview.server.ui;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@code dashboard:} section of {@code preview.yaml}: who may see the dashboard and the JSON API,
 * and who may act.
 *
 * <pre>
 * dashboard:
 *   adminToken: ${PREVIEW_DASHBOARD_ADMIN_TOKEN}   # bearer token (or login) of the admin role
 *   readToken: ${PREVIEW_DASHBOARD_READ_TOKEN}     # bearer token of the read-only role
 *   users:                                         # basic auth (and the login form)
 *     ana:
 *       password: ${ANA_PASSWORD}
 *       role: admin
 *   refresh: 5s                                    # how often the page refreshes its list
 *   session: 12h                                   # how long a login lasts
 *   sessionKey: ${PREVIEW_DASHBOARD_SESSION_KEY}   # signs login cookies (default: derived from the credentials)
 *   figuresFile: /var/lib/preview/figures.jsonl    # the summary's 7-day events, kept across restarts
 *   pullRequestUrl: https://github.com/{repository}/pull/{number}
 *   allowedOrigins: [https://previews.example.com] # Origins a POST may come from besides the page's own
 * </pre>
 *
 * At least one credential is required; every problem is reported at once. Secrets are kept as
 * {@link Secret}: never printed.
 */
public final class DashboardSettings {
  /** What a credential may do. */
  public enum Role {
    /** Sees everything; no actions. */
    READ,
    /** Sees everything and acts: redeploy, extend, pin, sleep, wake, delete. */
    ADMIN
  }

  /** A credential with its role: a bearer token ({@code user} null) or a user's password. */
  record Credential(@Nullable String user, Secret secret, Role role) {}

  private final List<Credential> tokens;
  private final Map<String, Credential> users;
  private final Duration refresh;
  private final Duration session;
  private final @Nullable String pullRequestUrl;
  private final List<String> allowedOrigins;
  private final @Nullable Secret sessionKey;
  private final java.nio.file.@Nullable Path figuresFile;

  private DashboardSettings(List<Credential> tokens, Map<String, Credential> users, Duration refresh, Duration session,
      @Nullable String pullRequestUrl, List<String> allowedOrigins, @Nullable Secret sessionKey,
      java.nio.file.@Nullable Path figuresFile) {
    this.tokens = List.copyOf(tokens);
    this.users = Map.copyOf(users);
    this.refresh = refresh;
    this.session = session;
    this.pullRequestUrl = pullRequestUrl;
    this.allowedOrigins = List.copyOf(allowedOrigins);
    this.sessionKey = sessionKey;
    this.figuresFile = figuresFile;
  }

  /** Whether {@code config} (the {@code dashboard} section) is set at all. */
  public static boolean present(ProviderConfig config) {
    return !config.keys().isEmpty();
  }

  /**
   * Reads the section.
   *
   * @throws ConfigurationException listing every problem (unknown keys, missing credentials, bad roles)
   */
  public static DashboardSettings read(ProviderConfig c) {
    List<Credential> tokens = new ArrayList<>();
    c.secret("adminToken").ifPresent(s -> token(c, "adminToken", s, Role.ADMIN, tokens));
    c.secret("readToken").ifPresent(s -> token(c, "readToken", s, Role.READ, tokens));
    Map<String, Credential> users = new LinkedHashMap<>();
    c.sections("users").forEach((name, u) -> {
      Secret pw = u.requiredSecret("password");
      String role = u.choice("role", "read", "read", "admin");
      if (!name.matches("[A-Za-z0-9._@-]{1,64}")) {
        c.problem("users." + name, "a user name is 1-64 letters, digits or ._@-");
      } else if (pw != null && !pw.isEmpty()) {
        if (pw.reveal().length() < 12) {
          u.problem("password", "must be at least 12 characters");
        }
        users.put(name, new Credential(name, pw, Role.valueOf(role.toUpperCase(Locale.ROOT))));
      }
    });
    Duration refresh = c.duration("refresh", Duration.ofSeconds(5));
    if (refresh != null && (refresh.compareTo(Duration.ofSeconds(1)) < 0 || refresh.compareTo(Duration.ofMinutes(10)) > 0)) {
      c.problem("refresh", "must be between 1s and 10m, got " + refresh.toSeconds() + "s");
    }
    Duration session = c.duration("session", Duration.ofHours(12));
    if (session != null && (session.compareTo(Duration.ofMinutes(1)) < 0 || session.compareTo(Duration.ofDays(30)) > 0)) {
      c.problem("session", "must be between 1m and 30d");
    }
    String prUrl = c.string("pullRequestUrl", null);
    if (prUrl != null && !(prUrl.startsWith("https://") || prUrl.startsWith("http://"))) {
      c.problem("pullRequestUrl", "must be an http(s) URL template with {repository} and {number}, e.g."
          + " https://github.com/{repository}/pull/{number}");
    }
    List<String> origins = new ArrayList<>();
    for (String o : c.strings("allowedOrigins")) {
      try {
        URI u = URI.create(o);
        if (u.getScheme() == null || u.getHost() == null || (u.getPath() != null && !u.getPath().isEmpty())) {
          throw new IllegalArgumentException();
        }
        origins.add(o.toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        c.problem("allowedOrigins", "\"" + o + "\" is not an origin such as https://previews.example.com (scheme and host, no path)");
      }
    }
    Secret sessionKey = c.secret("sessionKey").orElse(null);
    if (sessionKey != null && sessionKey.reveal().length() < 32) {
      c.problem("sessionKey", "must be at least 32 characters (e.g. openssl rand -hex 32), the same on every replica");
    }
    java.nio.file.Path figures = null;
    String figuresPath = c.string("figuresFile", null);
    if (figuresPath != null) {
      try {
        figures = java.nio.file.Path.of(figuresPath);
        if (java.nio.file.Files.isDirectory(figures)) {
          c.problem("figuresFile", figuresPath + " is a directory; name a file, e.g. /var/lib/preview/dashboard-figures.jsonl");
        }
      } catch (java.nio.file.InvalidPathException e) {
        c.problem("figuresFile", "\"" + figuresPath + "\" is not a path");
      }
    }
    if (tokens.isEmpty() && users.isEmpty() && c.problems().isEmpty()) {
      c.problem("adminToken", "the dashboard needs a credential: set adminToken (and readToken), or users with"
          + " password and role; or remove the dashboard section");
    }
    c.validate();
    return new DashboardSettings(tokens, users, refresh == null ? Duration.ofSeconds(5) : refresh,
        session == null ? Duration.ofHours(12) : session, prUrl, origins, sessionKey, figures);
  }

  private static void token(ProviderConfig c, String key, Secret s, Role role, List<Credential> out) {
    if (s.reveal().length() < 16) {
      c.problem(key, "must be at least 16 characters (e.g. openssl rand -hex 24)");
      return;
    }
    out.add(new Credential(null, s, role));
  }

  /** Settings built in code: one admin token and optionally one read-only token. */
  public static DashboardSettings tokens(Secret admin, @Nullable Secret read) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("adminToken", admin);
    if (read != null) {
      m.put("readToken", read);
    }
    return read(ProviderConfig.of("dashboard", m));
  }

  /** The same settings with users for basic auth and the login form. */
  public DashboardSettings withUser(String name, Secret password, Role role) {
    Map<String, Credential> u = new LinkedHashMap<>(users);
    u.put(Objects.requireNonNull(name), new Credential(name, password, role));
    return new DashboardSettings(tokens, u, refresh, session, pullRequestUrl, allowedOrigins, sessionKey, figuresFile);
  }

  public DashboardSettings withRefresh(Duration d) {
    return new DashboardSettings(tokens, users, d, session, pullRequestUrl, allowedOrigins, sessionKey, figuresFile);
  }

  List<Credential> tokens() {
    return tokens;
  }

  Map<String, Credential> users() {
    return users;
  }

  public Duration refresh() {
    return refresh;
  }

  public Duration session() {
    return session;
  }

  public Optional<String> pullRequestUrl() {
    return Optional.ofNullable(pullRequestUrl);
  }

  /** The same settings with this key for the session cookies (32+ characters), instead of one derived from the credentials. */
  public DashboardSettings withSessionKey(Secret key) {
    if (key.reveal().length() < 32) {
      throw new IllegalArgumentException("sessionKey: must be at least 32 characters");
    }
    return new DashboardSettings(tokens, users, refresh, session, pullRequestUrl, allowedOrigins, key, figuresFile);
  }

  /** The same settings with the summary's events kept in {@code file} too (see {@link PreviewBoard#figuresFile}). */
  public DashboardSettings withFiguresFile(java.nio.file.Path file) {
    return new DashboardSettings(tokens, users, refresh, session, pullRequestUrl, allowedOrigins, sessionKey, file);
  }

  /** Where the summary's events are kept, if {@code figuresFile} is set. */
  public Optional<java.nio.file.Path> figuresFile() {
    return Optional.ofNullable(figuresFile);
  }

  /** The key of the session cookies, if {@code sessionKey} is set. */
  Optional<Secret> sessionKey() {
    return Optional.ofNullable(sessionKey);
  }

  List<String> allowedOrigins() {
    return allowedOrigins;
  }

  /** Lists what is set, never a secret. */
  @Override
  public String toString() {
    return "DashboardSettings{tokens=" + tokens.size() + ", users=" + users.keySet() + ", refresh=" + refresh + "}";
  }
}
