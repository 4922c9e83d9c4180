package dev.preview.server.ui;

import dev.preview.server.ui.DashboardSettings.Credential;
import dev.preview.server.ui.DashboardSettings.Role;
import dev.preview.spi.Secret;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Who is asking: a bearer token, basic auth, or the session cookie the login form set. Every secret
 * is compared as a SHA-256 digest with {@link MessageDigest#isEqual} (constant time, whatever the
 * lengths), against every credential (no early exit that tells which one nearly matched).
 *
 * <p>Sessions are stateless: the cookie is {@code v1.<payload>.<HMAC-SHA256>} over who logged in,
 * the role, the expiry, a random nonce and a fingerprint of the credential used, keyed by
 * {@code dashboard.sessionKey} or, without one, by a key derived from every credential of the
 * section. So a restart keeps everyone logged in, every replica with the same config accepts the
 * cookie, and changing a password, a token or the key ends the sessions made with it. The CSRF token
 * is an HMAC of the cookie (bound to it), compared in constant time. Logging out clears the cookie and
 * refuses it on this replica until it expires; a copy kept elsewhere stays valid until then (at most
 * {@code dashboard.session}). Thread-safe.
 */
final class DashboardAuth {
  static final String COOKIE = "preview_session";
  static final String FLASH_COOKIE = "preview_flash";
  static final int MAX_LOGGED_OUT = 10_000;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder UNB64 = Base64.getUrlDecoder();

  private final DashboardSettings settings;
  private final Clock clock;
  private final byte[] key;
  /** Cookies logged out on this replica, until they expire. */
  private final Map<String, Instant> loggedOut = new ConcurrentHashMap<>();

  /** How the principal proved who it is: CSRF checks depend on it. */
  enum Via { BEARER, BASIC, SESSION }

  /** An authenticated caller. {@code session} is null unless {@code via} is SESSION. */
  record Principal(String name, Role role, Via via, @Nullable Session session) {
    boolean admin() {
      return role == Role.ADMIN;
    }
  }

  /**
   * A login: {@code id} is the cookie's (signed) value, {@code csrf} goes into every form it is shown,
   * {@code nonce} tells one login from another.
   */
  record Session(String id, String csrf, String name, Role role, Instant expires, String nonce) {}

  DashboardAuth(DashboardSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.key = settings.sessionKey().map(s -> s.reveal().getBytes(StandardCharsets.UTF_8)).orElseGet(() -> derivedKey(settings));
  }

  /** A key from every credential of the section, so replicas with the same config agree and a changed credential ends sessions. */
  private static byte[] derivedKey(DashboardSettings settings) {
    StringBuilder b = new StringBuilder("preview-dashboard-session-v1");
    settings.tokens().forEach(c -> b.append('\0').append(c.role()).append('\0').append(c.secret().reveal()));
    new TreeMap<>(settings.users()).forEach((n, c) -> b.append('\0').append(n).append('\0').append(c.role()).append('\0')
        .append(c.secret().reveal()));
    return digest(b.toString());
  }

