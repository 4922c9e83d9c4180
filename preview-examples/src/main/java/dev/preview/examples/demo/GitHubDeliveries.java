package dev.preview.examples.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Plays GitHub for the demo: builds {@code pull_request} deliveries shaped like GitHub's (the fields
 * {@code GitHubWebhookSource} reads, plus the usual ones around them), signs the raw body with the
 * webhook secret ({@code X-Hub-Signature-256: sha256=<hex HMAC-SHA256>}) and POSTs them with
 * {@code X-GitHub-Event} and a fresh {@code X-GitHub-Delivery} id, as GitHub does.
 */
final class GitHubDeliveries {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final URI endpoint;
  private final Secret secret;

  GitHubDeliveries(URI endpoint, Secret secret) {
    this.endpoint = Objects.requireNonNull(endpoint);
    this.secret = Objects.requireNonNull(secret);
  }

  /** What the server answered to one delivery. */
  record Delivery(String id, String action, int status, String body) {}

  /** Sends {@code action} ({@code opened}, {@code synchronize}, {@code closed}) of {@code pr}, signed with the right secret. */
  Delivery send(String action, PullRequest pr, String before) {
    return post(action, pr, before, null, secret);
  }

  /** {@code labeled} of {@code pr} (at its {@code headSha}, which may be an older commit than the PR's head): GitHub names the label added. */
  Delivery labeled(PullRequest pr, String label) {
    return post("labeled", pr, null, label, secret);
  }

  /** The same delivery, signed with another secret: what a forger without the webhook secret can send. */
  Delivery forge(String action, PullRequest pr, Secret wrongSecret) {
    return post(action, pr, null, null, wrongSecret);
  }

  private Delivery post(String action, PullRequest pr, String before, String label, Secret signWith) {
    String id = UUID.randomUUID().toString();
    byte[] body = payload(action, pr, before, label);
    HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/preview-demo")
        .header("X-GitHub-Event", "pull_request")
        .header("X-GitHub-Delivery", id)
        .header("X-GitHub-Hook-ID", "424242")
        .header("X-Hub-Signature-256", signature(signWith, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    try {
      HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new Delivery(id, action, r.statusCode(), r.body());
    } catch (IOException e) {
      return new Delivery(id, action, -1, "no answer: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Delivery(id, action, -1, "interrupted");
    }
  }

  /** {@code sha256=<hex>} over the raw body, exactly what GitHub puts in {@code X-Hub-Signature-256}. */
  static String signature(Secret secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.reveal().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  /** A {@code pull_request} payload as GitHub sends it (trimmed to the usual fields). */
  static byte[] payload(String action, PullRequest pr, String before) {
    return payload(action, pr, before, null);
  }

  /** The same, with the {@code label} a {@code labeled} delivery names (null: none). */
  static byte[] payload(String action, PullRequest pr, String before, String label) {
    String repository = pr.key().repository();
    String owner = repository.substring(0, repository.indexOf('/'));
    String name = repository.substring(repository.indexOf('/') + 1);
    int number = pr.key().number();
    boolean closed = pr.state() != PullRequest.State.OPEN;
    boolean merged = pr.state() == PullRequest.State.MERGED;
    String now = Instant.now().toString();

    ObjectNode root = JSON.createObjectNode();
    root.put("action", action);
    root.put("number", number);
    if (before != null) {
      root.put("before", before);
      root.put("after", pr.headSha());
    }
    if (label != null) {
      root.putObject("label").put("name", label).put("color", "ededed").put("default", false);
    }
    ObjectNode p = root.putObject("pull_request");
    p.put("url", "https://api.github.com/repos/" + repository + "/pulls/" + number);
    p.put("html_url", "https://github.com/" + repository + "/pull/" + number);
    p.put("number", number);
    p.put("state", closed ? "closed" : "open");
    p.put("locked", false);
    p.put("title", "Demo change " + number + " (" + pr.headRef() + ")");
    p.putObject("user").put("login", pr.author().isEmpty() ? "octocat" : pr.author()).put("type", "User");
    p.put("created_at", now);
    p.put("updated_at", now);
    if (closed) {
      p.put("closed_at", now);
    } else {
      p.putNull("closed_at");
    }
    if (merged) {
      p.put("merged_at", now);
      p.put("merge_commit_sha", pr.headSha());
    } else {
      p.putNull("merged_at");
      p.putNull("merge_commit_sha");
    }
    var labels = p.putArray("labels");
    pr.labels().forEach(l -> labels.addObject().put("name", l).put("color", "ededed").put("default", false));
    p.put("draft", pr.draft());
    ObjectNode head = p.putObject("head");
    head.put("label", owner + ":" + pr.headRef()).put("ref", pr.headRef()).put("sha", pr.headSha());
    repo(head.putObject("repo"), repository, owner, name);
    ObjectNode base = p.putObject("base");
    base.put("label", owner + ":" + pr.baseRef()).put("ref", pr.baseRef())
        .put("sha", "9049f1265b7d61be4a8904a9a27120d2064dab3b");
    repo(base.putObject("repo"), repository, owner, name);
    p.put("author_association", "MEMBER");
    p.put("merged", merged);
    p.putNull("mergeable");
    p.put("commits", 1);
    repo(root.putObject("repository"), repository, owner, name);
    root.putObject("sender").put("login", "octocat").put("type", "User");
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void repo(ObjectNode r, String repository, String owner, String name) {
    r.put("name", name).put("full_name", repository).put("private", false).put("fork", false)
        .put("default_branch", "main").put("html_url", "https://github.com/" + repository);
    r.putObject("owner").put("login", owner).put("type", "Organization");
  }
}
