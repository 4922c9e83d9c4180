package dev.preview.server.gateway;

import dev.preview.spi.Environment;
import dev.preview.spi.PreviewKey;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.client.CoreClientUpgradeRequest;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's front handler: finds the route, checks access, records the visit, wakes a sleeping
 * preview, then hands the request to the WebSocket bridge or the proxy behind it.
 */
final class GatewayHandler extends Handler.Wrapper {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayHandler.class);
  private static final String BYPASSED = GatewayHandler.class.getName() + ".bypassed";

  private final PreviewGateway gateway;
  private final GatewaySettings settings;
  private final GatewaySettings.Access access;
  private final Routes routes;
  private final Visits visits;
  private final Waker waker;
  private final GatewayMetrics metrics;
  private final @Nullable AccessTokens tokens;
  private final Clock clock;
  private final Executor executor;
  private final AtomicInteger held = new AtomicInteger();

  GatewayHandler(PreviewGateway gateway, GatewaySettings settings, Routes routes, Visits visits, Waker waker,
      GatewayMetrics metrics, @Nullable AccessTokens tokens, Clock clock, Executor executor) {
    this.gateway = gateway;
    this.settings = settings;
    this.access = settings.access();
    this.routes = routes;
    this.visits = visits;
    this.waker = waker;
    this.metrics = metrics;
    metrics.held(held);
    this.tokens = tokens;
    this.clock = clock;
    this.executor = executor;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    response.getHeaders().put("X-Robots-Tag", "noindex, nofollow");
    String via = request.getHeaders().get(HttpHeader.VIA);
    if (via != null && via.contains(GatewayProxy.VIA)) {
      // an environment URL that leads back here (an ingress host that DNS points at the gateway) would loop forever
      return page(request, response, callback, 508, "loop", "Loop detected",
          "The preview's address leads back to the gateway; route the environment to its service, not to the public hostname.");
    }
    String host = Request.getServerName(request);
    String path = request.getHttpURI().getPath() == null ? "/" : request.getHttpURI().getPath();
    Optional<Routes.Route> found = routes.find(host, path);
    if (found.isEmpty() && gateway.refreshAfterMiss()) {
      found = routes.find(host, path);
    }
    if (found.isEmpty()) {
      return page(request, response, callback, 404, "unknown", "No preview here",
          "There is no preview at this address. It may have been closed, or the link is wrong.");
    }
    Routes.Route route = found.get();
    boolean byHost = route.host() != null && route.host().equalsIgnoreCase(host);
    String prefix = byHost ? null : route.prefix();
    if (prefix != null && !path.startsWith(prefix)) {
      // /pr/42 -> /pr/42/: relative links of the app resolve under its prefix
      String query = request.getHttpURI().getQuery();
      return redirect(request, response, callback, 308, prefix + (query == null ? "" : "?" + query), null);
    }
    if (!allowed(request, response, callback, route, prefix)) {
      return true;
    }
    request.setAttribute(GatewayProxy.ROUTE, route);
    request.setAttribute(GatewayProxy.PREFIX, prefix);
    Environment env = route.environment();
    boolean asleep = env.phase() == Environment.Phase.SUSPENDED || waker.waking(route.key());
    // Automation with the bypass header (uptime checks) does not keep an awake preview alive. One that
    // wakes a sleeping preview is a visit, though: else the next reconcile would find the last activity
    // still older than sleepAfter and put it straight back to sleep while the automation uses it.
    if (request.getAttribute(BYPASSED) == null || asleep) {
      visits.record(route.key());
    }
    if (asleep) {
      return wake(request, response, callback, route);
    }
    if (env.url() == null) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(Math.max(1, settings.retryAfter().toSeconds())));
      return page(request, response, callback, 503, "unavailable", "Not running", "The preview has no address right now; try again soon.");
    }
    return forward(request, response, callback);
  }

  private boolean forward(Request request, Response response, Callback callback) throws Exception {
    boolean upgrade = isUpgrade(request);
    Callback counted = new Callback() {
      @Override
      public void succeeded() {
        metrics.request(response.getStatus(), upgrade ? "websocket" : "proxied");
        callback.succeeded();
      }

      @Override
      public void failed(Throwable x) {
        metrics.request(502, upgrade ? "websocket" : "proxied");
        callback.failed(x);
      }

      @Override
      public InvocationType getInvocationType() {
        return callback.getInvocationType();
      }
    };
    return super.handle(request, response, counted);
  }

  private static boolean isUpgrade(Request request) {
    String upgrade = request.getHeaders().get(HttpHeader.UPGRADE);
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }

  // ----------------------------------------------------------------------------------- access

  /** Whether the request may pass; if not, the answer (401, or the redirect that sets the cookie) is on its way. */
  private boolean allowed(Request request, Response response, Callback callback, Routes.Route route, @Nullable String prefix) {
    if (access.bypassSecret().isPresent()) {
      String given = request.getHeaders().get(access.bypassHeader());
      if (given != null) {
        if (equal(given, access.bypassSecret().get().reveal())) {
          request.setAttribute(BYPASSED, Boolean.TRUE);
          return true;
        }
        page(request, response, callback, 401, "denied", "Access denied", "The " + access.bypassHeader() + " header is wrong.");
        return false;
      }
    }
    switch (access.mode()) {
      case PUBLIC:
        return true;
      case BASIC:
        if (basicMatches(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
          return true;
        }
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Basic realm=\"preview\", charset=\"UTF-8\"");
        page(request, response, callback, 401, "denied", "Sign in", "This preview needs a user name and password.");
        return false;
      case TOKEN:
      default:
        return tokenAllowed(request, response, callback, route, prefix);
    }
  }

  private boolean tokenAllowed(Request request, Response response, Callback callback, Routes.Route route, @Nullable String prefix) {
    PreviewKey key = route.key();
    Instant now = clock.instant();
    HttpURI uri = request.getHttpURI();
    Fields query = uri.getQuery() == null ? new Fields() : Request.extractQueryParameters(request);
    Fields.Field link = query.get(GatewaySettings.TOKEN_PARAMETER);
    if (link != null) {
      if (!tokens.valid(link.getValue(), AccessTokens.LINK, key, now)) {
        page(request, response, callback, 401, "denied", "This link does not open this preview",
            "The link is expired, or it belongs to another preview. Open the preview from the latest comment on its pull request.");
        return false;
      }
      Instant expires = now.plus(access.cookieTtl());
      HttpCookie cookie = HttpCookie.build(GatewaySettings.COOKIE, tokens.issue(AccessTokens.COOKIE, key, expires))
          .path(prefix != null ? prefix : "/")
          .maxAge(access.cookieTtl().toSeconds())
          .httpOnly(true)
          .secure(access.secureCookie())
          .sameSite(HttpCookie.SameSite.LAX)
          .build();
      redirect(request, response, callback, 303, cleanLocation(uri), cookie);
      return false;
    }
    for (HttpCookie c : cookies(request)) {
      if (GatewaySettings.COOKIE.equals(c.getName()) && tokens.valid(c.getValue(), AccessTokens.COOKIE, key, now)) {
        return true;
      }
    }
    page(request, response, callback, 401, "denied", "This preview is private",
        "Open it from the link in the comment on its pull request (the link signs you in to this preview for "
            + access.cookieTtl().toHours() + " hours).");
    return false;
  }

  private static List<HttpCookie> cookies(Request request) {
    List<HttpCookie> c = Request.getCookies(request);
    return c == null ? List.of() : c;
  }

  /** The request's path and query without the token parameter. */
  private static String cleanLocation(HttpURI uri) {
    StringBuilder q = new StringBuilder();
    if (uri.getQuery() != null) {
      for (String part : uri.getQuery().split("&")) {
        if (part.isEmpty() || part.startsWith(GatewaySettings.TOKEN_PARAMETER + "=") || part.equals(GatewaySettings.TOKEN_PARAMETER)) {
          continue;
        }
        q.append(q.length() == 0 ? "?" : "&").append(part);
      }
    }
    return (uri.getPath() == null ? "/" : uri.getPath()) + q;
  }

  private boolean basicMatches(@Nullable String header) {
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return false;
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return false;
    }
    boolean user = equal(decoded.substring(0, colon), access.user().orElse(""));
    boolean password = equal(decoded.substring(colon + 1), access.password().map(p -> p.reveal()).orElse(""));
    return user & password;
  }

  /** Constant time in the content (the length of the expected value may leak, its bytes do not). */
  private static boolean equal(String given, String expected) {
    return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  // ------------------------------------------------------------------------------------- wake

  private boolean wake(Request request, Response response, Callback callback, Routes.Route route) {
    CompletableFuture<Environment> woken = waker.wake(route.key());
    long retry = Math.max(1, settings.retryAfter().toSeconds());
    String accept = request.getHeaders().get(HttpHeader.ACCEPT);
    boolean browser = ("GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod()))
        && accept != null && accept.contains("text/html");
    if (browser) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(retry));
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
      return send(response, callback, 503, "waking", "text/html;charset=utf-8", wakingPage(route.key(), retry));
    }
    if (settings.wakeHold().isZero() || held.incrementAndGet() > settings.wakeMaxHeld()) {
      if (!settings.wakeHold().isZero()) {
        held.decrementAndGet();
      }
      response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(retry));
      return page(request, response, callback, 503, "unavailable", "Waking up", "The preview is waking up; try again in a few seconds.");
    }
    woken.copy().orTimeout(settings.wakeHold().toMillis(), TimeUnit.MILLISECONDS).whenCompleteAsync((env, failure) -> {
      held.decrementAndGet();
      if (failure != null) {
        response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(retry));
        page(request, response, callback, 503, "unavailable", "Waking up",
            "The preview is still waking up (or could not be woken); try again in a few seconds.");
        return;
      }
      request.setAttribute(GatewayProxy.ROUTE, route.with(env));
      try {
        if (!forward(request, response, callback)) {
          page(request, response, callback, 404, "unknown", "No preview here", "There is no preview at this address.");
        }
      } catch (Exception e) {
        callback.failed(e);
      }
    }, executor);
    return true;
  }

  private static String wakingPage(PreviewKey key, long retry) {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
        + "<meta http-equiv=\"refresh\" content=\"" + retry + "\"><title>Waking up the preview</title>"
        + "<style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:36em;color:#333}</style></head><body>"
        + "<h1 id=\"waking\">Waking up the preview&hellip;</h1><p>" + html(key.id()) + " was asleep to save resources."
        + " This page reloads by itself every " + retry + " s until the app answers.</p></body></html>";
  }

  // ------------------------------------------------------------------------------------ pages

  private boolean page(Request request, Response response, Callback callback, int status, String outcome, String title, String text) {
    String accept = request.getHeaders().get(HttpHeader.ACCEPT);
    if (accept != null && accept.contains("text/html")) {
      return send(response, callback, status, outcome, "text/html;charset=utf-8",
          "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\"><title>" + html(title)
              + "</title></head><body><h1>" + html(title) + "</h1><p>" + html(text) + "</p></body></html>");
    }
    return send(response, callback, status, outcome, "text/plain;charset=utf-8", title + ": " + text + "\n");
  }

  private boolean send(Response response, Callback callback, int status, String outcome, String type, String body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    metrics.request(status, outcome);
    response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    return true;
  }

  private boolean redirect(Request request, Response response, Callback callback, int status, String location,
      @Nullable HttpCookie cookie) {
    if (cookie != null) {
      Response.addCookie(response, cookie);
    }
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.getHeaders().put("Referrer-Policy", "no-referrer");
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.LOCATION, location);
    metrics.request(status, "redirected");
    response.write(true, null, callback);
    return true;
  }

  private static String html(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  // -------------------------------------------------------------------------------- websocket

  /**
   * Accepts a WebSocket upgrade the front handler let through: opens the preview's own WebSocket first
   * (with the client's sub-protocols and headers, minus the gateway's credentials), then accepts the
   * client's with the sub-protocol the preview chose, and bridges the two.
   */
  static final class Negotiator implements WebSocketNegotiator {
    private final WebSocketCoreClient client;
    private final GatewaySettings settings;

    Negotiator(WebSocketCoreClient client, GatewaySettings settings) {
      this.client = client;
      this.settings = settings;
    }

    @Override
    public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
      Routes.Route route = (Routes.Route) request.getAttribute(GatewayProxy.ROUTE);
      String prefix = (String) request.getAttribute(GatewayProxy.PREFIX);
      if (route == null) {
        Response.writeError(request, response, callback, 404);
        return null;
      }
      URI target = URI.create(GatewayProxy.upstream(route.environment().url(), request.getHttpURI(), prefix, true));
      WebSocketBridge.Side downstream = new WebSocketBridge.Side("client");
      WebSocketBridge.Side upstream = new WebSocketBridge.Side("preview");
      WebSocketBridge.Side.pair(downstream, upstream);
      CoreClientUpgradeRequest up = CoreClientUpgradeRequest.from(client, target, upstream);
      up.setSubProtocols(request.getSubProtocols());
      String bypass = settings.access().bypassHeader();
      boolean basic = settings.access().mode() == GatewaySettings.Mode.BASIC;
      up.headers(h -> {
        request.getHeaders().forEach(f -> {
          String n = f.getLowerCaseName();
          if (n.startsWith("sec-websocket-") || n.equals("host") || n.equals("connection") || n.equals("upgrade")
              || n.equals(bypass.toLowerCase(java.util.Locale.ROOT)) || (basic && n.equals("authorization"))
              || n.equals("cookie") || n.equals("content-length")) {
            return;
          }
          h.add(f);
        });
        String cookies = GatewayProxy.withoutGatewayCookie(request.getHeaders().getValuesList(HttpHeader.COOKIE));
        if (cookies != null) {
          h.put(HttpHeader.COOKIE, cookies);
        }
        if (prefix != null) {
          h.put("X-Forwarded-Prefix", prefix.replaceAll("/+$", ""));
        }
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (host != null) {
          h.put("X-Forwarded-Host", host);
        }
      });
      up.timeout(10, TimeUnit.SECONDS);
      CoreSession session;
      try {
        session = client.connect(up).get(15, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.info("gateway: the WebSocket of {} could not be opened: {}", route.key(), e.getMessage());
        Response.writeError(request, response, callback, 502);
        return null;
      }
      if (session.getNegotiatedSubProtocol() != null && !session.getNegotiatedSubProtocol().isEmpty()) {
        response.setAcceptedSubProtocol(session.getNegotiatedSubProtocol());
      }
      return new FrameHandler() {
        @Override
        public void onOpen(CoreSession coreSession, Callback cb) {
          downstream.onOpen(coreSession, cb);
          downstream.start();
          upstream.start();
        }

        @Override
        public void onFrame(org.eclipse.jetty.websocket.core.Frame frame, Callback cb) {
          downstream.onFrame(frame, cb);
        }

        @Override
        public void onError(Throwable cause, Callback cb) {
          downstream.onError(cause, cb);
        }

        @Override
        public void onClosed(org.eclipse.jetty.websocket.core.CloseStatus status, Callback cb) {
          downstream.onClosed(status, cb);
        }
      };
    }
  }
}
