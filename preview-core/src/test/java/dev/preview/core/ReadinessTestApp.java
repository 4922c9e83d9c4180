package dev.preview.core;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * An app for the readiness tests, run as a real process by the local provider; what it does depends
 * on the revision it is given ({@code PREVIEW_REVISION}, a hex SHA):
 * <ul>
 *   <li>{@code dead...}: prints two lines (one with its {@code API_TOKEN}), listens for nothing, exits with code 3 after 1 s;</li>
 *   <li>{@code 404...}: listens on {@code PORT} and answers 404 to everything;</li>
 *   <li>{@code de1a...}: waits 1.5 s, then listens and answers 200;</li>
 *   <li>anything else: listens at once and answers 200.</li>
 * </ul>
 */
public final class ReadinessTestApp {
  private ReadinessTestApp() {}

  public static void main(String[] args) throws Exception {
    String revision = System.getenv("PREVIEW_REVISION");
    int port = Integer.parseInt(System.getenv("PORT"));
    if (revision.startsWith("dead")) {
      System.out.println("starting " + revision + " with token " + System.getenv("API_TOKEN"));
      System.out.println("boom: cannot reach the database");
      System.out.flush();
      Thread.sleep(1000);
      System.exit(3);
    }
    if (revision.startsWith("de1a")) {
      Thread.sleep(1500);
    }
    int code = revision.startsWith("404") ? 404 : 200;
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/", exchange -> {
      byte[] body = (code == 200 ? "ok" : "no such page").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(code, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    System.out.println("readiness test app " + revision + " listening on " + port);
  }

}
