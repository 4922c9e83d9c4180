package dev.preview.scm;

import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One webhook delivery as it came over the wire: its headers and its raw body bytes, before any
 * parsing. Independent of any web framework: a servlet, Javalin, the JDK's {@code HttpServer} or a
 * test builds one the same way.
 *
 * <p>Header names are case-insensitive. The body array is not copied (it can be 25 MB); callers must
 * not change it afterwards.
 */
public final class WebhookRequest {
  private final Map<String, String> headers;
  private final byte[] body;

  private WebhookRequest(Map<String, String> headers, byte[] body) {
    this.headers = headers;
    this.body = body;
  }

  /** A request with single-valued headers (the first value wins where a server gives lists). */
  public static WebhookRequest of(Map<String, String> headers, byte[] body) {
    Objects.requireNonNull(headers, "headers");
    Objects.requireNonNull(body, "body");
    Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((k, v) -> {
      if (k != null && v != null) {
        h.putIfAbsent(k, v);
      }
    });
    return new WebhookRequest(Collections.unmodifiableMap(h), body);
  }

  /** A request from multi-valued headers, as {@code com.sun.net.httpserver.Headers} or servlets give them. */
  public static WebhookRequest fromMultiValued(Map<String, ? extends List<String>> headers, byte[] body) {
    Objects.requireNonNull(headers, "headers");
    Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((k, v) -> {
      if (k != null && v != null && !v.isEmpty() && v.get(0) != null) {
        h.putIfAbsent(k, v.get(0));
      }
    });
    return of(h, body);
  }

  /** The value of a header, or null; case-insensitive. */
  public String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  public Map<String, String> headers() {
    return headers;
  }

  /** The raw body, exactly as received (signatures are computed over these bytes). */
  public byte[] body() {
    return body;
  }
}
