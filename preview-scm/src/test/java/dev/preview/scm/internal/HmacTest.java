package dev.preview.scm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class HmacTest {
  // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!"
  private static final byte[] SECRET = "It's a Secret to Everybody".getBytes(StandardCharsets.UTF_8);
  private static final byte[] BODY = "Hello, World!".getBytes(StandardCharsets.UTF_8);
  private static final String SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  @Test
  void theKeyedVerifierMatchesGitHubsDocumentedSignatureEveryTime() {
    Hmac.Key key = Hmac.key(SECRET);
    assertThat(Hmac.sign(SECRET, BODY)).isEqualTo(SIGNATURE);
    for (int i = 0; i < 3; i++) { // the thread's Mac is reused: each call must start from a clean state
      assertThat(key.sign(BODY)).isEqualTo(SIGNATURE);
      assertThat(key.verify(BODY, SIGNATURE)).isTrue();
      assertThat(key.verify(BODY, SIGNATURE.toUpperCase(java.util.Locale.ROOT).replace("SHA256=", "sha256="))).isTrue();
    }
  }

  @Test
  void aTamperedBodyOrSignatureOrAMissingHeaderIsRefused() {
    Hmac.Key key = Hmac.key(SECRET);
    assertThat(key.verify("Hello, World?".getBytes(StandardCharsets.UTF_8), SIGNATURE)).isFalse();
    assertThat(key.verify(BODY, SIGNATURE.substring(0, SIGNATURE.length() - 1) + "0")).isFalse();
    assertThat(key.verify(BODY, SIGNATURE.substring(7))).isFalse();
    assertThat(key.verify(BODY, null)).isFalse();
    assertThat(Hmac.key("another secret".getBytes(StandardCharsets.UTF_8)).verify(BODY, SIGNATURE)).isFalse();
    // a failed check leaves the Mac clean for the next one
    assertThat(key.verify(BODY, SIGNATURE)).isTrue();
  }

  @Test
  void oneKeyVerifiesOnManyThreadsAtOnce() throws Exception {
    Hmac.Key key = Hmac.key(SECRET);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        byte[] body = ("delivery " + i).getBytes(StandardCharsets.UTF_8);
        String signature = Hmac.sign(SECRET, body);
        results.add(pool.submit(() -> key.verify(body, signature) && !key.verify(body, SIGNATURE)));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
