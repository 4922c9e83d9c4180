package dev.preview.spi;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks an image's registry whether its manifest exists: {@code HEAD /v2/<name>/manifests/<ref>}
 * (Docker Registry HTTP API V2 / OCI distribution spec), with the Basic credentials the provider's
 * pull secrets hold for that registry (never another registry's), or as the Bearer token a
 * {@code 401} names; anonymous when no pull secret is for it. 200: PRESENT, 404: ABSENT, anything
 * else (401/403, 5xx, no answer): UNKNOWN. Plain HTTP only for a loopback registry, HTTPS otherwise.
 * Never throws; never puts a credential in a message or a log. Thread-safe.
 *
 * <p>For providers' {@link EnvironmentProvider#imageAvailable}: the docker and kubernetes providers
 * share it, with their own credentials.
 */
public final class RegistryManifests {
  public static final String ACCEPT = String.join(", ",
      "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json");
  private static final String HUB = "registry-1.docker.io";
  private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
  private static final Pattern TOKEN = Pattern.compile("\"(?:token|access_token)\"\\s*:\\s*\"([^\"]+)\"");

  private final Supplier<HttpClient> httpFactory;
  private final Supplier<Map<String, String>> authorizations;
  private volatile HttpClient http; // built at the first look: a TLS context costs 0.3-0.7 s of start-up

  /**
   * @param authorizations the {@code Authorization} header value ({@code Basic ...}) per registry
   *     host (as {@link #host} normalises it), read from the pull secrets; asked once per look
   */
  public RegistryManifests(HttpClient http, Supplier<Map<String, String>> authorizations) {
    this(() -> http, authorizations);
    java.util.Objects.requireNonNull(http, "http");
  }

  /**
   * Like {@link #RegistryManifests(HttpClient, Supplier)}, with the client made by {@code http} at the
   * first look (once): a provider that never looks (a CLI's {@code validate}) builds no TLS context.
   */
  public RegistryManifests(Supplier<HttpClient> http, Supplier<Map<String, String>> authorizations) {
    this.httpFactory = java.util.Objects.requireNonNull(http, "http");
    this.authorizations = authorizations;
  }

  /** A client that connects within {@code connectTimeout}, made at the first look. */
  public static RegistryManifests lazy(Duration connectTimeout, Supplier<Map<String, String>> authorizations) {
    return new RegistryManifests(() -> HttpClient.newBuilder().connectTimeout(connectTimeout).build(), authorizations);
  }

  private HttpClient http() {
    HttpClient c = http;
    if (c == null) {
      synchronized (this) {
        c = http;
        if (c == null) {
          c = java.util.Objects.requireNonNull(httpFactory.get(), "the HTTP client factory returned null");
          http = c;
        }
      }
    }
    return c;
  }

  /** An image reference split into registry host, repository and tag or digest. */
  public record Reference(String registry, String repository, String reference) {
    public static Reference parse(String image) {
      String rest = image.trim();
      String registry = HUB;
      int slash = rest.indexOf('/');
      if (slash > 0) {
        String first = rest.substring(0, slash);
        if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
          registry = first;
          rest = rest.substring(slash + 1);
        }
      }
      if (registry.equals(HUB) && !rest.contains("/")) {
        rest = "library/" + rest;
      }
      String ref = "latest";
      int at = rest.indexOf('@');
      if (at >= 0) {
        ref = rest.substring(at + 1);
        rest = rest.substring(0, at);
      } else {
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
          ref = rest.substring(colon + 1);
          rest = rest.substring(0, colon);
        }
      }
      return new Reference(host(registry), rest, ref);
    }
  }

  /** Whether {@code host} (maybe with a port) is this machine: the only place plain HTTP is used. */
  public static boolean loopback(String host) {
    String h = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.replaceFirst(":\\d+$", "");
    // numeric 127.x.y.z only: a name such as 127.attacker.example resolves wherever its owner wants
    return h.equals("localhost") || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}") || h.equals("[::1]");
  }

  /**
   * A registry as the key of a docker config's {@code auths} names it ({@code https://index.docker.io/v1/},
   * {@code ghcr.io}, {@code registry.example:5000}), reduced to the host (and port) an image names;
   * Docker Hub's several names are one.
   */
  public static String host(String registry) {
    String h = registry.trim().replaceFirst("^[a-zA-Z]+://", "").replaceFirst("/.*$", "").toLowerCase(Locale.ROOT);
    if (h.equals("docker.io") || h.equals("index.docker.io") || h.equals(HUB)) {
      return HUB;
    }
    return h;
  }

  /**
   * The Basic authorizations in a parsed docker config: {@code {"auths": {host: {"auth": b64} or
   * {"username", "password"}}}} ({@code .dockerconfigjson}) or the same map at the top level
   * ({@code .dockercfg}).
   */
  public static Map<String, String> basicAuthorizations(Map<?, ?> config) {
    Map<String, String> out = new LinkedHashMap<>();
    Object auths = config.containsKey("auths") ? config.get("auths") : config;
    if (!(auths instanceof Map<?, ?> m)) {
      return out;
    }
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getKey() instanceof String registry) || !(e.getValue() instanceof Map<?, ?> entry)) {
        continue;
      }
      String pair = null;
      if (entry.get("auth") instanceof String auth && !auth.isBlank()) {
        pair = auth.trim();
      } else if (entry.get("username") instanceof String user && entry.get("password") instanceof String password) {
        pair = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
      }
      if (pair != null) {
        out.putIfAbsent(host(registry), "Basic " + pair);
      }
    }
    return out;
  }

  /** Whether the registry holds {@code image}'s manifest; UNKNOWN when it cannot tell. */
  public ImageAvailability manifestExists(String image) {
    try {
      Reference r = Reference.parse(image);
      URI uri = URI.create((loopback(r.registry()) ? "http://" : "https://") + r.registry() + "/v2/" + r.repository()
          + "/manifests/" + r.reference());
      String basic = authorizations.get().get(r.registry());
      HttpResponse<Void> res = head(uri, basic);
      if (res.statusCode() == 401) {
        String challenge = res.headers().firstValue("WWW-Authenticate").orElse("");
        if (challenge.regionMatches(true, 0, "Bearer", 0, 6)) {
          String token = token(challenge, basic);
          if (token != null) {
            res = head(uri, "Bearer " + token);
          }
        }
      }
      return switch (res.statusCode()) {
        case 200 -> ImageAvailability.PRESENT;
        case 404 -> ImageAvailability.ABSENT;
        default -> ImageAvailability.UNKNOWN; // 401/403 (no or wrong credentials), 5xx: cannot tell
      };
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ImageAvailability.UNKNOWN;
    } catch (Exception e) {
      return ImageAvailability.UNKNOWN;
    }
  }

  private HttpResponse<Void> head(URI uri, @org.jspecify.annotations.Nullable String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
        .timeout(Duration.ofSeconds(10)).header("Accept", ACCEPT);
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http().send(b.build(), HttpResponse.BodyHandlers.discarding());
  }

  /** The Bearer token from the realm the challenge names (HTTPS, or loopback), asked with {@code basic} if any. */
  private @org.jspecify.annotations.Nullable String token(String challenge, @org.jspecify.annotations.Nullable String basic) throws Exception {
    Map<String, String> p = new LinkedHashMap<>();
    Matcher m = PARAM.matcher(challenge);
    while (m.find()) {
      p.put(m.group(1), m.group(2));
    }
    String realm = p.get("realm");
    if (realm == null) {
      return null;
    }
    URI realmUri = URI.create(realm);
    if (!"https".equalsIgnoreCase(realmUri.getScheme())
        && !("http".equalsIgnoreCase(realmUri.getScheme()) && loopback(String.valueOf(realmUri.getAuthority())))) {
      return null; // credentials never travel in clear text
    }
    StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
    if (p.containsKey("service")) {
      q.append("service=").append(URLEncoder.encode(p.get("service"), StandardCharsets.UTF_8)).append('&');
    }
    if (p.containsKey("scope")) {
      q.append("scope=").append(URLEncoder.encode(p.get("scope"), StandardCharsets.UTF_8));
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(q.toString())).GET().timeout(Duration.ofSeconds(10));
    if (basic != null) {
      b.header("Authorization", basic);
    }
    HttpResponse<String> res = http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) {
      return null;
    }
    Matcher t = TOKEN.matcher(res.body());
    return t.find() ? t.group(1) : null;
  }
}
