package dev.preview.benchmarks;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * The app a preview runs in {@link GatewayBenchmark} (started by the {@code local} provider as its
 * own JVM): on {@code PORT}, {@code /health} answers {@code ok} (2 bytes) and {@code /big} a 1 MiB
 * body built once, both with a Content-Length.
 */
public final class GatewayApp {
  static final int BIG = 1 << 20;

  private GatewayApp() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(System.getenv("PORT"));
    byte[] big = new byte[BIG];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) ('a' + i % 26);
    }
    byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
    Server server = new Server();
    ServerConnector c = new ServerConnector(server, 1, 1);
    c.setHost("127.0.0.1");
    c.setPort(port);
    server.addConnector(c);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getPath();
        byte[] body = "/big".equals(path) ? big : "/health".equals(path) ? ok : null;
        if (body == null) {
          response.setStatus(404);
          body = new byte[0];
        }
        response.getHeaders().put("Content-Type", body == big ? "application/octet-stream" : "text/plain");
        response.getHeaders().put("Content-Length", body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
      }
    });
    server.start();
    server.join();
  }
}
