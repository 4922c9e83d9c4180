package dev.preview.server.gateway;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.eclipse.jetty.websocket.core.server.WebSocketUpgradeHandler;

/**
 * The app a preview runs in the gateway's tests (started by the local provider as its own process):
 * listens on {@code PORT}; {@code /health}; {@code /echo} answers what it received (path, query, the
 * headers the gateway sets or must strip); {@code /big?bytes=N} streams N bytes; {@code /slow} sends a
 * first line, then the rest after 1.5 s; {@code /upload} answers {@code started} at once, then the size
 * and SHA-256 of the request body once it has all arrived; {@code /ws} is a WebSocket echo (sub-protocol {@code echo});
 * {@code /} is an HTML page naming the preview.
 */
public final class GatewayTestApp {
  private GatewayTestApp() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(System.getenv("PORT"));
    String key = System.getenv().getOrDefault("PREVIEW_KEY", "?");
    Server server = new Server();
    ServerConnector c = new ServerConnector(server);
    c.setHost("127.0.0.1");
    c.setPort(port);
    server.addConnector(c);
    WebSocketUpgradeHandler ws = new WebSocketUpgradeHandler(WebSocketServerComponents.ensureWebSocketComponents(server),
        h -> h.addMapping("/ws", (req, resp, cb) -> {
          if (req.hasSubProtocol("echo")) {
            resp.setAcceptedSubProtocol("echo");
          }
          return new Echo();
        }));
    ws.setHandler(new App(key));
    server.setHandler(ws);
    server.start();
    System.out.println("gateway test app " + key + " listening on " + port);
    server.join();
  }

  static final class App extends Handler.Abstract {
    private final String key;

    App(String key) {
      this.key = key;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String path = request.getHttpURI().getPath();
      switch (path) {
        case "/health" -> text(response, callback, "ok");
        case "/echo", "/deep/echo" -> {
          StringBuilder sb = new StringBuilder();
          sb.append("key=").append(key).append('\n');
          sb.append("path=").append(path).append('\n');
          sb.append("query=").append(request.getHttpURI().getQuery()).append('\n');
          for (String h : new String[] {"Host", "X-Forwarded-Prefix", "X-Forwarded-Host", "X-Forwarded-Proto", "Cookie",
              "Authorization", "X-Preview-Bypass", "Via"}) {
            sb.append(h.toLowerCase()).append('=').append(request.getHeaders().get(h)).append('\n');
          }
          text(response, callback, sb.toString());
        }
        case "/big" -> {
          int n = Integer.parseInt(Request.extractQueryParameters(request).getValue("bytes"));
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
          response.getHeaders().put(HttpHeader.CONTENT_LENGTH, n);
          byte[] bytes = new byte[n];
          for (int i = 0; i < n; i++) {
            bytes[i] = (byte) ('a' + i % 26);
          }
          response.write(true, ByteBuffer.wrap(bytes), callback);
        }
        case "/slow" -> {
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
          response.write(false, ByteBuffer.wrap("first\n".getBytes(StandardCharsets.UTF_8)), Callback.from(() -> new Thread(() -> {
            try {
              Thread.sleep(1500);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            response.write(true, ByteBuffer.wrap("last\n".getBytes(StandardCharsets.UTF_8)), callback);
          }).start(), callback::failed));
        }
        case "/upload" -> {
          // answers "started" at once, then reads the body as it streams in: the hash and size of what arrived
          String framing = request.getHeaders().get(HttpHeader.TRANSFER_ENCODING) != null ? "chunked"
              : "length " + request.getHeaders().get(HttpHeader.CONTENT_LENGTH);
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
          response.write(false, ByteBuffer.wrap("started\n".getBytes(StandardCharsets.UTF_8)), Callback.from(() -> new Thread(() -> {
            try (java.io.InputStream in = Request.asInputStream(request)) {
              java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
              byte[] buf = new byte[64 * 1024];
              long n = 0;
              for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                sha.update(buf, 0, r);
                n += r;
              }
              String result = "bytes=" + n + " sha256=" + java.util.HexFormat.of().formatHex(sha.digest()) + " framing=" + framing + "\n";
              response.write(true, ByteBuffer.wrap(result.getBytes(StandardCharsets.UTF_8)), callback);
            } catch (Exception e) {
              callback.failed(e);
            }
          }).start(), callback::failed));
        }
        case "/" -> {
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html;charset=utf-8");
          response.write(true, ByteBuffer.wrap(("<!doctype html><html><head><title>app " + key + "</title></head><body><h1 id=\"app\">Preview app "
              + key + "</h1></body></html>").getBytes(StandardCharsets.UTF_8)), callback);
        }
        default -> {
          response.setStatus(404);
          text(response, callback, "app: no " + path);
        }
      }
      return true;
    }

    private static void text(Response response, Callback callback, String body) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
      response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    }
  }

  /** Sends every text or binary frame back. */
  static final class Echo implements FrameHandler {
    private CoreSession session;

    @Override
    public void onOpen(CoreSession s, Callback callback) {
      this.session = s;
      callback.succeeded();
      s.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
      if (frame.getOpCode() == OpCode.TEXT || frame.getOpCode() == OpCode.BINARY || frame.getOpCode() == OpCode.CONTINUATION) {
        ByteBuffer copy = ByteBuffer.allocate(frame.getPayloadLength());
        if (frame.hasPayload()) {
          copy.put(frame.getPayload().slice());
        }
        copy.flip();
        session.sendFrame(new Frame(frame.getOpCode(), frame.isFin(), copy), Callback.from(() -> {
          callback.succeeded();
          session.demand();
        }, callback::failed), false);
        return;
      }
      callback.succeeded();
      if (frame.getOpCode() != OpCode.CLOSE) {
        session.demand();
      }
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
      callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus closeStatus, Callback callback) {
      callback.succeeded();
    }
  }
}
