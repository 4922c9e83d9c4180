package dev.preview.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import java.io.InputStream;
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
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real sockets that stall or trickle: they hold a connection, never a request thread, so probes and
 * well-behaved deliveries are answered at once, and the stalled connections are closed after the
 * timeout. (The JDK HttpServer this replaced hung every endpoint with 8 such sockets.)
 */
class WebhookServerSlowClientTest {
  static final Duration IDLE = Duration.ofSeconds(2);

  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakePullRequestSource prs = new FakePullRequestSource();
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  final List<Socket> sockets = new ArrayList<>();
  PreviewOrchestrator orchestrator;
  WebhookServer server;

  @BeforeEach
  void start() throws Exception {
    prs.put(PullRequest.open(Deliveries.KEY, Deliveries.SHA, "feature/basket", "main"));
    orchestrator = PreviewOrchestrator.builder().environment(env).notifier(new FakeScmNotifier()).pullRequests(prs)
        .app(AppTemplate.builder().hostnameTemplate("pr-{number}.preview.example.com").build()).healthCheck(url -> true).build();
    server = WebhookServer.builder().orchestrator(orchestrator)
        .source(GitHubWebhookSource.builder(Secret.of(Deliveries.SECRET)).build())
        .port(0).bind("127.0.0.1").threads(8).idleTimeout(IDLE).requestTimeout(IDLE).start();
  }

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    server.close();
    orchestrator.close();
  }

  Socket stalled(String prefix) throws Exception {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", server.port()), 1000);
    OutputStream out = s.getOutputStream();
    out.write(prefix.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    sockets.add(s);
    return s;
  }

  @Test
  void hundredStalledConnectionsDoNotDelayProbesNorASignedDeliveryAndAreClosedAfterTheTimeout() throws Exception {
    // warm the client and the server's code paths first: what is measured is the effect of the stalled sockets
    byte[] warm = "{\"zen\":\"warm\",\"hook_id\":1}".getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 20; i++) {
      client.send(HttpRequest.newBuilder(server.url().resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString());
      client.send(HttpRequest.newBuilder(server.url().resolve("/webhooks/github")).POST(HttpRequest.BodyPublishers.ofByteArray(warm))
          .header("X-GitHub-Event", "ping").header("X-Hub-Signature-256", Deliveries.sign(warm)).build(),
          HttpResponse.BodyHandlers.ofString());
    }
    List<Socket> inHeaders = new ArrayList<>();
    List<Socket> inBody = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      inHeaders.add(stalled("POST /webhooks/github HTTP/1.1\r\nHost: x\r\n"));
      inBody.add(stalled("POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\n"
          + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"action\":"));
    }
    long stalledAt = System.nanoTime();

    for (String path : List.of("/livez", "/healthz")) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(server.url().resolve(path)).timeout(Duration.ofSeconds(1)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).as(path).isLessThan(Duration.ofSeconds(1));
    }
    byte[] body = Deliveries.opened();
    long t0 = System.nanoTime();
    HttpResponse<String> delivery = client.send(HttpRequest.newBuilder(server.url().resolve("/webhooks/github"))
        .timeout(Duration.ofSeconds(1)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .header("X-GitHub-Event", "pull_request").header("X-GitHub-Delivery", UUID.randomUUID().toString())
        .header("X-Hub-Signature-256", Deliveries.sign(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(delivery.statusCode()).isEqualTo(202);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));

    // every stalled connection is closed by the server after the timeout (a body stalled gets 408 first)
    for (Socket s : inHeaders) {
      assertThat(readToEnd(s)).as("stalled in headers").doesNotContain("HTTP/1.1 2");
    }
    for (Socket s : inBody) {
      // 408 if the request timeout fires first, a bare close if the idle timeout does (both are 2 s here)
      assertThat(readToEnd(s)).as("stalled in the body").satisfiesAnyOf(r -> assertThat(r).isEmpty(), r -> assertThat(r).startsWith("HTTP/1.1 408"));
    }
    Duration closedAfter = Duration.ofNanos(System.nanoTime() - stalledAt);
    assertThat(closedAfter).isBetween(IDLE.minusMillis(200), IDLE.multipliedBy(3));
  }

  @Test
  void aBodyTrickledSlowerThanTheRequestTimeoutIs408EvenIfNeverIdle() throws Exception {
    Socket s = stalled("POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: ping\r\nContent-Length: 100\r\n\r\n");
    long t0 = System.nanoTime();
    OutputStream out = s.getOutputStream();
    // one byte every 300 ms: never idle for 2 s, but 100 bytes would take 30 s
    java.util.concurrent.ScheduledExecutorService trickle = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      trickle.scheduleAtFixedRate(() -> {
        try {
          out.write('x');
          out.flush();
        } catch (Exception e) {
          throw new IllegalStateException(e); // closed by the server: expected, ends the schedule
        }
      }, 0, 300, java.util.concurrent.TimeUnit.MILLISECONDS);
      assertThat(readToEnd(s)).startsWith("HTTP/1.1 408");
      // the request deadline, not the 30 s the body would take (the upper bound leaves room for a loaded machine)
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(IDLE.minusMillis(200), IDLE.multipliedBy(3));
    } finally {
      trickle.shutdownNow();
    }
  }

  @Test
  void headersAboveTheCapAre431() throws Exception {
    Socket s = stalled("GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
    assertThat(readToEnd(s)).startsWith("HTTP/1.1 431");
  }

  /** What the server sent until it closed the connection; fails if it did not close within 10 s. */
  static String readToEnd(Socket s) throws Exception {
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    StringBuilder b = new StringBuilder();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) > 0; ) {
        b.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server did not close the connection within 10 s; got: " + b);
    } catch (java.net.SocketException e) {
      // reset by the server: closed too
    }
    return b.toString();
  }

  static Map<String, String> none() {
    return Map.of();
  }
}
