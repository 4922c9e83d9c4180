package dev.preview.server.gateway;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Redactor;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the gateway does: where it listens, how it routes (a hostname template, a path prefix, or
 * both), who may pass ({@link Access}), how it wakes sleeping previews and how often it writes visits
 * back. Read from the {@code gateway:} section of {@code preview.yaml} with {@link #from(ProviderConfig)}
 * (every problem at once), or built in code with {@link #builder()}. Immutable; {@link #toString()}
 * never shows a secret.
 */
public final class GatewaySettings {
  /** The access modes of {@code gateway.access.mode}. */
  public enum Mode { PUBLIC, TOKEN, BASIC }

  /** The default header that lets automation through: {@code X-Preview-Bypass: <secret>}. */
  public static final String DEFAULT_BYPASS_HEADER = "X-Preview-Bypass";
  /** The query parameter of the PR comment's link, and the name of the cookie that replaces it. */
  public static final String TOKEN_PARAMETER = "preview_token";
  public static final String COOKIE = "preview_access";

  private static final Pattern PATH_PREFIX = Pattern.compile("/([A-Za-z0-9._~-]*(\\{(number|name|repo|owner|hash)\\})?[A-Za-z0-9._~-]*/)+");
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");

  private final int port;
  private final String bind;
  private final @Nullable String hostname;
  private final @Nullable String pathPrefix;
  private final @Nullable URI publicUrl;
  private final @Nullable String healthPath;
  private final Access access;
  private final Duration wakeHold;
  private final int wakeMaxHeld;
  private final Duration wakeTimeout;
  private final Duration retryAfter;
  private final Duration visitFlush;
  private final Duration refresh;
  private final Duration upstreamTimeout;

  private GatewaySettings(Builder b) {
    this.port = b.port;
    this.bind = b.bind;
    this.hostname = b.hostname;
    this.pathPrefix = b.pathPrefix;
    this.publicUrl = b.publicUrl;
    this.healthPath = b.healthPath;
    this.access = b.access;
    this.wakeHold = b.wakeHold;
    this.wakeMaxHeld = b.wakeMaxHeld;
    this.wakeTimeout = b.wakeTimeout;
    this.retryAfter = b.retryAfter;
    this.visitFlush = b.visitFlush;
    this.refresh = b.refresh;
    this.upstreamTimeout = b.upstreamTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The settings of a {@code gateway:} section ({@code PreviewConfig.serverSection("gateway")}). Every
   * problem of the section is reported at once, unknown keys included.
   *
   * @throws ConfigurationException naming each wrong key, what is wrong and how to fix it
   */
  public static GatewaySettings from(ProviderConfig c) {
    Builder b = builder();
    b.port = c.integer("port", 8081, 0, 65535);
    b.bind = c.string("bind", "0.0.0.0");
    b.hostname = c.string("hostname", null);
    b.pathPrefix = c.string("pathPrefix", null);
    String url = c.string("publicUrl", null);
    if (url != null) {
      try {
        b.publicUrl = URI.create(url);
      } catch (IllegalArgumentException e) {
        c.problem("publicUrl", "must be a URL such as https://previews.example.com, got \"" + url + "\"");
      }
    }
    b.healthPath = c.string("healthPath", null);
    b.upstreamTimeout = c.duration("upstreamTimeout", b.upstreamTimeout);
    b.refresh = c.duration("refreshInterval", b.refresh);
    b.visitFlush = c.duration("visitFlushInterval", b.visitFlush);

    ProviderConfig wake = c.section("wake");
    b.wakeHold = wake.duration("hold", b.wakeHold);
    b.wakeMaxHeld = wake.integer("maxHeld", b.wakeMaxHeld, 0, 100_000);
    b.wakeTimeout = wake.duration("timeout", b.wakeTimeout);
    b.retryAfter = wake.duration("retryAfter", b.retryAfter);

    ProviderConfig a = c.section("access");
    String mode = a.choice("mode", "public", "public", "token", "basic");
    Access.Builder ab = Access.builder().mode(Mode.valueOf(mode.toUpperCase(Locale.ROOT)));
    a.secret("signingKey").ifPresent(ab::signingKey);
    ab.tokenTtl(a.duration("tokenTtl", ab.tokenTtl));
    ab.cookieTtl(a.duration("cookieTtl", ab.cookieTtl));
    ab.secureCookie(a.bool("secureCookie", true));
    String user = a.string("user", null);
    a.secret("password").ifPresent(p -> ab.basic(user, p));
    if (user != null && ab.password == null) {
      ab.user = user;
    }
    ProviderConfig bypass = a.section("bypass");
    ab.bypassHeader(bypass.string("header", DEFAULT_BYPASS_HEADER));
    bypass.secret("secret").ifPresent(ab::bypassSecret);
    List<String> problems = new ArrayList<>(c.problems());
    b.access = ab.check(problems, "gateway.access.");
    b.check(problems, "gateway.");
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
    return b.build();
  }

  /** The port the gateway listens on (0: any free one); default 8081. */
  public int port() { return port; }
  public String bind() { return bind; }
  /** The hostname template routed by host ({@code pr-{number}.preview.example.com}); empty: the installation's ({@code app.hostname}). */
  public Optional<String> hostname() { return Optional.ofNullable(hostname); }
  /** The path prefix template routed by path ({@code /pr/{number}/}); empty: no path routing. */
  public Optional<String> pathPrefix() { return Optional.ofNullable(pathPrefix); }
  /** Where users reach the gateway for path routing ({@code https://previews.example.com}); empty: its own address. */
  public Optional<URI> publicUrl() { return Optional.ofNullable(publicUrl); }
  /** The path probed after a wake; empty: the app's ({@code app.healthPath}). */
  public Optional<String> healthPath() { return Optional.ofNullable(healthPath); }
  public Access access() { return access; }
  /** How long a request that is not a browser's page load waits for a wake before 503 + Retry-After. */
  public Duration wakeHold() { return wakeHold; }
  /** How many requests may wait for wakes at once; more get 503 + Retry-After at once. */
  public int wakeMaxHeld() { return wakeMaxHeld; }
  /** How long a wake (resume, then the health check) may take before it counts as failed. */
  public Duration wakeTimeout() { return wakeTimeout; }
  /** The {@code Retry-After} of the "waking up" page and of 503s. */
  public Duration retryAfter() { return retryAfter; }
  /** How often visits are written back to the environments' last-activity label (at most once per preview per interval). */
  public Duration visitFlush() { return visitFlush; }
  /** How often the routes are re-read from the provider besides every state change. */
  public Duration refresh() { return refresh; }
  /** The idle timeout of a proxied exchange (no byte either way for this long: 504). */
  public Duration upstreamTimeout() { return upstreamTimeout; }

  /** The gateway's secrets (signing key, password, bypass secret), to keep out of every log and status. */
  public Redactor redactor() {
    List<Secret> s = new ArrayList<>();
    access.signingKey().ifPresent(s::add);
    access.password().ifPresent(s::add);
    access.bypassSecret().ifPresent(s::add);
    return Redactor.of(s, List.of());
  }

  @Override
  public String toString() {
    return "GatewaySettings{port=" + port + ", hostname=" + hostname + ", pathPrefix=" + pathPrefix + ", access=" + access + "}";
  }

  /** Builds {@link GatewaySettings}; {@link #build()} reports every invalid value at once. */
  public static final class Builder {
    private int port = 8081;
    private String bind = "0.0.0.0";
    private @Nullable String hostname;
    private @Nullable String pathPrefix;
    private @Nullable URI publicUrl;
    private @Nullable String healthPath;
    private Access access = Access.publicAccess();
    private Duration wakeHold = Duration.ofSeconds(30);
    private int wakeMaxHeld = 256;
    private Duration wakeTimeout = Duration.ofMinutes(2);
    private Duration retryAfter = Duration.ofSeconds(3);
    private Duration visitFlush = Duration.ofMinutes(1);
    private Duration refresh = Duration.ofSeconds(30);
    private Duration upstreamTimeout = Duration.ofSeconds(60);

    private Builder() {}

    public Builder port(int p) { this.port = p; return this; }
    public Builder bind(String address) { this.bind = Objects.requireNonNull(address, "bind"); return this; }
    public Builder hostname(@Nullable String template) { this.hostname = template; return this; }
    public Builder pathPrefix(@Nullable String template) { this.pathPrefix = template; return this; }
    public Builder publicUrl(@Nullable URI url) { this.publicUrl = url; return this; }
    public Builder healthPath(@Nullable String path) { this.healthPath = path; return this; }
    public Builder access(Access a) { this.access = Objects.requireNonNull(a, "access"); return this; }
    public Builder wakeHold(Duration d) { this.wakeHold = Objects.requireNonNull(d); return this; }
    public Builder wakeMaxHeld(int n) { this.wakeMaxHeld = n; return this; }
    public Builder wakeTimeout(Duration d) { this.wakeTimeout = Objects.requireNonNull(d); return this; }
    public Builder retryAfter(Duration d) { this.retryAfter = Objects.requireNonNull(d); return this; }
    public Builder visitFlush(Duration d) { this.visitFlush = Objects.requireNonNull(d); return this; }
    public Builder refresh(Duration d) { this.refresh = Objects.requireNonNull(d); return this; }
    public Builder upstreamTimeout(Duration d) { this.upstreamTimeout = Objects.requireNonNull(d); return this; }

    private void check(List<String> problems, String p) {
      if (port < 0 || port > 65535) {
        problems.add(p + "port: must be 0-65535, got " + port);
      }
      if (pathPrefix != null && !PATH_PREFIX.matcher(pathPrefix).matches()) {
        problems.add(p + "pathPrefix: must be a path that starts and ends with '/' and names the preview, e.g. /pr/{number}/"
            + " (placeholders {number}, {name}, {repo}, {owner}, {hash}), got \"" + pathPrefix + "\"");
      } else if (pathPrefix != null && !pathPrefix.contains("{")) {
        problems.add(p + "pathPrefix: must contain a placeholder such as {number} (one prefix per preview), got \"" + pathPrefix + "\"");
      }
      if (hostname != null && (!hostname.contains("{") || hostname.contains("/") || hostname.contains(":"))) {
        problems.add(p + "hostname: must be a hostname template with a placeholder, e.g. pr-{number}.preview.example.com, got \""
            + hostname + "\"");
      }
      if (publicUrl != null && (publicUrl.getScheme() == null || publicUrl.getHost() == null
          || !(publicUrl.getScheme().equals("http") || publicUrl.getScheme().equals("https")))) {
        problems.add(p + "publicUrl: must be an http(s) URL such as https://previews.example.com, got \"" + publicUrl + "\"");
      }
      if (healthPath != null && !healthPath.startsWith("/")) {
        problems.add(p + "healthPath: must start with '/', got \"" + healthPath + "\"");
      }
      positive(problems, p + "wake.hold", wakeHold, true);
      positive(problems, p + "wake.timeout", wakeTimeout, false);
      positive(problems, p + "wake.retryAfter", retryAfter, false);
      positive(problems, p + "visitFlushInterval", visitFlush, false);
      positive(problems, p + "refreshInterval", refresh, false);
      positive(problems, p + "upstreamTimeout", upstreamTimeout, false);
      if (wakeMaxHeld < 0) {
        problems.add(p + "wake.maxHeld: must be 0 or more, got " + wakeMaxHeld);
      }
    }

    /** @throws ConfigurationException listing every invalid value */
    public GatewaySettings build() {
      List<String> problems = new ArrayList<>();
      check(problems, "");
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new GatewaySettings(this);
    }
  }

  private static void positive(List<String> problems, String key, @Nullable Duration d, boolean zeroOk) {
    if (d == null || d.isNegative() || (!zeroOk && d.isZero())) {
      problems.add(key + ": must be " + (zeroOk ? "zero or longer" : "longer than zero") + ", e.g. 30s, got " + d);
    }
  }

  /**
   * Who may pass the gateway: everyone ({@code public}), holders of a signed link or its cookie
   * ({@code token}), or a user and password ({@code basic}); in every mode a request carrying the bypass
   * header with the bypass secret passes (automation: end-to-end tests, uptime checks). A bypass request
   * is not a visit (an uptime check does not keep a preview alive), unless it finds the preview asleep:
   * it wakes it like any visit, and counts as one so that the policy does not put it straight back to sleep.
   */
  public static final class Access {
    private final Mode mode;
    private final @Nullable Secret signingKey;
    private final Duration tokenTtl;
    private final Duration cookieTtl;
    private final boolean secureCookie;
    private final @Nullable String user;
    private final @Nullable Secret password;
    private final String bypassHeader;
    private final @Nullable Secret bypassSecret;

    private Access(Builder b) {
      this.mode = b.mode;
      this.signingKey = b.signingKey;
      this.tokenTtl = b.tokenTtl;
      this.cookieTtl = b.cookieTtl;
      this.secureCookie = b.secureCookie;
      this.user = b.user;
      this.password = b.password;
      this.bypassHeader = b.bypassHeader;
      this.bypassSecret = b.bypassSecret;
    }

    public static Access publicAccess() {
      return builder().build();
    }

    /** Signed links and cookies, HMAC-SHA256 with {@code signingKey} (at least 32 characters). */
    public static Access token(Secret signingKey) {
      return builder().mode(Mode.TOKEN).signingKey(signingKey).build();
    }

    public static Access basic(String user, Secret password) {
      return builder().mode(Mode.BASIC).basic(user, password).build();
    }

    public static Builder builder() {
      return new Builder();
    }

    public Mode mode() { return mode; }
    public Optional<Secret> signingKey() { return Optional.ofNullable(signingKey); }
    /** How long the link of a PR comment stays valid (default 7 days; every status update issues a new one). */
    public Duration tokenTtl() { return tokenTtl; }
    /** How long the cookie a link sets stays valid (default 12 hours). */
    public Duration cookieTtl() { return cookieTtl; }
    /** Whether the cookie carries {@code Secure} (default true; browsers accept it on http://localhost too). */
    public boolean secureCookie() { return secureCookie; }
    public Optional<String> user() { return Optional.ofNullable(user); }
    public Optional<Secret> password() { return Optional.ofNullable(password); }
    public String bypassHeader() { return bypassHeader; }
    public Optional<Secret> bypassSecret() { return Optional.ofNullable(bypassSecret); }

    @Override
    public String toString() {
      return mode.name().toLowerCase(Locale.ROOT) + (bypassSecret != null ? " (+ bypass header " + bypassHeader + ")" : "");
    }

    /** Builds an {@link Access}; {@link #build()} reports every problem at once. */
    public static final class Builder {
      private Mode mode = Mode.PUBLIC;
      private @Nullable Secret signingKey;
      private Duration tokenTtl = Duration.ofDays(7);
      private Duration cookieTtl = Duration.ofHours(12);
      private boolean secureCookie = true;
      private @Nullable String user;
      private @Nullable Secret password;
      private String bypassHeader = DEFAULT_BYPASS_HEADER;
      private @Nullable Secret bypassSecret;

      private Builder() {}

      public Builder mode(Mode m) { this.mode = Objects.requireNonNull(m, "mode"); return this; }
      public Builder signingKey(Secret key) { this.signingKey = key; return this; }
      public Builder tokenTtl(Duration d) { this.tokenTtl = d; return this; }
      public Builder cookieTtl(Duration d) { this.cookieTtl = d; return this; }
      public Builder secureCookie(boolean on) { this.secureCookie = on; return this; }
      public Builder basic(@Nullable String user, Secret password) { this.user = user; this.password = password; return this; }
      public Builder bypassHeader(String name) { this.bypassHeader = name; return this; }
      public Builder bypassSecret(Secret secret) { this.bypassSecret = secret; return this; }

      private Access check(List<String> problems, String p) {
        if (mode == Mode.TOKEN) {
          if (signingKey == null || signingKey.isEmpty()) {
            problems.add(p + "signingKey: is required with mode: token (a random secret of 32 or more characters, e.g."
                + " signingKey: ${PREVIEW_GATEWAY_KEY} with the value of `openssl rand -hex 32`)");
          } else if (signingKey.reveal().length() < 32) {
            problems.add(p + "signingKey: must be at least 32 characters long (e.g. `openssl rand -hex 32`), got "
                + signingKey.reveal().length());
          }
        }
        if (mode == Mode.BASIC) {
          if (user == null || user.isBlank() || user.contains(":")) {
            problems.add(p + "user: is required with mode: basic (a name without ':')");
          }
          if (password == null || password.isEmpty()) {
            problems.add(p + "password: is required with mode: basic (e.g. password: ${PREVIEW_GATEWAY_PASSWORD})");
          }
        }
        if (mode != Mode.BASIC && (user != null || password != null)) {
          problems.add(p + "user/password: only used with mode: basic (set mode: basic, or remove them)");
        }
        if (mode != Mode.TOKEN && signingKey != null) {
          problems.add(p + "signingKey: only used with mode: token (set mode: token, or remove it)");
        }
        if (bypassHeader == null || !HEADER_NAME.matcher(bypassHeader).matches()) {
          problems.add(p + "bypass.header: must be an HTTP header name such as " + DEFAULT_BYPASS_HEADER + ", got \"" + bypassHeader + "\"");
        }
        if (bypassSecret != null && bypassSecret.reveal().length() < 16) {
          problems.add(p + "bypass.secret: must be at least 16 characters long, got " + bypassSecret.reveal().length());
        }
        positive(problems, p + "tokenTtl", tokenTtl, false);
        positive(problems, p + "cookieTtl", cookieTtl, false);
        return new Access(this);
      }

      /** @throws ConfigurationException listing every problem */
      public Access build() {
        List<String> problems = new ArrayList<>();
        Access a = check(problems, "access.");
        if (!problems.isEmpty()) {
          throw new ConfigurationException(problems);
        }
        return a;
      }
    }
  }
}
