package dev.preview.server.ui;

import dev.preview.server.ui.DashboardSettings.Credential;
import dev.preview.server.ui.DashboardSettings.Role;
import dev.preview.spi.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Who is asking: a bearer token, basic auth, or the session cookie the login form set. Every secret
 * is compared as a SHA-256 digest with {@link MessageDigest#isEqual} (constant time, whatever the
 * lengths), against every credential (no early exit that tells which one nearly matched). Sessions
 * live in memory (a restart logs everyone out), each with its own CSRF token. Thread-safe.
 */
final class DashboardAuth {
  static final String COOKIE = "preview_session";
  static final int MAX_SESSIONS = 10_000;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final DashboardSettings settings;
  private final Clock clock;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();

  /** How the principal proved who it is: CSRF checks depend on it. */
  enum Via { BEARER, BASIC, SESSION }

  /** An authenticated caller. {@code session} is null unless {@code via} is SESSION. */
  record Principal(String name, Role role, Via via, @Nullable Session session) {
    boolean admin() {
      return role == Role.ADMIN;
    }
  }

  /** A login: its id is the cookie's value, {@code csrf} goes into every form it is shown. */
  static final class Session {
    final String id;
    final String csrf;
    final String name;
    final Role role;
    final Instant expires;
    volatile String flash;

    Session(String id, String csrf, String name, Role role, Instant expires) {
      this.id = id;
      this.csrf = csrf;
      this.name = name;
      this.role = role;
      this.expires = expires;
    }

    /** The one-time message to show on the next page (an action's outcome), cleared once read. */
    String takeFlash() {
      String f = flash;
      flash = null;
      return f;
    }
  }

  DashboardAuth(DashboardSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
  }

  /** From the {@code Authorization} header, else the session cookie; empty if neither proves anything. */
  Optional<Principal> authenticate(@Nullable String authorization, @Nullable String sessionId) {
    if (authorization != null) {
      String a = authorization.trim();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return token(a.substring(7).trim()).map(c -> new Principal("token:" + c.role().name().toLowerCase(java.util.Locale.ROOT),
            c.role(), Via.BEARER, null));
      }
      if (a.regionMatches(true, 0, "Basic ", 0, 6)) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(a.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          return Optional.empty();
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
          return Optional.empty();
        }
        return user(decoded.substring(0, colon), decoded.substring(colon + 1))
            .map(c -> new Principal(c.user(), c.role(), Via.BASIC, null));
      }
      return Optional.empty();
    }
    if (sessionId != null) {
      Session s = sessions.get(sessionId);
      if (s != null && s.expires.isAfter(clock.instant())) {
        return Optional.of(new Principal(s.name, s.role, Via.SESSION, s));
      }
      if (s != null) {
        sessions.remove(sessionId, s);
      }
    }
    return Optional.empty();
  }

  /** The login form: a user and password, or (user empty) a token. A new session, or empty if refused. */
  Optional<Session> login(@Nullable String user, String secret) {
    Optional<Credential> c = user == null || user.isBlank() ? token(secret) : user(user.trim(), secret);
    if (c.isEmpty()) {
      return Optional.empty();
    }
    purge();
    String name = c.get().user() != null ? c.get().user() : "token:" + c.get().role().name().toLowerCase(java.util.Locale.ROOT);
    Session s = new Session(random(), random(), name, c.get().role(), clock.instant().plus(settings.session()));
    sessions.put(s.id, s);
    return Optional.of(s);
  }

  void logout(@Nullable String sessionId) {
    if (sessionId != null) {
      sessions.remove(sessionId);
    }
  }

  /** Whether {@code given} is the session's CSRF token (constant time). */
  static boolean csrfMatches(Session s, @Nullable String given) {
    return given != null && MessageDigest.isEqual(digest(s.csrf), digest(given));
  }

  private Optional<Credential> token(String given) {
    byte[] g = digest(given);
    Credential found = null;
    for (Credential c : settings.tokens()) {
      if (MessageDigest.isEqual(digest(c.secret().reveal()), g) && found == null) {
        found = c;
      }
    }
    return Optional.ofNullable(found);
  }

  private Optional<Credential> user(String name, String password) {
    Credential c = settings.users().get(name);
    // a digest is compared even for an unknown user, so that the time does not tell which users exist
    Secret expected = c != null ? c.secret() : Secret.of("\u0000no such user\u0000");
    boolean ok = MessageDigest.isEqual(digest(expected.reveal()), digest(password));
    return ok && c != null ? Optional.of(c) : Optional.empty();
  }

  private void purge() {
    Instant now = clock.instant();
    sessions.values().removeIf(s -> !s.expires.isAfter(now));
    if (sessions.size() >= MAX_SESSIONS) {
      // the oldest logins go first
      sessions.values().stream().sorted((a, b) -> a.expires.compareTo(b.expires)).limit(sessions.size() - MAX_SESSIONS + 1)
          .toList().forEach(s -> sessions.remove(s.id));
    }
  }

  private static String random() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
