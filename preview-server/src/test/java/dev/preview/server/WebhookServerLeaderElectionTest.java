package dev.preview.server;

import static dev.preview.server.Deliveries.KEY;
import static dev.preview.server.Deliveries.SECRET;
import static dev.preview.server.Deliveries.SHA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.k8s.LeaderElection;
import dev.preview.scm.github.GitHubWebhookSource;
import dev.preview.spi.PullRequest;
import dev.preview.spi.Secret;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakePullRequestSource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two replicas of the webhook server, each with its own orchestrator and its own Kubernetes client,
 * elect over one Lease on Fabric8's CRUD mock API server: exactly one acts, and the other takes over
 * when the leader stops.
 */
@EnableKubernetesMockClient(crud = true)
class WebhookServerLeaderElectionTest {
  KubernetesMockServer mock;
  KubernetesClient client;

  final HttpClient http = HttpClient.newHttpClient();
  /** Set whenever a replica acts (handles an event or reconciles) while the other one also leads. */
  final AtomicBoolean actedTogether = new AtomicBoolean();
  Replica a;
  Replica b;

  /** A replica: orchestrator on fakes, counted actions, a real LeaderElection, a WebhookServer. */
  final class Replica implements AutoCloseable {
    final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
    final AtomicInteger handled = new AtomicInteger();
    final AtomicInteger reconciled = new AtomicInteger();
    final KubernetesClient kube;
    final PreviewOrchestrator orchestrator;
    final LeaderElection election;
    final WebhookServer server;

    Replica(String id) throws Exception {
      FakePullRequestSource prs = new FakePullRequestSource().put(PullRequest.open(KEY, SHA, "feature/basket", "main"));
      orchestrator = PreviewOrchestrator.builder().environment(env).pullRequests(prs)
          .app(AppTemplate.builder().build()).policy(PreviewPolicy.defaults()).healthCheck(url -> true).build();
      kube = mock.createClient();
      // a 60 s lease: a handover within the awaits below proves that stop() released it
      election = LeaderElection.builder(kube).namespace("preview-system").name("preview-serve").identity(id)
          .leaseDuration(Duration.ofSeconds(60)).renewDeadline(Duration.ofSeconds(40)).retryPeriod(Duration.ofMillis(100))
          .build();
      server = WebhookServer.builder()
          .actions(e -> {
            act();
            handled.incrementAndGet();
            return orchestrator.handle(e);
          }, () -> {
            act();
            reconciled.incrementAndGet();
            return orchestrator.reconcile(false);
          })
          .source(GitHubWebhookSource.builder(Secret.of(SECRET)).build())
          .leadership(election::isLeader, Duration.ofSeconds(60))
          .port(0).bind("127.0.0.1").reconcileInterval(Duration.ofMillis(100)).start();
    }

    private void act() {
      if (a != null && b != null && a.election.isLeader() && b.election.isLeader()) {
        actedTogether.set(true);
      }
    }

    int post() throws Exception {
      byte[] body = Deliveries.opened();
      return http.send(Deliveries.github(server, "pull_request", UUID.randomUUID().toString(), body).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    int health() throws Exception {
      return http.send(HttpRequest.newBuilder(server.url().resolve("/healthz")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Override
    public void close() {
      server.close();
      orchestrator.close();
      election.close();
      kube.close();
    }
  }

  @BeforeEach
  void namespace() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("preview-system").endMetadata().build()).create();
  }

  @AfterEach
  void close() {
    for (Replica r : new Replica[] {a, b}) {
      if (r != null) {
        r.close();
      }
    }
  }

  String holder() {
    return client.leases().inNamespace("preview-system").withName("preview-serve").get().getSpec().getHolderIdentity();
  }

  @Test
  void exactlyOneReplicaActsAndTheOtherTakesOverWhenTheLeaderStops() throws Exception {
    a = new Replica("replica-a");
    b = new Replica("replica-b");
    a.election.start();
    await().atMost(Duration.ofSeconds(10)).until(a.election::isLeader);
    b.election.start();
    await().atMost(Duration.ofSeconds(5)).until(() -> b.election.leader().filter("replica-a"::equals).isPresent());

    // The same delivery reaches both (no readiness probe here): the leader takes it, the standby refuses it.
    assertThat(List.of(a.post(), b.post())).containsExactly(202, 503);
    assertThat(List.of(a.health(), b.health())).containsExactly(200, 503);
    await().atMost(Duration.ofSeconds(10)).until(() -> a.env.applied(KEY).size() == 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> a.reconciled.get() >= 3);
    // b stays a standby while a renews, and never acts
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3)).until(() -> !b.election.isLeader() && b.reconciled.get() == 0);
    assertThat(b.handled).hasValue(0);
    assertThat(b.env.applied()).isEmpty();
    assertThat(holder()).isEqualTo("replica-a");

    // The leader stops (a rolling update): it stops acting at once and releases the lease.
    a.election.stop();
    int aHandled = a.handled.get();
    assertThat(a.post()).isEqualTo(503);
    assertThat(a.health()).isEqualTo(503);
    await().atMost(Duration.ofSeconds(10)).until(b.election::isLeader);
    assertThat(holder()).isEqualTo("replica-b");
    assertThat(b.health()).isEqualTo(200);
    assertThat(b.post()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> b.env.applied(KEY).size() == 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> b.reconciled.get() >= 1);
    int aReconciled = a.reconciled.get();
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> a.reconciled.get() == aReconciled);
    assertThat(a.handled).hasValue(aHandled);
    assertThat(actedTogether).isFalse();
  }
}
