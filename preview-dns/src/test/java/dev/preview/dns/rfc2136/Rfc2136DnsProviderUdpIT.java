package dev.preview.dns.rfc2136;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every case of {@link Rfc2136DnsProviderIT} (ownership, prerequisites, foreign records refused, a
 * wrong or unknown TSIG key reported as such) with {@code transport: udp}, on the real BIND9.
 */
class Rfc2136DnsProviderUdpIT extends Rfc2136DnsProviderIT {
  @BeforeAll
  static void overUdp() {
    Bind9.transport = "udp";
  }

  @AfterAll
  static void backToTcp() {
    Bind9.transport = "tcp";
  }
}
