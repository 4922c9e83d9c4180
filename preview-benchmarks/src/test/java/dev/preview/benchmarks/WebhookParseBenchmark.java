package dev.preview.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * GitHub webhook verify + parse, ns per delivery: {@code GitHubWebhookSource.handle} (HMAC check,
 * JSON parse, the {@code PullRequestEvent}) against the raw floor, an HMAC-SHA256 with a reused
 * {@code Mac} + constant-time compare + Jackson {@code readTree} of the same bytes. An interleaved
 * harness, not JMH: on 2 shared cores JMH's error bars were as large as the scores.
 */
final class WebhookParseBenchmark {
  static final String SECRET = "bench-webhook-secret";

  private WebhookParseBenchmark() {}

  static void run(Scale scale, Report report) throws Exception {
    byte[] body = GitHubPayload.pullRequest("synchronize", "acme/shop", 42, "6dcb09b5b57875f334f61aebed695e2e4193db5e");
    String sig = GitHubPayload.signature(SECRET, body);
    Map<String, String> headers = Map.of("X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "d-1",
        "X-Hub-Signature-256", sig, "Content-Type", "application/json");
    GitHubWebhookSource source = GitHubWebhookSource.builder(Secret.of(SECRET)).build();
    WebhookResult check = source.handle(WebhookRequest.of(headers, body));
    if (!(check instanceof WebhookResult.Accepted)) {
      throw new IllegalStateException("the payload is not accepted: " + check);
    }
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    ObjectMapper json = new ObjectMapper();
    byte[] expected = HexFormat.of().parseHex(sig.substring("sha256=".length()));
    int perRound = scale.n(20_000, 200);
    Object[] sink = new Object[1];
    Map<String, Interleaved.Arm> arms = new LinkedHashMap<>();
    arms.put("project", () -> {
      long t0 = System.nanoTime();
      for (int i = 0; i < perRound; i++) {
        sink[0] = source.handle(WebhookRequest.of(headers, body));
      }
      return (System.nanoTime() - t0) / (double) perRound;
    });
    arms.put("floor", () -> {
      long t0 = System.nanoTime();
      for (int i = 0; i < perRound; i++) {
        byte[] got = mac.doFinal(body);
        if (!MessageDigest.isEqual(got, expected)) {
          throw new IllegalStateException("floor HMAC mismatch");
        }
        JsonNode root = json.readTree(body);
        sink[0] = root;
      }
      return (System.nanoTime() - t0) / (double) perRound;
    });
    // where the difference goes: the project's HMAC (a new Mac per call) with the raw parse
    byte[] key = SECRET.getBytes(StandardCharsets.UTF_8);
    arms.put("hmac", () -> {
      long t0 = System.nanoTime();
      for (int i = 0; i < perRound; i++) {
        if (!dev.preview.scm.internal.Hmac.verify(key, body, sig)) {
          throw new IllegalStateException("Hmac.verify mismatch");
        }
        sink[0] = json.readTree(body);
      }
      return (System.nanoTime() - t0) / (double) perRound;
    });
    Map<String, List<Double>> r = Interleaved.run(scale.warmup() + 1, scale.rounds(), arms);
    report.add(new Report.Figure("Webhook verify + parse (GitHub pull_request, " + body.length / 1024 + " KB)",
        "verify + parse", "µs/delivery", false, "GitHubWebhookSource.handle", micros(r.get("project")),
        "reused Mac + readTree", micros(r.get("floor")), "<= 1.15x"));
    report.add(new Report.Figure("Webhook verify + parse (GitHub pull_request, " + body.length / 1024 + " KB)",
        "HMAC part", "µs/delivery", false, "project Hmac.verify (new Mac per call) + readTree", micros(r.get("hmac")),
        "reused Mac + readTree", micros(r.get("floor")), null));
    report.note("Webhook verify + parse", perRound + " deliveries per round; payload " + body.length
        + " bytes, GitHub's documented pull_request shape (pull request, head/base with full repositories, labels, milestone, sender, organization, installation).");
  }

  private static List<Double> micros(List<Double> ns) {
    return ns.stream().map(d -> d / 1000).toList();
  }
}
