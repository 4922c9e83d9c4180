package dev.preview.server.ui;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.core.PreviewActions;
import dev.preview.server.OperatorLog;
import dev.preview.server.ui.DashboardAuth.Principal;
import dev.preview.server.ui.DashboardAuth.Session;
import dev.preview.server.ui.DashboardAuth.Via;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard ({@code /ui/}) and its JSON API ({@code /api/}), a Jetty 12 core {@link Handler} that
 * {@code WebhookServer.Builder.mount} serves next to the webhooks.
 *
 * <ul>
 *   <li>{@code GET /ui/}: the previews with filters and search, and the summary strip; {@code ?fragment=live}
 *       is the part {@code app.js} refreshes every {@code dashboard.refresh}.</li>
 *   <li>{@code GET /ui/previews/{owner}/{repo}/{number}} (or {@code /ui/preview?key=...}): one preview, its step
 *       timings, changes against main and redacted log tail; admins get the actions.</li>
 *   <li>{@code POST /ui/previews/{owner}/{repo}/{number}/{action}}: {@code redeploy}, {@code extend} (+24h),
 *       {@code pin}, {@code unpin}, {@code sleep}, {@code wake}, {@code delete}: admin only (403 otherwise),
 *       with the session's CSRF token and an Origin of this page (or {@code dashboard.allowedOrigins}).</li>
 *   <li>{@code GET /api/previews}: every preview as a JSON array ({@link PreviewJson}, the shape of
 *       {@code preview list -o json}); {@code GET /api/previews/{owner}/{repo}/{number}}: one, with
 *       {@code logTail}; {@code GET /api/summary}; {@code POST /api/previews/{owner}/{repo}/{number}/{action}}.</li>
 * </ul>
 *
 * Authentication: {@code Authorization: Bearer <token>} or basic auth, or the session cookie of
 * {@code POST /ui/login} ({@code HttpOnly; SameSite=Strict}). Without it, pages redirect to the login
 * form and the API answers 401. Every answer carries a strict Content-Security-Policy, no caching,
 * and {@code X-Robots-Tag: noindex}. Thread-safe.
 */
public final class Dashboard extends Handler.Abstract {
  private static final Logger LOG = LoggerFactory.getLogger(Dashboard.class);
  static final int MAX_FORM_BYTES = 16 * 1024;
  static final int LOG_LINES = 50;
  static final Duration EXTENSION = Duration.ofHours(24);
  static final List<String> ACTIONS = List.of("redeploy", "extend", "pin", "unpin", "sleep", "wake", "delete");
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  private final PreviewBoard board;
  private final PreviewActions actions;
  private final DashboardSettings settings;
  private final DashboardAuth auth;
  private final OperatorLog log;
  private final Clock clock;
  private final Map<String, byte[]> statics = new LinkedHashMap<>();
  private volatile Leadership leadership = Leadership.always();

