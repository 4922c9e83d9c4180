package dev.preview.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link HealthCheck#probe}: why a probe was not healthy, in words, against real sockets on this machine. */
class HealthCheckTest {
  private final java.util.List<HttpServer> servers = new java.util.ArrayList<>();
  private ServerSocket silent;

  @AfterEach
  void stop() throws Exception {
    servers.forEach(s -> s.stop(0));
    if (silent != null) {
      silent.close();
    }
  }

  private URI serve(int status) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      if (status >= 300 && status < 400) {
        exchange.getResponseHeaders().add("Location", "/login");
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
    servers.add(server);
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/health");
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  @Test
  void a2xxIsHealthyAndOtherStatusesAreNamedWithTheirPhrase() throws Exception {
    HealthCheck http = HealthCheck.http(Duration.ofSeconds(2));
    URI ok = serve(204);
    assertThat(http.probe(ok).healthy()).isTrue();
    assertThat(http.healthy(ok)).isTrue();

    URI missing = serve(404);
    HealthCheck.Probe notFound = http.probe(missing);
    assertThat(notFound.healthy()).isFalse();
    assertThat(notFound.reason()).isEqualTo("GET /health answered 404 Not Found (expected 2xx)");
    assertThat(http.healthy(missing)).isFalse();

    assertThat(http.probe(serve(302)).reason())
        .isEqualTo("GET /health answered 302 Found (expected 2xx; redirects are not followed)");
    assertThat(http.probe(serve(599)).reason()).isEqualTo("GET /health answered 599 (expected 2xx)");
  }

  @Test
  void aRefusedConnectionSaysNothingListensThere() throws Exception {
    int port = freePort();
    HealthCheck.Probe p = HealthCheck.http(Duration.ofSeconds(2)).probe(URI.create("http://127.0.0.1:" + port + "/health"));
    assertThat(p.reason())
        .isEqualTo("connection refused on 127.0.0.1:" + port + " (nothing listens: the app is not started or crashed)");
  }

  @Test
  void aServerThatNeverAnswersTimesOutAfterTheRequestTimeout() throws Exception {
    silent = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1")); // connects, never answers
    int port = silent.getLocalPort();
    HealthCheck.Probe p = HealthCheck.http(Duration.ofMillis(300)).probe(URI.create("http://127.0.0.1:" + port + "/health"));
    assertThat(p.reason()).isEqualTo("GET /health timed out after 300 ms (127.0.0.1:" + port
        + " accepted the connection but sent no answer)");
    assertThat(HealthCheck.http(Duration.ofSeconds(5)).probe(URI.create("http://127.0.0.1:" + port + "/h")).reason())
        .as("whole seconds").startsWith("GET /h timed out after 5 s");
  }

  @Test
  void httpsToAPlainHttpServerIsATlsHandshakeFailure() throws Exception {
    silent = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
    int port = silent.getLocalPort();
    // every connection gets a plain HTTP answer: the JDK client may retry a GET on a new connection
    // when the first one is closed under it, and that one must not wait for an answer forever
    Thread plain = new Thread(() -> {
      while (!silent.isClosed()) {
        try (java.net.Socket s = silent.accept()) {
          s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes());
          s.getOutputStream().flush();
          s.getInputStream().read(new byte[512]); // let the client read the answer before the close
        } catch (java.io.IOException e) {
          // the test is over, or this connection was
        }
      }
    });
    plain.setDaemon(true);
    plain.start();
    assertThat(HealthCheck.http(Duration.ofSeconds(10)).probe(URI.create("https://127.0.0.1:" + port + "/health")).reason())
        .startsWith("TLS handshake failed with 127.0.0.1:" + port + ": ");
  }

  @Test
  void aLambdaCheckGetsTheSameWordsThroughTheDefaultProbe() {
    URI url = URI.create("http://127.0.0.1:41234/health");
    assertThat(((HealthCheck) u -> false).probe(url).reason()).isEqualTo("the health check of " + url + " answered not healthy");
    assertThat(((HealthCheck) u -> {
      throw new ConnectException("Connection refused");
    }).probe(url).reason()).isEqualTo("connection refused on 127.0.0.1:41234 (nothing listens: the app is not started or crashed)");
    assertThat(((HealthCheck) u -> true).probe(url).healthy()).isTrue();
  }
}
