package dev.preview.server.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway end to end over real HTTP: an orchestrator deploys two PRs with the {@code local}
 * provider (each its own process and port), and the gateway routes to them by host and by path.
 */
class PreviewGatewayRoutingTest {
  @TempDir static Path dir;
  static GatewayRig rig;
  static Environment pr41;
  static Environment pr42;

  @BeforeAll
  static void start() throws Exception {
    rig = new GatewayRig(dir, Clock.systemUTC(), b -> b, PreviewPolicy.defaults(), p -> p);
    pr41 = rig.open(41, "a".repeat(40));
    pr42 = rig.open(42, "b".repeat(40));
  }

  @AfterAll
  static void stop() {
    rig.close();
  }

  @Test
  void aHostnameReachesItsOwnPreviewAndTheAppSeesTheForwardedHeaders() throws Exception {
    GatewayRig.Reply r = rig.get("pr-42.preview.test", "/echo?x=1&y=two");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("key=acme/shop#42\n", "path=/echo\n", "query=x=1&y=two\n",
        "x-forwarded-host=pr-42.preview.test\n", "x-forwarded-prefix=null\n", "x-forwarded-proto=http\n")
        .contains("host=127.0.0.1:" + pr42.url().getPort() + "\n");
    assertThat(r.header("X-Robots-Tag")).isEqualTo("noindex, nofollow");
    // the host decides, whatever the path says
    assertThat(rig.get("PR-41.preview.test:8080", "/echo").body()).contains("key=acme/shop#41\n");
  }

  @Test
  void aPathPrefixReachesItsPreviewWithThePrefixStrippedAndNamed() throws Exception {
    GatewayRig.Reply r = rig.get("previews.example.com", "/pr/41/deep/echo?q=%2F");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("key=acme/shop#41\n", "path=/deep/echo\n", "query=q=%2F\n", "x-forwarded-prefix=/pr/41\n");
    assertThat(rig.get("previews.example.com", "/pr/42/echo").body()).contains("key=acme/shop#42\n");

    // an environment URL that leads back to the gateway is a loop, answered at once
    assertThat(rig.get("pr-42.preview.test", "/echo", "Via: 1.1 preview-gateway").status()).isEqualTo(508);

    GatewayRig.Reply bare = rig.get("previews.example.com", "/pr/42?a=b");
    assertThat(bare.status()).isEqualTo(308);
    assertThat(bare.header("Location")).endsWith("/pr/42/?a=b");
  }

  @Test
  void anUnknownHostOrPrefixGetsAPlain404NeverAnotherPreview() throws Exception {
    for (String[] hp : new String[][] {{"pr-43.preview.test", "/echo"}, {"evil.example.com", "/echo"},
        {"previews.example.com", "/pr/43/echo"}, {"previews.example.com", "/pr/"}, {"previews.example.com", "/"},
        {"previews.example.com", "/prx/41/echo"}}) {
      GatewayRig.Reply r = rig.get(hp[0], hp[1]);
      assertThat(r.status()).as("%s%s", hp[0], hp[1]).isEqualTo(404);
      assertThat(r.body()).doesNotContain("acme/shop").startsWith("No preview here");
      assertThat(r.header("X-Robots-Tag")).isEqualTo("noindex, nofollow");
    }
  }

  @Test
  void aMegabyteStreamsThroughAndASlowBodyArrivesPieceByPiece() throws Exception {
    GatewayRig.Reply big = rig.get("pr-41.preview.test", "/big?bytes=1048576");
    assertThat(big.status()).isEqualTo(200);
    assertThat(big.body()).hasSize(1_048_576);
    assertThat(big.body().substring(0, 26)).isEqualTo("abcdefghijklmnopqrstuvwxyz");

    // the first line arrives while the app is still writing (it sends the rest 1.5 s later): not buffered whole
    try (Socket s = new Socket("127.0.0.1", rig.gateway.port())) {
      s.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: pr-42.preview.test\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      long start = System.nanoTime();
      InputStream in = s.getInputStream();
      StringBuilder seen = new StringBuilder();
      while (!seen.toString().contains("first")) {
        int c = in.read();
        assertThat(c).isNotNegative();
        seen.append((char) c);
      }
      long firstMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      String rest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      long allMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(rest).contains("last");
      assertThat(firstMs).as("first chunk after %d ms, all after %d ms", firstMs, allMs).isLessThan(1200);
      assertThat(allMs).isGreaterThanOrEqualTo(1400);
    }
  }

