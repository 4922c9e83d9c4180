package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.core.Preview;
import dev.preview.core.ReconcileReport;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PreviewState;
import dev.preview.spi.Secret;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook path saturated by work, not by slow senders: every delivery's hand-over is held (an
 * orchestrator that does not return), more of them than the server has request threads, and the
 * probes are still answered; the connection limit holds further connections in the accept queue
 * until one closes.
 */
class WebhookServerSaturationTest {
  static final int THREADS = 2;

  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  final List<Socket> sockets = new ArrayList<>();
  final CountDownLatch release = new CountDownLatch(1);
  final AtomicInteger handing = new AtomicInteger();
  WebhookServer server;

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    for (Socket s : sockets) {
      s.close();
    }
    if (server != null) {
      server.close();
    }
  }

  WebhookServer.Builder heldServer() {
    ReconcileReport none = new ReconcileReport(List.of(), Set.of(), List.of(), false);
    return WebhookServer.builder().actions(e -> {
      handing.incrementAndGet();
      try {
        release.await(60, TimeUnit.SECONDS); // an orchestrator whose hand-over blocks
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      return CompletableFuture.completedFuture(new Preview(e.key(), PreviewState.READY, e.headSha(), null, null, "", null,
          Map.of(), null, null));
    }, () -> none).source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build()).port(0).bind("127.0.0.1");
  }

  @Test
  void probesAreAnsweredWhileEveryWebhookHandOverIsHeld() throws Exception {
    server = heldServer().threads(THREADS).start();
    int deliveries = 4 * THREADS + 4; // more than all of Jetty's threads, its own included
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < deliveries; i++) {
      byte[] body = Deliveries.pullRequest("opened", i + 1, "feature/" + i, Deliveries.SHA);
      answers.add(client.sendAsync(Deliveries.github(server, "pull_request", "held-" + i, body).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    // every delivery arrived and at least one hand-over is held: the webhook path is saturated
    await("every delivery being handled, at least one hand-over held").atMost(Duration.ofSeconds(10))
        .until(() -> server.requestsInFlight() >= deliveries && handing.get() >= 1);

    for (String path : List.of("/livez", "/healthz")) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(server.url().resolve(path)).timeout(Duration.ofSeconds(1)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(200);
    }
    assertThat(handing.get()).as("hand-overs held at once: no more than the request threads").isLessThanOrEqualTo(THREADS);

    release.countDown();
    for (CompletableFuture<HttpResponse<String>> a : answers) {
      assertThat(a.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(202);
    }
    assertThat(handing.get()).as("every held delivery was handed over once").isEqualTo(deliveries);
  }

  @Test
  void connectionsAboveTheLimitWaitUntilOneCloses() throws Exception {
    server = heldServer().maxConnections(4).start();
    for (int i = 0; i < 4; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 1000);
      sockets.add(s);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> server.connections() == 4);
    Socket fifth = new Socket();
    fifth.connect(new InetSocketAddress("127.0.0.1", server.port()), 1000); // completes in the kernel's accept queue
    sockets.add(fifth);
    OutputStream out = fifth.getOutputStream();
    out.write("GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    fifth.setSoTimeout(500);
    assertThatThrownBy(() -> fifth.getInputStream().read()).as("not accepted while 4 are open")
        .isInstanceOf(SocketTimeoutException.class);
    assertThat(server.connections()).isEqualTo(4);

    sockets.get(0).close();
    String answer = WebhookServerSlowClientTest.readToEnd(fifth);
    assertThat(answer).startsWith("HTTP/1.1 200");
  }
}
