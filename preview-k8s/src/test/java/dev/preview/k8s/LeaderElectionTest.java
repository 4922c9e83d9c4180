package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two replicas elect over one Lease on the CRUD mock: never both leaders, and leadership hands over. */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionTest {
  KubernetesMockServer server;
  KubernetesClient client;

  private KubernetesClient otherClient;
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final AtomicBoolean bothLed = new AtomicBoolean();
  private LeaderElection a;
  private LeaderElection b;

  @BeforeEach
  void setUp() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("preview-system").endMetadata().build()).create();
    otherClient = server.createClient(); // a second replica has its own client
  }

  @AfterEach
  void tearDown() {
    if (a != null) {
      a.stop();
    }
    if (b != null) {
      b.stop();
    }
    otherClient.close();
  }

  private LeaderElection replica(KubernetesClient c, String id, boolean release) {
    return replica(c, id, release, Duration.ofMillis(1500));
  }

  private LeaderElection replica(KubernetesClient c, String id, boolean release, Duration lease) {
    return LeaderElection.builder(c).namespace("preview-system").name("preview-webhook").identity(id)
        .leaseDuration(lease).renewDeadline(lease.multipliedBy(2).dividedBy(3)).retryPeriod(Duration.ofMillis(100))
        .releaseOnStop(release)
        .onStartLeading(() -> {
          events.add(id + " starts");
          if (a != null && b != null && a.isLeader() && b.isLeader()) {
            bothLed.set(true);
          }
        })
        .onStopLeading(() -> events.add(id + " stops"))
        .build();
  }

  @Test
  void leadershipHandsOverWhenTheLeaderStops() {
    // A long lease: if stop() did not release it, the standby would wait 60 s, far past the await below.
    a = replica(client, "replica-a", true, Duration.ofSeconds(60));
    b = replica(otherClient, "replica-b", true, Duration.ofSeconds(60));
    a.start();
    await().atMost(5, TimeUnit.SECONDS).until(a::isLeader);
    b.start();
    // The standby keeps trying but never leads while the leader renews.
    await().during(Duration.ofMillis(800)).atMost(3, TimeUnit.SECONDS).until(() -> a.isLeader() && !b.isLeader());
    await().atMost(3, TimeUnit.SECONDS).until(() -> b.leader().filter("replica-a"::equals).isPresent());
    Lease lease = client.leases().inNamespace("preview-system").withName("preview-webhook").get();
    assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("replica-a");

    a.stop();
    assertThat(a.isLeader()).isFalse();
    await().atMost(15, TimeUnit.SECONDS).until(b::isLeader);
    assertThat(client.leases().inNamespace("preview-system").withName("preview-webhook").get().getSpec().getHolderIdentity())
        .isEqualTo("replica-b");
    assertThat(events).containsSubsequence("replica-a starts", "replica-a stops", "replica-b starts");
    assertThat(bothLed).isFalse();
  }

  @Test
  void aLeaderThatDiesWithoutReleasingIsReplacedAfterTheLeaseExpires() {
    a = replica(client, "replica-a", false, Duration.ofSeconds(3));
    b = replica(otherClient, "replica-b", true, Duration.ofSeconds(3));
    a.start();
    await().atMost(5, TimeUnit.SECONDS).until(a::isLeader);
    b.start();
    long stoppedAt = System.nanoTime();
    a.stop(); // like a crash: the lease stays held until it expires
    await().atMost(15, TimeUnit.SECONDS).until(b::isLeader);
    // The standby had to wait for the 3 s lease to run out (less the time since the last renewal).
    assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
    assertThat(bothLed).isFalse();
  }

  @Test
  void aStoppedReplicaCanRejoinAndDurationsAreChecked() {
    a = replica(client, "replica-a", true);
    a.start();
    a.start(); // idempotent
    await().atMost(5, TimeUnit.SECONDS).until(a::isLeader);
    a.stop();
    a.stop();
    a.start();
    await().atMost(5, TimeUnit.SECONDS).until(a::isLeader);
    assertThat(events).containsExactly("replica-a starts", "replica-a stops", "replica-a starts");
    assertThatThrownBy(() -> LeaderElection.builder(client).leaseDuration(Duration.ofSeconds(5)).renewDeadline(Duration.ofSeconds(5)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leaseDuration");
  }
}
