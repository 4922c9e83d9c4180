package dev.preview.testkit;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/** Random parts of the names the kits use, so runs never meet each other's leftovers. */
final class KitIds {
  private static final SecureRandom RANDOM = new SecureRandom();

  private KitIds() {}

  /** {@code n} random lower-case hex characters. */
  static String hex(int n) {
    byte[] bytes = new byte[(n + 1) / 2];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes).substring(0, n);
  }

  /** A repository no one else uses: {@code kit-<8 hex>/app}. */
  static String repository() {
    return "kit-" + hex(8) + "/app";
  }

  /** Waits for {@code what}, checking at once and then every 50 ms, for at most {@code timeout}. */
  static ConditionFactory eventually(String what, Duration timeout) {
    return Awaitility.await(what).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).atMost(timeout);
  }
}