  @Test
  void aLargeChunkedRequestBodyStreamsToTheAppIntact() throws Exception {
    // 8 MiB of random bytes in 64 KiB chunks; the rest is sent only once the app has answered "started",
    // which it does when the request reaches it: a gateway that read the whole body first would never get there
    byte[] body = new byte[8 << 20];
    new java.util.Random(42).nextBytes(body);
    String expected = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
    int chunk = 64 * 1024;
    try (Socket s = new Socket("127.0.0.1", rig.gateway.port())) {
      s.setSoTimeout(20_000);
      java.io.OutputStream out = s.getOutputStream();
      out.write(("POST /pr/41/upload HTTP/1.1\r\nHost: previews.example.com\r\nContent-Type: application/octet-stream\r\n"
          + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      writeChunk(out, body, 0, chunk);
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder seen = new StringBuilder();
      while (!seen.toString().contains("started")) {
        int c = in.read(); // a SocketTimeoutException here: the gateway held the body back
        assertThat(c).as("the gateway closed the connection after: %s", seen).isNotNegative();
        seen.append((char) c);
      }
      assertThat(seen.toString()).startsWith("HTTP/1.1 200");
      for (int at = chunk; at < body.length; at += chunk) {
        writeChunk(out, body, at, Math.min(chunk, body.length - at));
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String rest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(rest).contains("bytes=" + body.length + " sha256=" + expected + " framing=");
    }
  }

  private static void writeChunk(java.io.OutputStream out, byte[] body, int from, int length) throws java.io.IOException {
    out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.write(body, from, length);
    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void aWebSocketEchoesThroughTheGatewayWithItsSubProtocol() throws Exception {
    LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
    HttpClient client = HttpClient.newHttpClient();
    WebSocket ws = client.newWebSocketBuilder().subprotocols("echo").buildAsync(
        URI.create("ws://127.0.0.1:" + rig.gateway.port() + "/pr/42/ws"), new WebSocket.Listener() {
          final StringBuilder text = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
              got.add(text.toString());
              text.setLength(0);
            }
            webSocket.request(1);
            return null;
          }
        }).get(20, TimeUnit.SECONDS);
    assertThat(ws.getSubprotocol()).isEqualTo("echo");
    ws.sendText("hello through the gateway", true).get(10, TimeUnit.SECONDS);
    assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("hello through the gateway");
    String large = "x".repeat(200_000);
    ws.sendText(large, true).get(10, TimeUnit.SECONDS);
    assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo(large);
    CompletableFuture<WebSocket> closed = ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
    closed.get(10, TimeUnit.SECONDS);

    // an unknown prefix is refused before any upgrade
    var refused = client.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + rig.gateway.port() + "/pr/99/ws"),
        new WebSocket.Listener() {});
    assertThat(refused).failsWithin(Duration.ofSeconds(10));
  }

  @Test
  void requestsAndUpstreamLatencyAreCountedOnTheRegistry() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rig.gateway.port() + "/pr/41/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    }
    rig.get("nobody.example.com", "/");
    // a request is counted once its exchange completes, which may be just after the client read the answer
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(rig.registry.scrape()).containsPattern("preview_gateway_requests_total\\{outcome=\"proxied\",status=\"2xx\"} [3-9]\\d*\\.0")
        .containsPattern("preview_gateway_requests_total\\{outcome=\"unknown\",status=\"4xx\"} [1-9]\\d*\\.0")
        .containsPattern("preview_gateway_upstream_seconds_count [3-9]\\d*"));
  }

  @Test
  void theStatusOnThePullRequestLinksToTheGateway() {
    var status = rig.scm.latest(GatewayRig.pr(42)).orElseThrow();
    assertThat(status.url()).isEqualTo(URI.create("http://pr-42.preview.test:" + rig.gateway.port() + "/"));
  }
}
