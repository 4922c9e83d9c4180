package dev.preview.scm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.Fixtures;
import dev.preview.scm.WebhookRequest;
import dev.preview.scm.WebhookResult;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.scm.internal.ApiClient;
import dev.preview.scm.internal.Hmac;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Webhook verify+parse throughput, with its two parts measured alone in the same run as baselines:
 * HMAC-SHA256 of the body, and Jackson parsing the body into a tree. Payload: the vendor-shaped
 * {@code pull_request opened} fixture.
 *
 * <p>Run (see the module README): build the test classpath, then {@code java -cp ... org.openjdk.jmh.Main WebhookBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class WebhookBenchmark {
  private static final byte[] KEY = "benchmark-secret".getBytes(StandardCharsets.UTF_8);
  /** Size of the payload: the fixture as is (about 2.4 KB), or with a 25 KB description like a real, chatty PR. */
  @Param({"fixture", "25kb"})
  public String payload;

  private byte[] body;
  private WebhookRequest request;
  private GitHubWebhookSource source;

  @Setup
  public void setup() {
    com.fasterxml.jackson.databind.node.ObjectNode root = Fixtures.load("github/pull_request.opened.json");
    if (payload.equals("25kb")) {
      Fixtures.obj(root, "/pull_request").put("body", "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(440));
    }
    body = Fixtures.bytes(root);
    request = WebhookRequest.of(Map.of("X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256", Hmac.sign(KEY, body)), body);
    source = GitHubWebhookSource.builder(Secret.of(new String(KEY, StandardCharsets.UTF_8))).build();
    if (!(source.handle(request) instanceof WebhookResult.Accepted)) {
      throw new IllegalStateException("the benchmark request is not accepted");
    }
  }

  /** Baseline 1: the HMAC alone (what verification costs). */
  @Benchmark
  public boolean hmacOnly() {
    return Hmac.verify(KEY, body, request.header("X-Hub-Signature-256"));
  }

  /** Baseline 2: the JSON parse alone. */
  @Benchmark
  public JsonNode parseOnly() throws IOException {
    return ApiClient.MAPPER.readTree(body);
  }

  /** The whole source: verify, parse, map to a PullRequestEvent. */
  @Benchmark
  public WebhookResult verifyAndParse() {
    return source.handle(request);
  }
}
