package dev.preview.scm.github;

import dev.preview.testkit.MutableClock;
import static dev.preview.scm.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.Fixtures;
import dev.preview.spi.PreviewKey;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GitHubAppAuthTest {
  static KeyPair keys;
  static final Instant T0 = Instant.parse("2026-11-22T15:00:00Z");

  @StartStop final MockWebServer server = new MockWebServer();
  final MutableClock clock = new MutableClock(T0);

  @BeforeAll
  static void generate() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    keys = g.generateKeyPair();
  }

  /** The key as GitHub downloads it: PKCS#1, "BEGIN RSA PRIVATE KEY". */
  static String pkcs1Pem() {
    byte[] pkcs8 = keys.getPrivate().getEncoded();
    // PKCS#8 = SEQUENCE { version, algorithm, OCTET STRING { PKCS#1 } }: the PKCS#1 key is the tail after the 26-byte header of a 2048-bit key.
    byte[] pkcs1 = Arrays.copyOfRange(pkcs8, 26, pkcs8.length);
    return "-----BEGIN RSA PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs1)
        + "\n-----END RSA PRIVATE KEY-----\n";
  }

  static String pkcs8Pem() {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
  }

  GitHubPullRequestSource source(String pem, Long installation) {
    return GitHubPullRequestSource.create(server.url("/").toString(), GitHubNotifier.app("123456", pem, installation), clock, d -> {});
  }

  static String pull() {
    JsonNode pr = Fixtures.load("github/pull_request.opened.json").get("pull_request");
    return pr.toString();
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r).isNotNull();
    return r;
  }

  @Test
  void signsAJwtFindsTheInstallationAndUsesItsToken() throws Exception {
    GitHubPullRequestSource src = source(pkcs1Pem(), null);
    server.enqueue(json(200, "{\"id\": 99, \"account\": {\"login\": \"acme\"}, \"app_id\": 123456}"));
    server.enqueue(json(201, "{\"token\": \"ghs_first\", \"expires_at\": \"2026-11-22T16:00:00Z\", \"permissions\": {\"pull_requests\": \"write\"}}"));
    server.enqueue(json(200, pull()));
    assertThat(src.find(PreviewKey.pr("acme/shop", 42))).isPresent();

    RecordedRequest installation = take();
    assertThat(installation.getMethod()).isEqualTo("GET");
    assertThat(installation.getTarget()).isEqualTo("/repos/acme/shop/installation");
    assertValidJwt(installation.getHeaders().get("Authorization"));

    RecordedRequest exchange = take();
    assertThat(exchange.getMethod()).isEqualTo("POST");
    assertThat(exchange.getTarget()).isEqualTo("/app/installations/99/access_tokens");
    assertThat(exchange.getHeaders().get("Accept")).isEqualTo("application/vnd.github+json");
    assertValidJwt(exchange.getHeaders().get("Authorization"));

    RecordedRequest call = take();
    assertThat(call.getTarget()).isEqualTo("/repos/acme/shop/pulls/42");
    assertThat(call.getHeaders().get("Authorization")).isEqualTo("Bearer ghs_first");
  }

  @Test
  void tokenIsReusedUntilFiveMinutesBeforeExpiryThenRefreshed() throws Exception {
    GitHubPullRequestSource src = source(pkcs8Pem(), 99L);
    PreviewKey key = PreviewKey.pr("acme/shop", 42);
    server.enqueue(json(201, "{\"token\": \"ghs_first\", \"expires_at\": \"2026-11-22T16:00:00Z\"}"));
    server.enqueue(json(200, pull()));
    src.find(key);
    clock.set(T0.plus(Duration.ofMinutes(54)));
    server.enqueue(json(200, pull()));
    src.find(key);
    clock.set(T0.plus(Duration.ofMinutes(56)));
    server.enqueue(json(201, "{\"token\": \"ghs_second\", \"expires_at\": \"2026-11-22T17:00:00Z\"}"));
    server.enqueue(json(200, pull()));
    src.find(key);

    assertThat(take().getTarget()).isEqualTo("/app/installations/99/access_tokens");
    assertThat(take().getHeaders().get("Authorization")).isEqualTo("Bearer ghs_first");
    assertThat(take().getHeaders().get("Authorization")).as("54 min: still valid").isEqualTo("Bearer ghs_first");
    RecordedRequest refresh = take();
    assertThat(refresh.getTarget()).isEqualTo("/app/installations/99/access_tokens");
    assertThat(claims(refresh.getHeaders().get("Authorization")).path("iat").asLong()).isEqualTo(T0.getEpochSecond() + 56 * 60 - 60);
    assertThat(take().getHeaders().get("Authorization")).isEqualTo("Bearer ghs_second");
    assertThat(server.getRequestCount()).isEqualTo(5);
  }

  @Test
  void aRevokedTokenIsExchangedAgainOnce() throws Exception {
    GitHubPullRequestSource src = source(pkcs8Pem(), 99L);
    server.enqueue(json(201, "{\"token\": \"ghs_revoked\", \"expires_at\": \"2026-11-22T16:00:00Z\"}"));
    server.enqueue(json(401, "{\"message\": \"Bad credentials\"}"));
    server.enqueue(json(201, "{\"token\": \"ghs_new\", \"expires_at\": \"2026-11-22T16:00:00Z\"}"));
    server.enqueue(json(200, pull()));
    assertThat(src.find(PreviewKey.pr("acme/shop", 42))).isPresent();
    take();
    assertThat(take().getHeaders().get("Authorization")).isEqualTo("Bearer ghs_revoked");
    take();
    assertThat(take().getHeaders().get("Authorization")).isEqualTo("Bearer ghs_new");
  }

  void assertValidJwt(String authorization) throws Exception {
    assertThat(authorization).startsWith("Bearer ");
    String[] parts = authorization.substring(7).split("\\.");
    assertThat(parts).hasSize(3);
    JsonNode header = Fixtures.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[0]));
    assertThat(header.path("alg").asText()).isEqualTo("RS256");
    JsonNode claims = claims(authorization);
    assertThat(claims.path("iss").asText()).isEqualTo("123456");
    assertThat(claims.path("iat").asLong()).isEqualTo(T0.getEpochSecond() - 60);
    assertThat(claims.path("exp").asLong()).isEqualTo(T0.getEpochSecond() + 540);
    Signature verify = Signature.getInstance("SHA256withRSA");
    verify.initVerify(keys.getPublic());
    verify.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertThat(verify.verify(Base64.getUrlDecoder().decode(parts[2]))).as("JWT signature verifies with the App's public key").isTrue();
  }

  static JsonNode claims(String authorization) throws Exception {
    return Fixtures.MAPPER.readTree(Base64.getUrlDecoder().decode(authorization.substring(7).split("\\.")[1]));
  }
}
