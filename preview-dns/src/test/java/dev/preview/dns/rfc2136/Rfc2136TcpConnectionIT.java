package dev.preview.dns.rfc2136;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.DnsRecord;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * On the real BIND9, through a relay that counts what goes over the wire: a churn over TCP (records
 * created with their mark, then deleted) is one TCP connection for the whole churn and one message
 * per change (what {@code nsupdate -v} needs one connection per message for), and a foreign record
 * is still refused over that connection.
 */
class Rfc2136TcpConnectionIT {
  static final PreviewKey OWNER = PreviewKey.pr("acme/shop", 11);

  Relay relay;
  Rfc2136DnsProvider dns;

  @BeforeEach
  void setUp() throws IOException {
    Bind9.require();
    relay = new Relay(Bind9.PORT);
    dns = Bind9.provider(Map.of("port", relay.port(), "transport", "tcp"));
  }

  @AfterEach
  void tearDown() throws IOException {
    dns.close();
    relay.close();
  }

  @Test
  void aChurnIsOneTcpConnectionAndOneMessagePerChange() {
    int n = 20;
    List<DnsRecord> records = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      records.add(new DnsRecord(Bind9.freshHost("tcp"), DnsRecord.Type.A, "192.0.2." + (i + 1), 60,
          PreviewKey.pr("acme/shop", 100 + i)));
    }
    long m0 = dns.messagesSent();

    records.forEach(dns::upsert);
    assertThat(Bind9.answers(records.get(n - 1).hostname(), Type.A)).containsExactly("192.0.2." + n);
    records.forEach(r -> dns.delete(r.hostname(), r.owner()));

    assertThat(Bind9.query(records.get(0).hostname(), Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(dns.messagesSent() - m0).as("one UPDATE per change").isEqualTo(2L * n);
    assertThat(relay.messages()).as("DNS messages over the wire").isEqualTo(2 * n);
    assertThat(relay.connections()).as("TCP connections for the whole churn").isEqualTo(1);
    assertThat(dns.tcpConnectionsOpened()).isEqualTo(1);
  }

  @Test
  void aConnectionTheServerClosedWhileIdleIsReplacedAndTheChangeStillMadeOnce() throws IOException {
    String host = Bind9.freshHost("tcp-idle");
    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.40", 60, OWNER));
    relay.dropConnections(); // as BIND does after tcp-idle-timeout
    long m0 = dns.messagesSent();

    dns.upsert(new DnsRecord(host, DnsRecord.Type.A, "192.0.2.41", 60, OWNER));

    assertThat(Bind9.answers(host, Type.A)).containsExactly("192.0.2.41");
    assertThat(dns.messagesSent() - m0).as("still one UPDATE").isEqualTo(1);
    assertThat(relay.connections()).as("the closed one, then a new one").isEqualTo(2);
    dns.delete(host, OWNER);
    assertThat(Bind9.query(host, Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void aForeignRecordIsStillRefusedOverTheSameConnection() {
    String mine = Bind9.freshHost("tcp-mine");
    String foreign = Bind9.freshHost("tcp-foreign");
    Bind9.addForeign(foreign, Type.A, "198.51.100.9");
    try {
      dns.upsert(new DnsRecord(mine, DnsRecord.Type.A, "192.0.2.30", 60, OWNER));
      assertThatThrownBy(() -> dns.upsert(new DnsRecord(foreign, DnsRecord.Type.A, "192.0.2.31", 60, OWNER)))
          .isInstanceOf(ProviderException.class).hasMessageContaining(foreign);
      dns.delete(foreign, OWNER);
      assertThat(Bind9.answers(foreign, Type.A)).as("not ours: left alone").containsExactly("198.51.100.9");
      dns.delete(mine, OWNER);
      assertThat(relay.connections()).isEqualTo(1);
    } finally {
      Bind9.deleteForeign(foreign);
    }
  }

  /** Forwards TCP from a local port to BIND's, counting connections and client messages (2-byte length prefix). */
  static final class Relay implements AutoCloseable {
    private final ServerSocket server;
    private final int target;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger messages = new AtomicInteger();
    private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

    Relay(int target) throws IOException {
      this.target = target;
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread accept = new Thread(this::accept, "relay-accept");
      accept.setDaemon(true);
      accept.start();
    }

    int port() {
      return server.getLocalPort();
    }

    int connections() {
      return connections.get();
    }

    int messages() {
      return messages.get();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          connections.incrementAndGet();
          Socket upstream = new Socket(Bind9.HOST, target);
          client.setTcpNoDelay(true);
          upstream.setTcpNoDelay(true);
          sockets.add(client);
          sockets.add(upstream);
          pump("relay-up", client.getInputStream(), upstream.getOutputStream(), true);
          pump("relay-down", upstream.getInputStream(), client.getOutputStream(), false);
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void pump(String name, InputStream in, OutputStream out, boolean count) {
      Thread t = new Thread(() -> {
        DataInputStream data = new DataInputStream(in);
        try {
          while (true) {
            int len = data.readUnsignedShort();
            byte[] message = new byte[len];
            data.readFully(message);
            if (count) {
              messages.incrementAndGet();
            }
            byte[] framed = new byte[len + 2]; // one write: two small ones would meet Nagle and delayed ACKs
            framed[0] = (byte) (len >> 8);
            framed[1] = (byte) len;
            System.arraycopy(message, 0, framed, 2, len);
            out.write(framed);
            out.flush();
          }
        } catch (EOFException e) {
          // the peer closed
        } catch (IOException e) {
          // closed by close()
        } finally {
          try {
            out.close();
          } catch (IOException ignored) {
            // closing
          }
        }
      }, name);
      t.setDaemon(true);
      t.start();
    }

    /** Closes every relayed connection (both sides), as a server closing idle connections. */
    void dropConnections() throws IOException {
      for (Socket s : sockets) {
        s.close();
      }
      sockets.clear();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