  /** From the {@code Authorization} header, else the session cookie; empty if neither proves anything. */
  Optional<Principal> authenticate(@Nullable String authorization, @Nullable String sessionCookie) {
    if (authorization != null) {
      String a = authorization.trim();
      if (a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return token(a.substring(7).trim()).map(c -> new Principal(tokenName(c), c.role(), Via.BEARER, null));
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
    if (sessionCookie != null) {
      return session(sessionCookie).map(s -> new Principal(s.name(), s.role(), Via.SESSION, s));
    }
    return Optional.empty();
  }

  /** The session a cookie proves: signed with this key, not expired, not logged out here, its credential unchanged. */
  Optional<Session> session(String cookie) {
    String[] parts = cookie.split("\\.", -1);
    if (parts.length != 3 || !parts[0].equals("v1") || parts[1].length() > 2048) {
      return Optional.empty();
    }
    byte[] given;
    try {
      given = UNB64.decode(parts[2]);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(mac("session\n" + parts[1]), given)) {
      return Optional.empty();
    }
    String[] f;
    try {
      f = new String(UNB64.decode(parts[1]), StandardCharsets.UTF_8).split("\n", -1);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (f.length != 5) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    Instant expires;
    Role role;
    try {
      expires = Instant.ofEpochSecond(Long.parseLong(f[2]));
      role = Role.valueOf(f[1]);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
    if (!expires.isAfter(now) || loggedOut.containsKey(cookie)) {
      return Optional.empty();
    }
    Optional<Credential> c = credential(f[0], f[4]);
    if (c.isEmpty() || c.get().role() != role) {
      return Optional.empty(); // the password, token or role changed since the login
    }
    return Optional.of(new Session(cookie, csrfOf(cookie), f[0], role, expires, f[3]));
  }

  /** The login form: a user and password, or (user empty) a token. A new session, or empty if refused. */
  Optional<Session> login(@Nullable String user, String secret) {
    Optional<Credential> c = user == null || user.isBlank() ? token(secret) : user(user.trim(), secret);
    if (c.isEmpty()) {
      return Optional.empty();
    }
    String name = c.get().user() != null ? c.get().user() : tokenName(c.get());
    Instant expires = clock.instant().plus(settings.session());
    byte[] n = new byte[16];
    RANDOM.nextBytes(n);
    String nonce = B64.encodeToString(n);
    String payload = B64.encodeToString((name + "\n" + c.get().role().name() + "\n" + expires.getEpochSecond() + "\n" + nonce
        + "\n" + fingerprint(c.get())).getBytes(StandardCharsets.UTF_8));
    String cookie = "v1." + payload + "." + B64.encodeToString(mac("session\n" + payload));
    return Optional.of(new Session(cookie, csrfOf(cookie), name, c.get().role(), expires, nonce));
  }

  /** Refuses {@code cookie} on this replica until it expires (the browser's copy is cleared by the caller). */
  void logout(@Nullable String cookie) {
    if (cookie == null) {
      return;
    }
    Optional<Session> s = session(cookie);
    if (s.isEmpty()) {
      return;
    }
    Instant now = clock.instant();
    loggedOut.values().removeIf(e -> !e.isAfter(now));
    if (loggedOut.size() < MAX_LOGGED_OUT) {
      loggedOut.put(cookie, s.get().expires());
    }
  }

  /** Whether {@code given} is the session's CSRF token (constant time). */
  static boolean csrfMatches(Session s, @Nullable String given) {
    return given != null && MessageDigest.isEqual(digest(s.csrf()), digest(given));
  }

  private String csrfOf(String cookie) {
    return B64.encodeToString(mac("csrf\n" + cookie));
  }

  /** A one-time message for the next page of {@code s}: signed, so no other site or preview can plant one. */
  String flashCookie(Session s, String message) {
    String m = B64.encodeToString(message.getBytes(StandardCharsets.UTF_8));
    return m + "." + B64.encodeToString(mac("flash\n" + s.nonce() + "\n" + m));
  }

  /** The message of a {@link #flashCookie} made for {@code s}, if it is one. */
  Optional<String> flash(Session s, @Nullable String cookie) {
    if (cookie == null) {
      return Optional.empty();
    }
    int dot = cookie.indexOf('.');
    if (dot < 0 || cookie.length() > 4096) {
      return Optional.empty();
    }
    try {
      String m = cookie.substring(0, dot);
      if (!MessageDigest.isEqual(mac("flash\n" + s.nonce() + "\n" + m), UNB64.decode(cookie.substring(dot + 1)))) {
        return Optional.empty();
      }
      return Optional.of(new String(UNB64.decode(m), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static String tokenName(Credential c) {
    return "token:" + c.role().name().toLowerCase(Locale.ROOT);
  }

  /** Which credential a session was made with: a short digest, never the secret. */
  private static String fingerprint(Credential c) {
    byte[] d = digest("fingerprint\0" + c.role() + "\0" + (c.user() == null ? "" : c.user()) + "\0" + c.secret().reveal());
    return B64.encodeToString(java.util.Arrays.copyOf(d, 12));
  }

  /** The credential of {@code name} (a user, or {@code token:<role>}) whose fingerprint is {@code print}. */
  private Optional<Credential> credential(String name, String print) {
    List<Credential> candidates = new ArrayList<>();
    if (name.startsWith("token:")) {
      candidates.addAll(settings.tokens());
    } else if (settings.users().containsKey(name)) {
      candidates.add(settings.users().get(name));
    }
    Credential found = null;
    byte[] p = digest(print);
    for (Credential c : candidates) {
      if (MessageDigest.isEqual(digest(fingerprint(c)), p) && found == null) {
        found = c;
      }
    }
    return Optional.ofNullable(found);
  }

  private byte[] mac(String data) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
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

  static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
