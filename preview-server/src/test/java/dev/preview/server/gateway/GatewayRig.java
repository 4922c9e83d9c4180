package dev.preview.server.gateway;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.local.LocalEnvironmentProvider;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.testkit.FakePullRequestSource;
import dev.preview.testkit.FakeScmNotifier;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Real previews for the gateway's tests: the {@code local} provider runs {@link GatewayTestApp} per PR
 * (its own process and port), an orchestrator deploys them from PR events, and a gateway on a free port
 * routes to them. Hostnames follow {@code pr-{number}.preview.test} (sent as the Host header) and paths
 * {@code /pr/{number}/}.
 */
final class GatewayRig implements AutoCloseable {
  static final String REPO = "acme/shop";

  final LocalEnvironmentProvider local;
  final EnvironmentProvider provider;
  final FakeScmNotifier scm = new FakeScmNotifier();
  final FakePullRequestSource source = new FakePullRequestSource();
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final PreviewGateway gateway;
  final PreviewOrchestrator orchestrator;
  private final List<PreviewKey> made = new ArrayList<>();

  GatewayRig(Path dir, Clock clock, UnaryOperator<GatewaySettings.Builder> settings, PreviewPolicy policy,
      UnaryOperator<EnvironmentProvider> wrap) throws IOException {
    this(dir, clock, settings.apply(GatewaySettings.builder().port(0).bind("127.0.0.1").pathPrefix("/pr/{number}/")
        .refresh(Duration.ofSeconds(30)).visitFlush(Duration.ofMinutes(10))).build(), policy, wrap, "pr-{number}.preview.test");
  }

  GatewayRig(Path dir, Clock clock, GatewaySettings settings, PreviewPolicy policy, UnaryOperator<EnvironmentProvider> wrap,
      String hostname) throws IOException {
    Installation installation = Installation.builder().clock(clock).build();
    this.local = LocalEnvironmentProvider.builder().stateDir(dir.resolve("state")).workDir(dir).installation(installation)
        .startCheck(Duration.ofSeconds(30)).stopTimeout(Duration.ofSeconds(5)).build();
    this.provider = wrap.apply(local);
    AppTemplate app = AppTemplate.builder().command(appCommand()).hostnameTemplate(hostname).urlScheme("http")
        .healthPath("/health").readinessInterval(Duration.ofMillis(50)).readinessTimeout(Duration.ofSeconds(30)).build();
    this.gateway = PreviewGateway.builder().environment(provider).settings(settings).app(app).clock(clock)
        .metrics(registry).build();
    this.orchestrator = PreviewOrchestrator.builder()
        .environment(gateway.visitAware(provider))
        .notifier(gateway.notifier(scm))
        .listener(gateway.listener())
        .pullRequests(source)
        .app(app).policy(policy).clock(clock).installation(installation)
        .closeProviders(false)
        .build();
    gateway.start();
  }

  static List<String> appCommand() {
    return List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
        GatewayTestApp.class.getName());
  }

  static PreviewKey pr(int number) {
    return PreviewKey.pr(REPO, number);
  }

  /** Opens PR {@code number} at {@code sha}, waits until it is READY, and has the gateway read its routes. */
  Environment open(int number, String sha) throws Exception {
    Environment e = deploy(number, sha);
    gateway.refreshNow();
    return e;
  }

  /** Opens PR {@code number} at {@code sha} and waits until it is READY; only the listener tells the gateway. */
  Environment deploy(int number, String sha) throws Exception {
    PreviewKey key = pr(number);
    PullRequest pr = PullRequest.open(key, sha, "feature-" + number, "main");
    source.put(pr);
    made.add(key);
    var preview = orchestrator.handle(PullRequestEvent.of(made.stream().filter(key::equals).count() > 1
        ? PullRequestEvent.Action.UPDATED : PullRequestEvent.Action.OPENED, pr)).get(60, TimeUnit.SECONDS);
    if (preview.state() != PreviewState.READY) {
      throw new AssertionError(key + " is " + preview.state() + ": " + preview.message());
    }
    return local.find(key).orElseThrow();
  }

  @Override
  public void close() {
    gateway.close();
    orchestrator.close();
    for (PreviewKey k : made) {
      try {
        local.delete(k);
      } catch (RuntimeException ignored) {
        // best effort
      }
    }
  }

  // ---------------------------------------------------------------------- raw HTTP (any Host header)

  /** One HTTP/1.1 exchange on a fresh socket, so that the Host header can be anything. */
  record Reply(int status, Map<String, List<String>> headers, String body) {
    String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null ? null : v.get(0);
    }

    List<String> all(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }
  }

  Reply get(String host, String path, String... headers) throws IOException {
    return request(gateway.port(), "GET", host, path, headers);
  }

  static Reply request(int port, String method, String host, String path, String... headers) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(60_000);
      StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
      for (String h : headers) {
        req.append(h).append("\r\n");
      }
      req.append("\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return parse(s.getInputStream());
    }
  }

  private static Reply parse(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    byte[] bytes = all.toByteArray();
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    String head = text.substring(0, end);
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(lines[i].substring(colon + 1).trim());
    }
    byte[] body = java.util.Arrays.copyOfRange(bytes, end + 4, bytes.length);
    List<String> te = headers.get("transfer-encoding");
    if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
      body = dechunk(body);
    }
    return new Reply(status, headers, new String(body, StandardCharsets.UTF_8));
  }

  private static byte[] dechunk(byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (i < b.length) {
      int lineEnd = i;
      while (b[lineEnd] != '\r') {
        lineEnd++;
      }
      int size = Integer.parseInt(new String(b, i, lineEnd - i, StandardCharsets.ISO_8859_1).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      out.write(b, lineEnd + 2, size);
      i = lineEnd + 2 + size + 2;
    }
    return out.toByteArray();
  }
}