  private Dashboard(PreviewBoard board, PreviewActions actions, DashboardSettings settings, OperatorLog log, Clock clock) {
    this.board = Objects.requireNonNull(board, "board");
    this.actions = Objects.requireNonNull(actions, "actions");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.log = Objects.requireNonNull(log, "log");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.auth = new DashboardAuth(settings, clock);
    settings.figuresFile().ifPresent(board::figuresFile);
    for (String name : List.of("app.js", "app.css")) {
      try (InputStream in = Dashboard.class.getResourceAsStream(name)) {
        statics.put(name, Objects.requireNonNull(in, name).readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** The dashboard of {@code board}'s previews, acting through {@code actions}, logging each action to {@code log}. */
  public static Dashboard create(PreviewBoard board, PreviewActions actions, DashboardSettings settings, OperatorLog log,
      Clock clock) {
    return new Dashboard(board, actions, settings, log, clock);
  }

  /**
   * Acts only while {@code l} leads: on a replica that does not, pages and {@code GET /api/...} still
   * answer (with a banner naming the leader), actions are refused with 503 and the leader's name.
   * Default: always leads. Set before serving.
   */
  public Dashboard leadership(Leadership l) {
    this.leadership = Objects.requireNonNull(l, "leadership");
    return this;
  }

  /**
   * This dashboard behind Jetty's {@code GzipHandler} (pages and JSON of 1 KB or more are sent
   * compressed to clients that accept it): what {@code WebhookServer.Builder.mount} should serve.
   */
  public Handler compressed() {
    org.eclipse.jetty.server.handler.gzip.GzipHandler gzip = new org.eclipse.jetty.server.handler.gzip.GzipHandler(this);
    gzip.setMinGzipSize(1024);
    return gzip;
  }

  /** The path prefixes to mount this handler at. */
  public static List<String> prefixes() {
    return List.of("/ui", "/api");
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String path = Request.getPathInContext(request);
    try {
      if (path.equals("/ui")) {
        redirect(response, callback, "/ui/");
      } else if (path.startsWith("/ui/static/")) {
        staticFile(request, response, callback, path.substring("/ui/static/".length()));
      } else if (path.equals("/ui/login")) {
        login(request, response, callback);
      } else if (path.startsWith("/api/")) {
        api(request, response, callback, path, start);
      } else if (path.startsWith("/ui/")) {
        ui(request, response, callback, path, start);
      } else {
        text(response, callback, 404, "text/plain", "not found");
      }
    } catch (RuntimeException e) {
      LOG.warn("dashboard {} {} failed: {}", request.getMethod(), path, e.toString());
      text(response, callback, 500, "text/plain", "the dashboard failed; see the server's log");
    }
    return true;
  }

  // ---------------------------------------------------------------- pages

  private void ui(Request request, Response response, Callback callback, String path, long start) {
    Optional<Principal> who = principal(request);
    if (who.isEmpty()) {
      if (request.getMethod().equals("GET") || request.getMethod().equals("HEAD")) {
        redirect(response, callback, "/ui/login");
      } else {
        text(response, callback, 401, "text/plain", "log in first");
      }
      return;
    }
    Principal p = who.get();
    Map<String, String> query = query(request);
    if (path.equals("/ui/logout")) {
      if (!post(request, response, callback) || !formAllowed(request, response, callback, p, form(request))) {
        return;
      }
      auth.logout(p.session() == null ? null : p.session().id());
      response.getHeaders().add(HttpHeader.SET_COOKIE, DashboardAuth.COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
      redirect(response, callback, "/ui/login");
      return;
    }
    if (path.equals("/ui/")) {
      if (!get(request, response, callback)) {
        return;
      }
      Html.Filter filter = filter(query);
      List<PreviewRow> rows = board.rows();
      PreviewBoard.Summary summary = board.summary(rows);
      if ("live".equals(query.get("fragment"))) {
        StringBuilder b = new StringBuilder(256 * rows.size() + 1024);
        Html.live(b, rows, summary, filter, clock.instant());
        fragment(response, callback, b.toString(), start);
      } else {
        html(response, callback, 200, Html.list(rows, summary, filter, p, flash(request, response, p), settings.refresh(), clock.instant(),
            banner()), start);
      }
      return;
    }
    Target t = target(path.substring("/ui/".length()), query);
    if (t == null) {
      text(response, callback, 404, "text/plain", "no such page: " + path);
      return;
    }
    if (t.action() != null) {
      if (!post(request, response, callback)) {
        return;
      }
      Map<String, String> form = form(request);
      if (!formAllowed(request, response, callback, p, form)) {
        return;
      }
      if (!leadership.leads()) {
        String why = leadership.refusal(t.action());
        log.action(p.name(), "dashboard", t.key(), t.action(), false, why);
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
        text(response, callback, 503, "text/html; charset=utf-8", Html.page("Not done", p, "<h1>Not done</h1><p class=\"error\" role=\"alert\">"
            + Html.esc(why) + "</p><p><a href=\"" + Html.esc(Html.detailPath(t.key())) + "\">Back to the preview</a></p>"));
        return;
      }
      PreviewActions.Result r = act(p, t.key(), t.action());
      if (p.session() != null) {
        response.getHeaders().add(HttpHeader.SET_COOKIE, DashboardAuth.FLASH_COOKIE + "="
            + auth.flashCookie(p.session(), (r.done() ? "" : "Not done: ") + t.action() + ": " + r.message())
            + "; Path=/ui; Max-Age=60; HttpOnly; SameSite=Strict" + (https(request) ? "; Secure" : ""));
      }
      redirect(response, callback, t.action().equals("delete") && r.done() ? "/ui/" : Html.detailPath(t.key()));
      return;
    }
    if (!get(request, response, callback)) {
      return;
    }
    Optional<PreviewRow> row = board.row(t.key());
    if (row.isEmpty()) {
      text(response, callback, 404, "text/html; charset=utf-8", Html.page("Not found", p,
          "<h1>No such preview</h1><p>" + Html.esc(t.key().id()) + " has no preview (any more).</p><p><a href=\"/ui/\">All previews</a></p>"));
      return;
    }
    List<String> tail = board.orchestrator().logs(t.key(), LOG_LINES);
    if ("live".equals(query.get("fragment"))) {
      StringBuilder b = new StringBuilder(4096);
      Html.detailLive(b, row.get(), tail, clock.instant());
      fragment(response, callback, b.toString(), start);
    } else {
      html(response, callback, 200, Html.detail(row.get(), tail, p, flash(request, response, p), settings.refresh(), clock.instant(),
          board.orchestrator().supportsSleep(), banner()), start);
    }
  }

  private void login(Request request, Response response, Callback callback) {
    if (request.getMethod().equals("GET") || request.getMethod().equals("HEAD")) {
      html(response, callback, 200, Html.login(null), System.nanoTime());
      return;
    }
    if (!post(request, response, callback)) {
      return;
    }
    if (!originAllowed(request)) {
      text(response, callback, 403, "text/plain", "refused: the form was posted from another site (Origin)");
      return;
    }
    Map<String, String> form = form(request);
    Optional<Session> s = auth.login(form.get("user"), form.getOrDefault("secret", ""));
    if (s.isEmpty()) {
      LOG.warn("dashboard: a login was refused (user {})", cut(form.getOrDefault("user", "")));
      html(response, callback, 401, Html.login("That user and password, or token, is not known."), System.nanoTime());
      return;
    }
    response.getHeaders().add(HttpHeader.SET_COOKIE, DashboardAuth.COOKIE + "=" + s.get().id() + "; Path=/; Max-Age="
        + settings.session().toSeconds() + "; HttpOnly; SameSite=Strict" + (https(request) ? "; Secure" : ""));
    redirect(response, callback, "/ui/");
  }

  // ---------------------------------------------------------------- API

  private void api(Request request, Response response, Callback callback, String path, long start) {
    Optional<Principal> who = principal(request);
    if (who.isEmpty()) {
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"preview\"");
      json(response, callback, 401, error("unauthorized", "send Authorization: Bearer <dashboard token>, or basic auth"), start);
      return;
    }
    Principal p = who.get();
    if (path.equals("/api/previews")) {
      if (get(request, response, callback)) {
        previews(request, response, callback, start);
      }
      return;
    }
    if (path.equals("/api/summary")) {
      if (get(request, response, callback)) {
        PreviewBoard.Summary s = board.summary(board.rows());
        ObjectNode n = PreviewJson.JSON.createObjectNode();
        ObjectNode states = n.putObject("byState");
        s.byState().forEach((k, v) -> states.put(k.name(), v));
        n.put("timeToUrlMedianMs", s.timeToUrlMedian() == null ? null : s.timeToUrlMedian().toMillis());
        n.put("timeToUrlP90Ms", s.timeToUrlP90() == null ? null : s.timeToUrlP90().toMillis());
        n.put("runs", s.samples());
        n.put("reclaimed", s.reclaimed());
        n.put("reclaimedPreviews", s.reclaimedPreviews());
        json(response, callback, 200, n, start);
      }
      return;
    }
    Target t = path.startsWith("/api/previews/") ? target(path.substring("/api/".length()), query(request))
        : path.equals("/api/preview") || path.startsWith("/api/preview/") ? target(path.substring("/api/".length()), query(request)) : null;
    if (t == null) {
      json(response, callback, 404, error("not_found", "no such endpoint: " + path), start);
      return;
    }
    if (t.action() == null) {
      if (!get(request, response, callback)) {
        return;
      }
      Optional<PreviewRow> row = board.row(t.key());
      if (row.isEmpty()) {
        json(response, callback, 404, error("not_found", t.key().id() + " has no preview"), start);
        return;
      }
      ObjectNode n = PreviewJson.object(row.get());
      n.putArray("logTail").addAll(board.orchestrator().logs(t.key(), LOG_LINES).stream()
          .map(PreviewJson.JSON.getNodeFactory()::textNode).toList());
      json(response, callback, 200, n, start);
      return;
    }
    if (!post(request, response, callback)) {
      return;
    }
    if (!p.admin()) {
      json(response, callback, 403, error("forbidden", "the read-only role cannot act; use an admin token"), start);
      return;
    }
    if (p.via() != Via.BEARER) {
      // a browser's cookie or remembered basic auth: the request must come from this page
      String csrf = request.getHeaders().get("X-CSRF-Token");
      if (!originAllowed(request) || (p.via() == Via.SESSION && !DashboardAuth.csrfMatches(p.session(), csrf))) {
        json(response, callback, 403, error("forbidden", "cross-site request refused (Origin and X-CSRF-Token)"), start);
        return;
      }
    }
    if (!leadership.leads()) {
      String why = leadership.refusal(t.action());
      log.action(p.name(), "api", t.key(), t.action(), false, why);
      response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
      ObjectNode n = PreviewJson.JSON.createObjectNode().put("done", false).put("status", "not_leader").put("action", t.action())
          .put("key", t.key().id()).put("message", why);
      n.put("leader", leadership.leader().orElse(null));
      json(response, callback, 503, n, start);
      return;
    }
    PreviewActions.Result r = act(p, t.key(), t.action());
    json(response, callback, r.done() ? (r.run() != null ? 202 : 200) : 409,
        PreviewJson.JSON.createObjectNode().put("done", r.done()).put("action", t.action()).put("key", t.key().id())
            .put("message", r.message()), start);
  }

  /** Default and largest {@code limit} of {@code GET /api/previews}. */
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;

  /**
   * {@code GET /api/previews[?limit=&cursor=&state=&q=]}: a page of previews ordered by key, filtered
   * first; {@code X-Total-Count} is how many match, {@code Link: <...>; rel="next"} the next page. The
   * cursor is the last key of a page (opaque): a page follows it whatever was added or removed meanwhile.
   */
  private void previews(Request request, Response response, Callback callback, long start) {
    Map<String, String> query = query(request);
    List<String> problems = new java.util.ArrayList<>();
    int limit = DEFAULT_LIMIT;
    String l = query.get("limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        problems.add("limit: must be a number from 1 to " + MAX_LIMIT + ", got \"" + cut(l) + "\"");
      }
    }
    PreviewKey after = null;
    String cursor = query.get("cursor");
    if (cursor != null && !cursor.isEmpty()) {
      after = cursorKey(cursor);
      if (after == null) {
        problems.add("cursor: not one this server gave; start again without it");
      }
    }
    String s = query.get("state");
    if (s != null && !s.isEmpty()) {
      try {
        PreviewState.valueOf(s.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        problems.add("state: one of " + java.util.Arrays.toString(PreviewState.values()).toLowerCase(Locale.ROOT)
            + ", got \"" + cut(s) + "\"");
      }
    }
    if (!problems.isEmpty()) {
      json(response, callback, 400, error("bad_request", String.join("; ", problems)), start);
      return;
    }
    Html.Filter filter = filter(query);
    List<PreviewRow> matching = board.rows().stream().filter(filter::matches).toList();
    int from = 0;
    if (after != null) {
      PreviewKey a = after;
      // rows are sorted by key: the first one after the cursor
      int lo = 0;
      int hi = matching.size();
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (matching.get(mid).key().compareTo(a) <= 0) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      from = lo;
    }
    List<PreviewRow> page = matching.subList(from, Math.min(matching.size(), from + limit));
    response.getHeaders().put("X-Total-Count", Integer.toString(matching.size()));
    if (from + page.size() < matching.size()) {
      String next = "/api/previews?limit=" + limit + "&cursor=" + cursorOf(page.get(page.size() - 1).key())
          + (filter.query().isEmpty() ? "" : "&" + filter.query());
      response.getHeaders().put("Link", "<" + next + ">; rel=\"next\"");
    }
    json(response, callback, 200, PreviewJson.array(page), start);
  }

  static String cursorOf(PreviewKey key) {
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(key.id().getBytes(StandardCharsets.UTF_8));
  }

  private static @Nullable PreviewKey cursorKey(String cursor) {
    try {
      return PreviewKey.parse(new String(java.util.Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- actions

  private PreviewActions.Result act(Principal p, PreviewKey key, String action) {
    PreviewActions.Result r = switch (action) {
      case "redeploy" -> actions.redeploy(key);
      case "extend" -> actions.extend(key, EXTENSION);
      case "pin" -> actions.pin(key);
      case "unpin" -> actions.unpin(key);
      case "sleep" -> actions.sleep(key);
      case "wake" -> actions.wake(key);
      case "delete" -> actions.stop(key, "deleted from the dashboard by " + p.name());
      default -> throw new IllegalArgumentException(action);
    };
    log.action(p.name(), "dashboard", key, action, r.done(), r.message());
    return r;
  }

  /** A preview, and the action on it (null for a page or GET). */
  private record Target(PreviewKey key, @Nullable String action) {}

  /**
   * {@code previews/{repo...}/{number}[/{action}]} or {@code preview[/{action}]?key=<id>}; null if
   * neither (or the action is unknown).
   */
  private static @Nullable Target target(String rest, Map<String, String> query) {
    try {
      if (rest.equals("preview") || rest.startsWith("preview/")) {
        String action = rest.equals("preview") ? null : rest.substring("preview/".length());
        String id = query.get("key");
        if (id == null || (action != null && !ACTIONS.contains(action))) {
          return null;
        }
        return new Target(PreviewKey.parse(id), action);
      }
      if (!rest.startsWith("previews/")) {
        return null;
      }
      String[] parts = rest.substring("previews/".length()).split("/");
      String action = null;
      int end = parts.length;
      if (end >= 3 && ACTIONS.contains(parts[end - 1]) && parts[end - 2].matches("\\d{1,9}")) {
        action = parts[end - 1];
        end--;
      }
      if (end < 3 || !parts[end - 1].matches("\\d{1,9}")) {
        return null;
      }
      StringBuilder repo = new StringBuilder();
      for (int i = 0; i < end - 1; i++) {
        repo.append(i > 0 ? "/" : "").append(URLDecoder.decode(parts[i], StandardCharsets.UTF_8));
      }
      return new Target(PreviewKey.pr(repo.toString(), Integer.parseInt(parts[end - 1])), action);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- checks

  private Optional<Principal> principal(Request request) {
    return auth.authenticate(request.getHeaders().get(HttpHeader.AUTHORIZATION), cookie(request, DashboardAuth.COOKIE));
  }

  /** A form POST: admin, the session's CSRF token (for a session), and an allowed Origin. Answers 403 otherwise. */
  private boolean formAllowed(Request request, Response response, Callback callback, Principal p, Map<String, String> form) {
    boolean logout = Request.getPathInContext(request).equals("/ui/logout");
    if (!p.admin() && !logout) {
      text(response, callback, 403, "text/plain", "refused: the read-only role cannot act");
      return false;
    }
    if (!originAllowed(request)) {
      text(response, callback, 403, "text/plain", "refused: the form was posted from another site (Origin)");
      return false;
    }
    if (p.via() == Via.SESSION && !DashboardAuth.csrfMatches(p.session(), form.get("csrf"))) {
      text(response, callback, 403, "text/plain", "refused: the form's CSRF token is missing or stale; reload the page");
      return false;
    }
    return true;
  }

  /** No Origin (a non-browser client), this server's own origin, or one of {@code dashboard.allowedOrigins}. */
  private boolean originAllowed(Request request) {
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    if (origin == null) {
      return true;
    }
    String o = origin.trim().toLowerCase(Locale.ROOT);
    String scheme = request.getHttpURI().getScheme() == null ? "http" : request.getHttpURI().getScheme().toLowerCase(Locale.ROOT);
    int port = Request.getServerPort(request);
    String host = Request.getServerName(request).toLowerCase(Locale.ROOT);
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    boolean defaultPort = (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443) || port <= 0;
    String own = scheme + "://" + host + (defaultPort ? "" : ":" + port);
    return o.equals(own) || settings.allowedOrigins().contains(o);
  }

  private static boolean get(Request request, Response response, Callback callback) {
    if (request.getMethod().equals("GET") || request.getMethod().equals("HEAD")) {
      return true;
    }
    response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
    text(response, callback, 405, "text/plain", "use GET");
    return false;
  }

  private static boolean post(Request request, Response response, Callback callback) {
    if (request.getMethod().equals("POST")) {
      return true;
    }
    response.getHeaders().put(HttpHeader.ALLOW, "POST");
    text(response, callback, 405, "text/plain", "use POST");
    return false;
  }

  /** On a replica that does not lead: what the pages say instead of offering actions; else null. */
  private @Nullable String banner() {
    if (leadership.leads()) {
      return null;
    }
    return "This replica does not lead" + leadership.leader().map(l -> " (the leader is " + l + ")").orElse("")
        + ": it shows everything, and actions are carried out only by the leader.";
  }

  /** The one-time message of the last action (its cookie is cleared as it is shown), or null. */
  private @Nullable String flash(Request request, Response response, Principal p) {
    if (p.session() == null) {
      return null;
    }
    String c = cookie(request, DashboardAuth.FLASH_COOKIE);
    if (c == null) {
      return null;
    }
    response.getHeaders().add(HttpHeader.SET_COOKIE, DashboardAuth.FLASH_COOKIE + "=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict");
    return auth.flash(p.session(), c).orElse(null);
  }

  private static boolean https(Request request) {
    return "https".equalsIgnoreCase(request.getHttpURI().getScheme());
  }

  // ---------------------------------------------------------------- parsing

  private static Html.Filter filter(Map<String, String> query) {
    PreviewState state = null;
    String s = query.getOrDefault("state", "");
    if (!s.isEmpty()) {
      try {
        state = PreviewState.valueOf(s.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        state = null;
      }
    }
    String q = query.getOrDefault("q", "").strip();
    int page = 1;
    try {
      page = Math.max(1, Integer.parseInt(query.getOrDefault("page", "1")));
    } catch (NumberFormatException e) {
      page = 1;
    }
    return new Html.Filter(q.length() > 200 ? q.substring(0, 200) : q, state, page);
  }

  private static Map<String, String> query(Request request) {
    return decode(request.getHttpURI().getQuery());
  }

  /** An {@code application/x-www-form-urlencoded} body of at most {@link #MAX_FORM_BYTES}; empty if larger or unreadable. */
  private static Map<String, String> form(Request request) {
    try (InputStream in = Content.Source.asInputStream(request)) {
      byte[] bytes = in.readNBytes(MAX_FORM_BYTES + 1);
      if (bytes.length > MAX_FORM_BYTES) {
        return Map.of();
      }
      return decode(new String(bytes, StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      return Map.of();
    }
  }

  static Map<String, String> decode(@Nullable String text) {
    Map<String, String> out = new LinkedHashMap<>();
    if (text == null || text.isEmpty()) {
      return out;
    }
    for (String pair : text.split("&", 100)) {
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        out.putIfAbsent(k, v);
      } catch (IllegalArgumentException e) {
        // a malformed %-escape: skip the pair
      }
    }
    return out;
  }

  private static @Nullable String cookie(Request request, String name) {
    for (String header : request.getHeaders().getValuesList(HttpHeader.COOKIE)) {
      for (String part : header.split(";")) {
        String p = part.trim();
        if (p.startsWith(name + "=")) {
          return p.substring(name.length() + 1);
        }
      }
    }
    return null;
  }

  private static String cut(String s) {
    String clean = s.replaceAll("[^A-Za-z0-9._@-]", "?");
    return clean.length() > 64 ? clean.substring(0, 64) : clean;
  }

  // ---------------------------------------------------------------- answers

  private static ObjectNode error(String status, String message) {
    return PreviewJson.JSON.createObjectNode().put("status", status).put("message", message);
  }

  private void staticFile(Request request, Response response, Callback callback, String name) {
    byte[] bytes = statics.get(name);
    if (bytes == null) {
      text(response, callback, 404, "text/plain", "not found");
      return;
    }
    secure(response);
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "public, max-age=300");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, request.getMethod().equals("HEAD") ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), callback);
  }

  private static void secure(Response response) {
    response.getHeaders().put("Content-Security-Policy", CSP);
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put("X-Frame-Options", "DENY");
    response.getHeaders().put("Referrer-Policy", "same-origin");
    response.getHeaders().put("X-Robots-Tag", "noindex");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
  }

  private static void html(Response response, Callback callback, int status, String body, long start) {
    response.getHeaders().put("Server-Timing", String.format(Locale.ROOT, "render;dur=%.2f", (System.nanoTime() - start) / 1e6));
    text(response, callback, status, "text/html; charset=utf-8", body);
  }

  private static void fragment(Response response, Callback callback, String live, long start) {
    response.getHeaders().put("X-Live-Version", Html.version(live));
    html(response, callback, 200, live, start);
  }

  private static void json(Response response, Callback callback, int status, com.fasterxml.jackson.databind.JsonNode body, long start) {
    response.getHeaders().put("Server-Timing", String.format(Locale.ROOT, "render;dur=%.2f", (System.nanoTime() - start) / 1e6));
    text(response, callback, status, "application/json", body.toString());
  }

  private static void text(Response response, Callback callback, int status, String type, String body) {
    secure(response);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }

  private static void redirect(Response response, Callback callback, String location) {
    secure(response);
    response.setStatus(303);
    response.getHeaders().put(HttpHeader.LOCATION, location);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
    response.write(true, ByteBuffer.allocate(0), callback);
  }
}
