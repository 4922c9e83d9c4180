package dev.preview.server.gateway;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * One WebSocket connection through the gateway: Jetty's {@code ProxyHandler} does not tunnel upgrades
 * (it drops {@code Upgrade} as a hop-by-hop header), so the gateway accepts the browser's WebSocket
 * with Jetty's WebSocket core server and opens its own to the preview with the core client, then
 * copies frames both ways. Flow control: a side is asked for its next frame only once the previous
 * one was written to the other side, so a slow reader slows the writer instead of filling memory.
 * Pings are answered by each side's own session; closes are passed on with their code and reason.
 */
final class WebSocketBridge {
  /** The handler of one side; {@code peer} is the other side's. */
  static final class Side implements FrameHandler {
    private final String name;
    private final AtomicReference<CoreSession> session = new AtomicReference<>();
    private volatile Side peer;
    private volatile boolean started;

    Side(String name) {
      this.name = name;
    }

    static void pair(Side a, Side b) {
      a.peer = b;
      b.peer = a;
    }

    /** Starts reading once both sides are open. */
    void start() {
      started = true;
      CoreSession s = session.get();
      if (s != null) {
        s.demand();
      }
    }

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
      session.set(coreSession);
      callback.succeeded();
      if (started) {
        coreSession.demand();
      }
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
      CoreSession self = session.get();
      CoreSession other = peer == null ? null : peer.session.get();
      byte op = frame.getOpCode();
      if (op == OpCode.CLOSE) {
        CloseStatus status = new CloseStatus(frame.getPayload());
        callback.succeeded(); // our session answers the close
        if (other != null && other.isOutputOpen()) {
          other.close(status.getCode(), status.getReason(), Callback.NOOP);
        }
        return;
      }
      if (op == OpCode.PING || op == OpCode.PONG || other == null) {
        callback.succeeded();
        self.demand();
        return;
      }
      ByteBuffer copy = ByteBuffer.allocate(frame.getPayloadLength());
      if (frame.hasPayload()) {
        copy.put(frame.getPayload().slice());
      }
      copy.flip();
      Frame out = new Frame(op, frame.isFin(), copy);
      other.sendFrame(out, Callback.from(() -> {
        callback.succeeded();
        self.demand();
      }, x -> {
        callback.failed(x);
        self.abort();
      }), false);
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
      CoreSession other = peer == null ? null : peer.session.get();
      if (other != null && other.isOutputOpen()) {
        other.close(CloseStatus.SERVER_ERROR, "the other side failed", Callback.NOOP);
      }
      callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus closeStatus, Callback callback) {
      CoreSession other = peer == null ? null : peer.session.get();
      if (other != null && other.isOutputOpen()) {
        int code = closeStatus.getCode();
        boolean sendable = CloseStatus.isTransmittableStatusCode(code);
        other.close(sendable ? code : CloseStatus.NORMAL, sendable ? closeStatus.getReason() : null, Callback.NOOP);
      }
      callback.succeeded();
    }

    @Override
    public String toString() {
      return "WebSocketBridge." + name;
    }
  }

  private WebSocketBridge() {}
}
