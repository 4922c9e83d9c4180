package dev.preview.server.gateway;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's reverse proxy, aimed per request at the route {@link GatewayHandler} chose: the
 * environment's URL plus the request's path (its prefix stripped) and query. The gateway's own
 * credentials (its cookie, the bypass header, basic credentials) never reach the preview; the
 * preview gets {@code X-Forwarded-Host/Proto/For/Prefix} and {@code Forwarded}. Bodies stream.
 */
final class GatewayProxy extends ProxyHandler.Reverse {
  static final String ROUTE = GatewayProxy.class.getName() + ".route";
  static final String PREFIX = GatewayProxy.class.getName() + ".prefix";
  private static final String SENT = GatewayProxy.class.getName() + ".sent";
  /** The gateway's name in {@code Via}: a request that carries it came back through the gateway. */
  static final String VIA = "preview-gateway";

  private final GatewaySettings settings;
  private final GatewayMetrics metrics;

  GatewayProxy(GatewaySettings settings, GatewayMetrics metrics) {
    super(GatewayProxy::target);
    this.settings = settings;
    this.metrics = metrics;
    setViaHost(VIA);
  }

  /** The upstream URI of a request, from the route and prefix {@link GatewayHandler} put on it. */
  static HttpURI target(Request request) {
    Routes.Route route = (Routes.Route) request.getAttribute(ROUTE);
    String prefix = (String) request.getAttribute(PREFIX);
    return HttpURI.build(upstream(route.environment().url(), request.getHttpURI(), prefix, false));
  }

  /** {@code base} (the environment's URL) joined with the request's path without {@code prefix}, and its query. */
  static String upstream(URI base, HttpURI uri, String prefix, boolean websocket) {
    String path = uri.getPath() == null ? "/" : uri.getPath();
    if (prefix != null && path.startsWith(prefix)) {
      path = "/" + path.substring(prefix.length());
    }
    String basePath = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
    String scheme = base.getScheme();
    if (websocket) {
      scheme = "https".equals(scheme) ? "wss" : "ws";
    }
    String query = uri.getQuery();
    return scheme + "://" + base.getRawAuthority() + basePath + path + (query == null ? "" : "?" + query);
  }

  @Override
  protected void configureHttpClient(HttpClient client) {
    super.configureHttpClient(client);
    client.setIdleTimeout(settings.upstreamTimeout().toMillis());
    client.setConnectTimeout(10_000);
    client.setMaxConnectionsPerDestination(256);
  }

  @Override
  protected void copyRequestHeaders(Request in, org.eclipse.jetty.client.Request out) {
    super.copyRequestHeaders(in, out);
    Routes.Route route = (Routes.Route) in.getAttribute(ROUTE);
    URI base = route.environment().url();
    String bypass = settings.access().bypassHeader();
    boolean basic = settings.access().mode() == GatewaySettings.Mode.BASIC;
    out.headers(h -> {
      h.remove(bypass);
      if (basic) {
        h.remove(HttpHeader.AUTHORIZATION);
      }
      String cookies = withoutGatewayCookie(h.getValuesList(HttpHeader.COOKIE));
      h.remove(HttpHeader.COOKIE);
      if (cookies != null) {
        h.put(HttpHeader.COOKIE, cookies);
      }
      h.put(HttpHeader.HOST, base.getRawAuthority());
    });
  }

  /** The {@code Cookie} header without the gateway's own cookie; null when nothing is left. */
  static String withoutGatewayCookie(List<String> values) {
    List<String> kept = new ArrayList<>();
    for (String v : values) {
      for (String part : v.split(";")) {
        String p = part.trim();
        if (p.isEmpty() || p.startsWith(GatewaySettings.COOKIE + "=")) {
          continue;
        }
        kept.add(p);
      }
    }
    return kept.isEmpty() ? null : String.join("; ", kept);
  }

  @Override
  protected void addProxyHeaders(Request in, org.eclipse.jetty.client.Request out) {
    super.addProxyHeaders(in, out);
    String host = in.getHeaders().get(HttpHeader.HOST);
    String prefix = (String) in.getAttribute(PREFIX);
    String proto = in.isSecure() ? "https" : "http";
    String forwardedProto = in.getHeaders().get("X-Forwarded-Proto");
    out.headers(h -> {
      if (host != null) {
        h.put("X-Forwarded-Host", host);
      }
      h.put("X-Forwarded-Proto", forwardedProto != null ? forwardedProto : proto);
      String remote = Request.getRemoteAddr(in);
      String earlier = in.getHeaders().get("X-Forwarded-For");
      h.put("X-Forwarded-For", earlier == null ? remote : earlier + ", " + remote);
      if (prefix != null) {
        h.put("X-Forwarded-Prefix", prefix.replaceAll("/+$", ""));
      }
    });
  }

  @Override
  protected void sendProxyToServerRequest(Request in, org.eclipse.jetty.client.Request out, Response response, Callback callback) {
    out.attribute(SENT, System.nanoTime());
    super.sendProxyToServerRequest(in, out, response, callback);
  }

  @Override
  protected org.eclipse.jetty.client.Response.CompleteListener newServerToProxyResponseListener(Request in,
      org.eclipse.jetty.client.Request out, Response response, Callback callback) {
    return new ProxyResponseListener(in, out, response, callback) {
      @Override
      public void onBegin(org.eclipse.jetty.client.Response upstream) {
        Object sent = out.getAttributes().get(SENT);
        if (sent instanceof Long t) {
          metrics.upstream(System.nanoTime() - t);
        }
        super.onBegin(upstream);
      }
    };
  }

  @Override
  protected HttpField filterServerToProxyResponseField(HttpField field) {
    // the gateway's own answer wins: a preview cannot make itself indexable
    if ("X-Robots-Tag".equalsIgnoreCase(field.getName())) {
      return null;
    }
    return field;
  }
}
