package dev.preview.server;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.spi.PreviewKey;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What the webhook server tests send and read: GitHub {@code pull_request} payloads, their
 * {@code X-Hub-Signature-256} and the signed request.
 */
final class Deliveries {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "gh-webhook-secret";
  static final String GL_TOKEN = "gl-webhook-token";
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final String BASE_SHA = "9049f1265b7d61be4a8904a9a27120d2064dab3b";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  private Deliveries() {}

  /** {@code opened} of {@link #KEY} at {@link #SHA}, from {@code feature/basket} into {@code main}. */
  static byte[] opened() {
    return pullRequest("opened", 42, "feature/basket", SHA);
  }

  /** A {@code pull_request} delivery of an open, non-draft PR of {@code acme/shop} (the fields GitHubWebhookSource reads). */
  static byte[] pullRequest(String action, int number, String headRef, String sha) {
    ObjectNode root = JSON.createObjectNode().put("action", action).put("number", number);
    ObjectNode pr = root.putObject("pull_request").put("number", number).put("state", "open").put("draft", false).put("merged", false);
    pr.putObject("user").put("login", "octocat");
    pr.putArray("labels");
    ObjectNode head = pr.putObject("head").put("ref", headRef).put("sha", sha);
    head.putObject("repo").put("full_name", "acme/shop");
    ObjectNode base = pr.putObject("base").put("ref", "main").put("sha", BASE_SHA);
    base.putObject("repo").put("full_name", "acme/shop");
    root.putObject("repository").put("full_name", "acme/shop").put("default_branch", "main");
    root.putObject("sender").put("login", "octocat");
    return root.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** {@code sha256=<hex HMAC-SHA256>} of the raw body with {@link #SECRET}, as GitHub signs it. */
  static String sign(byte[] body) {
    return sign(SECRET, body);
  }

  /** {@code sha256=<hex HMAC-SHA256>} of the raw body with {@code secret}. */
  static String sign(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A POST of {@code body} to the server's {@code /webhooks/github}, signed with {@link #SECRET}. */
  static HttpRequest.Builder github(WebhookServer server, String event, String delivery, byte[] body) {
    return github(server, event, delivery, body, sign(body));
  }

  /** The same with the given {@code X-Hub-Signature-256} (a wrong one, or one computed once for many sends). */
  static HttpRequest.Builder github(WebhookServer server, String event, String delivery, byte[] body, String signature) {
    return HttpRequest.newBuilder(server.url().resolve("/webhooks/github"))
        .header("X-GitHub-Event", event).header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", signature).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }
}
