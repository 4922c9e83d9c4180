package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.k8s.LeaderElection;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code preview serve --leader-election}: two processes' worth of the command elect over one Lease on the CRUD mock. */
@EnableKubernetesMockClient(crud = true)
class ServeCommandLeaderElectionTest {
  KubernetesMockServer mock;
  KubernetesClient client;

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void namespace() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("preview-system").endMetadata().build()).create();
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  Path config() throws Exception {
    return ServeConfigs.write(dir, java.util.List.of());
  }

  ServeCommand.Running serve(String identity) throws Exception {
    ServeCommand cmd = CommandLine.populateCommand(new ServeCommand(), "--config", config().toString(), "--port", "0",
        "--bind", "127.0.0.1", "--reconcile-interval", "1h", "--leader-election", "--lease-namespace", "preview-system",
        "--lease-name", "preview-serve", "--identity", identity, "--lease-duration", "3s");
    KubernetesClient own = mock.createClient(); // each replica has its own client, like its own process
    closeables.add(own);
    cmd.elections = () -> LeaderElection.builder(own);
    ServeCommand.Running running = cmd.start();
    closeables.add(running);
    return running;
  }

  int health(ServeCommand.Running r) throws Exception {
    return http.send(HttpRequest.newBuilder(r.server().url().resolve("/healthz")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  HttpResponse<String> ping(URI base) throws Exception {
    byte[] ping = "{\"zen\":\"Design for failure.\",\"hook_id\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return http.send(HttpRequest.newBuilder(base.resolve("/webhooks/github")).header("X-GitHub-Event", "ping")
        .header("X-Hub-Signature-256", ServeCommandTest.sign("s3cret", ping)).POST(HttpRequest.BodyPublishers.ofByteArray(ping)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  String lastReconcile(ServeCommand.Running r) throws Exception {
    return new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(r.server().url().resolve("/healthz")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).path("lastReconcile").asText();
  }

  Lease lease() {
    return client.leases().inNamespace("preview-system").withName("preview-serve").get();
  }

  @Test
  void theFirstReplicaLeadsTheSecondWaitsAndTakesOverWhenTheFirstStops() throws Exception {
    ServeCommand.Running first = serve("serve-a");
    assertThat(first.election()).hasValue("serve-a");
    await().atMost(Duration.ofSeconds(10)).until(() -> health(first) == 200);
    assertThat(first.leads()).isTrue();
    assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("serve-a");
    assertThat(lease().getSpec().getLeaseDurationSeconds()).isEqualTo(3);
    assertThat(ping(first.server().url()).statusCode()).isEqualTo(200);
    // the periodic reconcile is hourly, but a new leader reconciles at once (catching up on the handover)
    await().atMost(Duration.ofSeconds(10)).until(() -> !lastReconcile(first).equals("never"));

    ServeCommand.Running second = serve("serve-b");
    HttpResponse<String> refused = ping(second.server().url());
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("3");
    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3)).until(() -> health(second) == 503 && health(first) == 200);
    assertThat(new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(second.server().url().resolve("/healthz")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).path("leader").asBoolean(true)).isFalse();
    assertThat(lastReconcile(second)).isEqualTo("never"); // a standby does not reconcile, not even on start

    // closing the first (SIGTERM) releases the lease once it has stopped serving: the second takes over
    first.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> health(second) == 200);
    assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("serve-b");
    assertThat(ping(second.server().url()).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> !lastReconcile(second).equals("never"));
  }

  @Test
  void leaseOptionsWithoutLeaderElectionAndABadDurationAreConfigurationErrors() throws Exception {
    StringWriter err = new StringWriter();
    CommandLine line = new CommandLine(new ServeCommand());
    line.setErr(new PrintWriter(err, true));
    assertThat(line.execute("--config", config().toString(), "--port", "0", "--lease-name", "x", "--lease-duration", "soon")).isEqualTo(2);
    assertThat(err.toString()).contains("--lease-name: only used with --leader-election", "--lease-duration: ");

    StringWriter err2 = new StringWriter();
    CommandLine line2 = new CommandLine(new ServeCommand());
    line2.setErr(new PrintWriter(err2, true));
    assertThat(line2.execute("--config", config().toString(), "--port", "0", "--leader-election", "--lease-duration", "500ms")).isEqualTo(2);
    assertThat(err2.toString()).contains("--lease-duration: must be between 1s and 10m");
  }
}
