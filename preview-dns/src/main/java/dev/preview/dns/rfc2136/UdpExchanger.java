package dev.preview.dns.rfc2136;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import org.xbill.DNS.Message;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;

/**
 * DNS over UDP on the caller's thread: each exchange on a fresh socket (a new random source port,
 * as dnsjava's resolver does), connected to the server so nothing else is read, waiting for the
 * answer with the query's id within the timeout. The caller redoes a truncated answer over TCP.
 * Thread-safe (nothing is shared between exchanges).
 */
final class UdpExchanger {
  private final InetSocketAddress server;
  private final Duration timeout;
  private final TSIG tsig;

  /** @param tsig the key to sign with, or null */
  UdpExchanger(InetSocketAddress server, Duration timeout, TSIG tsig) {
    this.server = server;
    this.timeout = timeout;
    this.tsig = tsig;
  }

  /** Sends {@code query} (signed with the TSIG key, if any) and returns the answer. */
  Message send(Message query) throws IOException {
    Message m = query.clone();
    TSIGRecord signature = null;
    if (tsig != null) {
      tsig.apply(m, null);
      signature = m.getTSIG();
    }
    byte[] wire = m.toWire();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.connect(server);
      socket.send(new DatagramPacket(wire, wire.length));
      byte[] buffer = new byte[65535];
      while (true) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms");
        }
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.receive(packet);
        byte[] data = Arrays.copyOf(buffer, packet.getLength());
        Message answer;
        try {
          answer = new Message(data);
        } catch (IOException e) {
          continue; // not a DNS message: keep waiting for the answer
        }
        if (answer.getHeader().getID() != m.getHeader().getID()) {
          continue; // an answer to something else (a late one of an earlier query): keep waiting
        }
        if (tsig != null) {
          tsig.verify(answer, data, signature); // as dnsjava's resolver: the outcome stays on the message
        }
        return answer;
      }
    }
  }
}
