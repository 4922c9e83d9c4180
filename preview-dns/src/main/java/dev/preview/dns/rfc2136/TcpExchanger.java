package dev.preview.dns.rfc2136;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.xbill.DNS.Message;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;

/**
 * DNS over TCP (RFC 7766) on the caller's thread: each exchange borrows a kept connection (opens
 * one when none is idle), writes the length-prefixed message in one write with TCP_NODELAY, reads
 * the answer and gives the connection back. A churn of changes is one connection, and an exchange
 * costs no hand-over to a selector thread and back (dnsjava's resolver does two per message, which
 * on a loaded machine is a scheduling wait each).
 *
 * <p>A kept connection the server closed while idle (BIND's {@code tcp-idle-timeout}) shows as an
 * EOF or reset before the first byte of the answer: that exchange is sent once more on a new
 * connection. Thread-safe: concurrent callers use different connections (at most {@link #MAX_IDLE}
 * stay open when idle).
 */
final class TcpExchanger implements AutoCloseable {
  static final int MAX_IDLE = 4;

  private final InetSocketAddress server;
  private final Duration timeout;
  private final TSIG tsig;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private final AtomicLong opened = new AtomicLong();
  private volatile boolean closed;

  TcpExchanger(InetSocketAddress server, Duration timeout, TSIG tsig) {
    this.server = server;
    this.timeout = timeout;
    this.tsig = tsig;
  }

  /** TCP connections opened so far. */
  long opened() {
    return opened.get();
  }

  /** Sends {@code query} (signed with the TSIG key, if any) and returns the answer. */
  Message send(Message query) throws IOException {
    Connection c = idle.pollFirst();
    boolean reused = c != null;
    if (c == null) {
      c = open();
    }
    try {
      Message answer;
      try {
        answer = c.exchange(query);
      } catch (Stale e) {
        c.close();
        if (!reused) {
          throw e.cause;
        }
        c = open(); // the server closed the kept connection while it was idle: once more on a new one
        answer = c.exchange(query);
      }
      release(c);
      c = null;
      return answer;
    } catch (Stale e) {
      throw e.cause;
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  private Connection open() throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
      s.connect(server, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
    } catch (IOException e) {
      s.close();
      throw e;
    }
    opened.incrementAndGet();
    return new Connection(s);
  }

  private void release(Connection c) {
    if (closed || idle.size() >= MAX_IDLE) {
      c.close();
      return;
    }
    idle.offerFirst(c);
  }

  @Override
  public void close() {
    closed = true;
    Connection c;
    while ((c = idle.pollFirst()) != null) {
      c.close();
    }
  }

  /** The connection failed before any byte of the answer arrived. */
  private static final class Stale extends Exception {
    final IOException cause;

    Stale(IOException cause) {
      super(null, cause, false, false);
      this.cause = cause;
    }
  }

  private final class Connection {
    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
      this.out = socket.getOutputStream();
    }

    Message exchange(Message query) throws IOException, Stale {
      Message m = query.clone();
      TSIGRecord signature = null;
      if (tsig != null) {
        tsig.apply(m, null);
        signature = m.getTSIG();
      }
      byte[] wire = m.toWire();
      if (wire.length > 0xFFFF) {
        throw new IOException("DNS message of " + wire.length + " bytes is too large for TCP");
      }
      byte[] framed = new byte[wire.length + 2];
      framed[0] = (byte) (wire.length >>> 8);
      framed[1] = (byte) wire.length;
      System.arraycopy(wire, 0, framed, 2, wire.length);
      int length;
      try {
        out.write(framed);
        out.flush();
        length = in.readUnsignedShort();
      } catch (SocketTimeoutException e) {
        throw e; // the server did not answer in time: not a stale connection
      } catch (IOException e) {
        throw new Stale(e); // EOF or reset before the answer began
      }
      byte[] data = new byte[length];
      in.readFully(data);
      Message answer = new Message(data);
      if (answer.getHeader().getID() != m.getHeader().getID()) {
        throw new IOException("the answer's id " + answer.getHeader().getID() + " is not the query's " + m.getHeader().getID());
      }
      if (tsig != null) {
        // as dnsjava's resolver: the outcome is kept on the message (a bad key answers NOTAUTH)
        tsig.verify(answer, data, signature);
      }
      return answer;
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // closing
      }
    }
  }
}
