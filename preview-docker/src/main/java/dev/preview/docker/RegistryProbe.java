package dev.preview.docker;

import dev.preview.spi.ImageAvailability;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks a registry whether an image's manifest exists: {@code HEAD /v2/<name>/manifests/<tag>} (the
 * Docker Registry HTTP API V2 / OCI distribution spec), with the configured credentials as Basic
 * auth, or as a Bearer token fetched from the realm a {@code 401} names. Plain HTTP only for
 * loopback registries (as the Docker engine itself allows), HTTPS otherwise. Never throws; never
 * puts the password in a message. Thread-safe.
 */
final class RegistryProbe {
  private static final String ACCEPT = String.join(", ",
      "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json");
  private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
  private static final Pattern TOKEN = Pattern.compile("\"(?:token|access_token)\"\\s*:\\s*\"([^\"]+)\"");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final DockerSettings.Registry credentials;

  RegistryProbe(DockerSettings.Registry credentials) {
    this.credentials = credentials;
  }

  /** A reference split into registry host, repository and tag or digest. */
  record Reference(String registry, String repository, String reference) {
    static Reference parse(String image) {
      String rest = image;
      String registry = "registry-1.docker.io";
      int slash = rest.indexOf('/');
      if (slash > 0) {
        String first = rest.substring(0, slash);
        if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
          registry = first;
          rest = rest.substring(slash + 1);
        }
      }
      if (registry.equals("registry-1.docker.io") && !rest.contains("/")) {
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
      return new Reference(registry, rest, ref);
    }

    boolean loopback() {
      String host = registry.replaceFirst(":\\d+$", "");
      return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }
  }

  ImageAvailability manifestExists(String image) {
    try {
      Reference r = Reference.parse(image);
      URI uri = URI.create((r.loopback() ? "http://" : "https://") + r.registry() + "/v2/" + r.repository()
          + "/manifests/" + r.reference());
      String basic = basic(r.registry());
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

  private HttpResponse<Void> head(URI uri, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
        .timeout(Duration.ofSeconds(10)).header("Accept", ACCEPT);
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.discarding());
  }

  private String token(String challenge, String basic) throws Exception {
    Map<String, String> p = new LinkedHashMap<>();
    Matcher m = PARAM.matcher(challenge);
    while (m.find()) {
      p.put(m.group(1), m.group(2));
    }
    String realm = p.get("realm");
    if (realm == null) {
      return null;
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
    HttpResponse<String> res = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) {
      return null;
    }
    Matcher t = TOKEN.matcher(res.body());
    return t.find() ? t.group(1) : null;
  }

  /** Basic credentials for {@code registry}, if the configured ones are for it (or name no server). */
  private String basic(String registry) {
    if (credentials == null) {
      return null;
    }
    String server = credentials.server();
    if (server != null) {
      String host = server.replaceFirst("^https?://", "").replaceFirst("/.*$", "");
      boolean hub = host.endsWith("docker.io") && registry.endsWith("docker.io");
      if (!host.equalsIgnoreCase(registry) && !hub) {
        return null; // never send one registry's password to another
      }
    }
    String pair = credentials.username() + ":" + credentials.password().reveal();
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }
}
