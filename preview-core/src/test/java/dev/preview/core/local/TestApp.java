package dev.preview.core.local;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** A tiny app for the tests: listens on PORT; {@code /health} and {@code /env/NAME} (the value of an env var). */
public final class TestApp {
  private TestApp() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(System.getenv("PORT"));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      String body;
      int code = 200;
      if (path.startsWith("/env/")) {
        String v = System.getenv(path.substring(5));
        body = v == null ? "<unset>" : v;
      } else {
        body = "ok";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(code, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    server.start();
    System.out.println("test app listening on " + port);
  }
}
