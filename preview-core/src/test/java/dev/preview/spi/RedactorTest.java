package dev.preview.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactorTest {
  static final String STRIPE = "sk_live_51HxYz/+=&secret";
  static final Redactor R = Redactor.builder()
      .secrets(Map.of("STRIPE_KEY", Secret.of(STRIPE), "PGPASSWORD", Secret.of("x")))
      .secret(Secret.of("ghp_installationToken123"))
      .build();

  @Test
  void aSecretValueIsRemovedWhereverItAppearsAlsoEncoded() {
    String url = URLEncoder.encode(STRIPE, StandardCharsets.UTF_8);
    String b64 = Base64.getEncoder().encodeToString(STRIPE.getBytes(StandardCharsets.UTF_8));

    assertThat(R.redact("calling with key " + STRIPE + ", then token=ghp_installationToken123!"))
        .isEqualTo("calling with key ******, then token=******!");
    assertThat(R.redact("GET /charge?k=" + url)).isEqualTo("GET /charge?k=******");
    assertThat(R.redact("Authorization: Basic " + b64)).isEqualTo("Authorization: Basic ******");
  }

  @Test
  void theValueOfASecretNamesAssignmentIsRemovedWhateverItsLength() {
    assertThat(R.redact("PGPASSWORD=x")).isEqualTo("PGPASSWORD=******");
    assertThat(R.redact("env: HOME=/root PGPASSWORD=x PORT=8080")).isEqualTo("env: HOME=/root PGPASSWORD=****** PORT=8080");
    assertThat(R.redact("{\"PGPASSWORD\":\"x y\", \"MODE\":\"a\"}")).isEqualTo("{\"PGPASSWORD\":\"******\", \"MODE\":\"a\"}");
    assertThat(R.redact("STRIPE_KEY: something-else")).isEqualTo("STRIPE_KEY: ******");
    // only whole names: MY_PGPASSWORD is another variable
    assertThat(R.redact("MY_PGPASSWORD=x")).isEqualTo("MY_PGPASSWORD=x");
  }

  @Test
  void aShortSecretIsNotSearchedForInFreeText() {
    Redactor r = Redactor.builder().secrets(Map.of("PIN", Secret.of("a"))).build();

    assertThat(r.redact("a cat and a dog")).isEqualTo("a cat and a dog");
    assertThat(r.redact("PIN=a")).isEqualTo("PIN=******");
  }

  @Test
  void theLongestValueWinsSoNoPartOfALongerSecretIsLeft() {
    Redactor r = Redactor.builder().secret(Secret.of("abcdef")).secret(Secret.of("abcdefghijkl")).build();

    assertThat(r.redact("x abcdefghijkl y abcdef")).isEqualTo("x ****** y ******");
  }

  @Test
  void exceptionsLoseTheSecretInMessageCauseAndSuppressedButKeepTheirStack() {
    IllegalStateException cause = new IllegalStateException("driver said password " + STRIPE + " is wrong");
    RuntimeException e = new RuntimeException("connect failed: " + STRIPE, cause);
    e.addSuppressed(new IllegalArgumentException("STRIPE_KEY=abc"));

    Throwable r = R.redact(e);

    assertThat(r.toString()).isEqualTo("java.lang.RuntimeException: connect failed: ******");
    assertThat(r.getCause().getMessage()).isEqualTo("driver said password ****** is wrong");
    assertThat(r.getSuppressed()[0].getMessage()).isEqualTo("STRIPE_KEY=******");
    assertThat(r.getStackTrace()).isEqualTo(e.getStackTrace());
    RuntimeException clean = new RuntimeException("nothing here");
    assertThat(R.redact(clean)).isSameAs(clean);
  }

  @Test
  void linesPlusAndToStringNeverShowAValue() {
    Redactor r = Redactor.none().plus(R).plus(Redactor.of(Map.of("OTHER", Secret.of("other-secret"))));

    assertThat(r.redact(List.of("a " + STRIPE, "other-secret"))).containsExactly("a ******", "******");
    assertThat(r.toString()).doesNotContain(STRIPE).contains("OTHER", "STRIPE_KEY");
    assertThat(Redactor.none().redact("anything " + STRIPE)).isEqualTo("anything " + STRIPE);
  }

  @Test
  void aReplacementCanNameWhereTheValueCameFrom() {
    Redactor r = Redactor.builder().value("S3CR3T-value", "${DB_PASSWORD}").build();

    assertThat(r.redact("database.password: must not contain spaces, got \"S3CR3T-value\""))
        .isEqualTo("database.password: must not contain spaces, got \"${DB_PASSWORD}\"");
  }
}
