package dev.preview.scm.github;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.ApiResponse;
import dev.preview.spi.ProviderException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;

/**
 * Authenticates as a GitHub App installation: signs a short JWT (RS256, JDK crypto) with the App's
 * private key, exchanges it for an installation token, and reuses that token until shortly before
 * it expires (GitHub gives one hour). The installation is the configured one, or else looked up
 * per repository owner ({@code GET /repos/{owner}/{repo}/installation}) and remembered.
 */
public final class GitHubAppAuth implements GitHubAuth {
  /** Tokens are renewed this long before GitHub's {@code expires_at}. */
  static final Duration REFRESH_BEFORE_EXPIRY = Duration.ofMinutes(5);

  private final String appId;
  private final PrivateKey key;
  private final Long installationId;
  private final ApiClient api;
  private final HttpUrl baseUrl;
  private final Map<String, Long> installations = new ConcurrentHashMap<>();
  private final Map<Long, Token> tokens = new ConcurrentHashMap<>();

  private record Token(String value, Instant expiresAt) {}

  GitHubAppAuth(String appId, PrivateKey key, Long installationId, ApiClient api, HttpUrl baseUrl) {
    this.appId = Objects.requireNonNull(appId, "appId");
    this.key = Objects.requireNonNull(key, "key");
    this.installationId = installationId;
    this.api = api;
    this.baseUrl = baseUrl;
  }

  @Override
  public String authorization(String repository) {
    long installation = installationId != null ? installationId : installationOf(repository);
    Token t = tokens.get(installation);
    Instant now = api.clock().instant();
    if (t == null || !now.isBefore(t.expiresAt.minus(REFRESH_BEFORE_EXPIRY))) {
      // One exchange per installation at a time; concurrent callers wait for it and reuse it.
      synchronized (this) {
        t = tokens.get(installation);
        if (t == null || !now.isBefore(t.expiresAt.minus(REFRESH_BEFORE_EXPIRY))) {
          t = exchange(installation);
          tokens.put(installation, t);
        }
      }
    }
    return "Bearer " + t.value;
  }

  @Override
  public void invalidate(String repository) {
    Long installation = installationId != null ? installationId : installations.get(owner(repository));
    if (installation != null) {
      tokens.remove(installation);
    }
  }

  private long installationOf(String repository) {
    return installations.computeIfAbsent(owner(repository), o -> {
      HttpUrl url = baseUrl.newBuilder().addPathSegment("repos").addPathSegments(repository).addPathSegment("installation").build();
      ApiResponse r = api.get(url, headers("Bearer " + jwt()));
      long id = r.json().path("id").asLong(-1);
      if (id <= 0) {
        throw new ProviderException("github", "GitHub named no installation of App " + appId + " for " + repository, false);
      }
      return id;
    });
  }

  private Token exchange(long installation) {
    HttpUrl url = baseUrl.newBuilder().addPathSegments("app/installations").addPathSegment(Long.toString(installation))
        .addPathSegment("access_tokens").build();
    ApiResponse r = api.send("POST", url, null, headers("Bearer " + jwt()));
    String token = r.json().path("token").asText("");
    String expires = r.json().path("expires_at").asText("");
    if (token.isEmpty() || expires.isEmpty()) {
      throw new ProviderException("github", "the installation token answer of App " + appId + " has no token or expires_at", false);
    }
    return new Token(token, Instant.parse(expires));
  }

  /** A JWT valid for 9 minutes, issued 60 s in the past to allow for clock drift (GitHub's advice). */
  String jwt() {
    long now = api.clock().instant().getEpochSecond();
    ObjectNode header = ApiClient.MAPPER.createObjectNode().put("alg", "RS256").put("typ", "JWT");
    ObjectNode claims = ApiClient.MAPPER.createObjectNode().put("iat", now - 60).put("exp", now + 540).put("iss", appId);
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String signingInput = b64.encodeToString(header.toString().getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
    try {
      Signature s = Signature.getInstance("SHA256withRSA");
      s.initSign(key);
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + b64.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new ProviderException("github", "cannot sign the App JWT with the configured private key: " + e.getMessage(), false, e);
    }
  }

  static Map<String, String> headers(String authorization) {
    return Map.of("Authorization", authorization, "Accept", "application/vnd.github+json",
        "X-GitHub-Api-Version", GitHubApi.API_VERSION, "User-Agent", GitHubApi.USER_AGENT);
  }

  private static String owner(String repository) {
    int slash = repository.indexOf('/');
    return slash < 0 ? repository : repository.substring(0, slash);
  }
}
