package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static dev.preview.k8s.K8sFixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.core.AppTemplate;
import dev.preview.core.HealthCheck;
import dev.preview.core.Preview;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.spi.AppExit;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PreviewState;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The readiness side of the kubernetes provider over Fabric8's mock API server in CRUD mode (no
 * controller runs there: the tests write the pod statuses and ReplicaSets a cluster would):
 * {@code exitStatus} from the pods, {@code rejectRevision} rolling back to the ReplicaSet that still
 * serves or scaling the failed revision to zero, and the orchestrator's gate over both.
 */
class KubernetesReadinessTest extends MockClusterTest {
  private KubernetesEnvironmentProvider provider() {
    return KubernetesEnvironmentProvider.create(client, config(baseConfig()), clock);
  }

  private static PodBuilder pod(String name, String revision) {
    return new PodBuilder().withNewMetadata().withName(name)
        .withLabels(Map.of(ManifestTemplate.APP_LABEL, "app"))
        .withAnnotations(Map.of(Labels.REVISION, revision)).withCreationTimestamp("2026-01-01T10:00:00Z").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("registry.example.com/shop:" + revision).endContainer()
        .endSpec().withNewStatus().endStatus();
  }

  private void crashLoop(String name, String revision) {
    client.pods().inNamespace(ns).resource(pod(name, revision).editStatus().addNewContainerStatus().withName("app")
        .withRestartCount(3)
        .withNewState().withNewWaiting().withReason("CrashLoopBackOff").withMessage("back-off 40s").endWaiting().endState()
        .withNewLastState().withNewTerminated().withExitCode(1).withReason("Error").endTerminated().endLastState()
        .endContainerStatus().endStatus().build()).create();
  }

  /** The ReplicaSet a Deployment controller keeps for {@code template}, with {@code ready} pods. */
  private void replicaSet(String name, int number, PodTemplateSpec template, int ready) {
    Deployment d = client.apps().deployments().inNamespace(ns).withName("app").get();
    Map<String, String> labels = new LinkedHashMap<>(template.getMetadata().getLabels());
    labels.put("pod-template-hash", name.substring(name.lastIndexOf('-') + 1));
    client.apps().replicaSets().inNamespace(ns).resource(new ReplicaSetBuilder().withNewMetadata().withName(name)
        .withLabels(labels).withAnnotations(Map.of(FailedRevisions.RS_REVISION, Integer.toString(number)))
        .addNewOwnerReference().withApiVersion("apps/v1").withKind("Deployment").withName("app")
        .withUid(d.getMetadata().getUid()).withController(true).endOwnerReference().endMetadata()
        .withNewSpec().withReplicas(ready).withNewSelector().withMatchLabels(labels).endSelector()
        .withNewTemplate().withNewMetadataLike(template.getMetadata()).addToLabels("pod-template-hash", "x").endMetadata()
        .withSpec(template.getSpec()).endTemplate().endSpec()
        .withNewStatus().withReplicas(ready).withReadyReplicas(ready).withAvailableReplicas(ready).endStatus()
        .build()).create();
  }

  private PodTemplateSpec template() {
    return client.apps().deployments().inNamespace(ns).withName("app").get().getSpec().getTemplate();
  }

  /** aaaa1111 deployed and ready, then bbbb2222 applied: the cluster keeps aaaa1111's ReplicaSet serving. */
  private KubernetesEnvironmentProvider updatedWithTheOldRevisionServing() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    K8sFixtures.markReady(client, ns, "app");
    replicaSet("app-5d8f", 1, template(), 1);
    p.apply(spec(key, "bbbb2222"));
    replicaSet("app-7c9e", 2, template(), 0);
    return p;
  }

  @Test
  void exitStatusReadsTheExitCodeRestartsAndCrashLoopOffThePodsOfTheCurrentRevision() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    assertThat(p.exitStatus(key)).isEmpty();

    client.pods().inNamespace(ns).resource(pod("app-old", "0000aaaa").editStatus().addNewContainerStatus().withName("app")
        .withNewState().withNewTerminated().withExitCode(137).endTerminated().endState().endContainerStatus()
        .endStatus().build()).create();
    assertThat(p.exitStatus(key)).as("another revision's pod is not this one's end").isEmpty();

    client.pods().inNamespace(ns).resource(pod("app-1", "aaaa1111").editStatus().addNewContainerStatus().withName("app")
        .withRestartCount(2).withNewState().withNewRunning().endRunning().endState()
        .withNewLastState().withNewTerminated().withExitCode(1).withReason("Error").endTerminated().endLastState()
        .endContainerStatus().endStatus().build()).create();
    assertThat(p.exitStatus(key)).hasValueSatisfying(x -> {
      assertThat(x.running()).isTrue();
      assertThat(x.restarts()).isEqualTo(2);
      assertThat(x.exitCode()).isEqualTo(1);
      assertThat(x.describe()).isEqualTo("restarted 2 times (last exit code 1, Error; pod app-1, container app)");
    });

    crashLoop("app-2", "aaaa1111");
    assertThat(p.exitStatus(key)).hasValueSatisfying(x -> {
      assertThat(x.running()).isFalse();
      assertThat(x.exitCode()).isEqualTo(1);
      assertThat(x.describe()).contains("restarted 3 times", "last exit code 1", "CrashLoopBackOff", "pod app-2");
    });

    client.pods().inNamespace(ns).resource(pod("app-3", "aaaa1111").editStatus().addNewContainerStatus().withName("app")
        .withNewState().withNewTerminated().withExitCode(3).withReason("Error").endTerminated().endState()
        .endContainerStatus().endStatus().build()).create();
    assertThat(p.exitStatus(key)).get().extracting(AppExit::exitCode).isIn(1, 3);
  }

  @Test
  void aRejectedRevisionWithoutAnOlderOneServingIsScaledToZeroAndReportedFailedByEveryProvider() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));

    Environment e = p.rejectRevision(key, "aaaa1111").orElseThrow();

    assertThat(e.phase()).isEqualTo(Environment.Phase.FAILED);
    assertThat(e.revision()).isEqualTo("aaaa1111");
    assertThat(e.labels()).containsEntry(Labels.FAILED_REVISION, "aaaa1111");
    assertThat(client.apps().deployments().inNamespace(ns).withName("app").get().getSpec().getReplicas()).isZero();
    KubernetesClient otherClient = server.createClient();
    KubernetesEnvironmentProvider other = KubernetesEnvironmentProvider.create(otherClient, config(baseConfig()), clock);
    assertThat(other.find(key)).get().extracting(Environment::phase).as("scaled to zero, yet FAILED, not SUSPENDED")
        .isEqualTo(Environment.Phase.FAILED);
    assertThat(other.list()).singleElement().extracting(Environment::phase).isEqualTo(Environment.Phase.FAILED);
    assertThat(p.rejectRevision(key, "0000ffff")).as("another revision: nothing to do").get()
        .extracting(Environment::revision).isEqualTo("aaaa1111");

    p.apply(spec(key, "bbbb2222"));
    Namespace n = client.namespaces().withName(ns).get();
    assertThat(n.getMetadata().getAnnotations()).doesNotContainKey(Labels.FAILED_REVISION);
    assertThat(client.apps().deployments().inNamespace(ns).withName("app").get().getSpec().getReplicas()).isEqualTo(1);
    otherClient.close();
  }

  @Test
  void aRejectedRevisionIsRolledBackToTheReplicaSetThatStillServes() {
    KubernetesEnvironmentProvider p = updatedWithTheOldRevisionServing();

    Environment e = p.rejectRevision(key, "bbbb2222").orElseThrow();

    assertThat(e.revision()).isEqualTo("aaaa1111");
    assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(e.labels()).containsEntry(Labels.FAILED_REVISION, "bbbb2222");
    PodTemplateSpec t = template();
    assertThat(t.getMetadata().getAnnotations()).containsEntry(Labels.REVISION, "aaaa1111");
    assertThat(t.getSpec().getContainers().get(0).getImage()).isEqualTo("registry.example.com/shop:aaaa1111");
    assertThat(t.getMetadata().getLabels()).doesNotContainKey("pod-template-hash");
    Namespace n = client.namespaces().withName(ns).get();
    assertThat(n.getMetadata().getAnnotations()).containsEntry(Labels.REVISION, "aaaa1111")
        .containsEntry(Labels.FAILED_REVISION, "bbbb2222");
    assertThat(n.getMetadata().getLabels()).containsEntry(Labels.REVISION, "aaaa1111");
    assertThat(p.list()).singleElement().satisfies(x -> {
      assertThat(x.revision()).isEqualTo("aaaa1111");
      assertThat(x.phase()).isEqualTo(Environment.Phase.RUNNING);
    });
  }

  @Test
  void theReadinessWaitLooksAgainWhenTheApiServerFailsToAnswerInsteadOfFailingTheDeploy() {
    Map<String, Object> cfg = baseConfig();
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "50ms", "timeout", "20s", "watch", false));
    // Fabric8 retries a 5xx by itself; without that the provider's own wait sees every failed answer.
    KubernetesClient noRetries = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
        new io.fabric8.kubernetes.client.ConfigBuilder(client.getConfiguration()).withRequestRetryBackoffLimit(0).build()).build();
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(noRetries, config(cfg), clock);
    CompletableFuture<Environment> applied = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
    AtomicInteger unavailable = new AtomicInteger();
    server.expect().get().withPath("/apis/apps/v1/namespaces/" + ns + "/deployments/app")
        .andReply(503, request -> {
          unavailable.incrementAndGet();
          return "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"etcdserver: request timed out\",\"code\":503}";
        }).times(3);
    await().atMost(10, TimeUnit.SECONDS).until(() -> unavailable.get() == 3);
    assertThat(applied).as("still waiting after three failed looks").isNotDone();

    K8sFixtures.markReady(client, ns, "app");

    assertThat(applied).succeedsWithin(Duration.ofSeconds(20)).extracting(Environment::phase)
        .isEqualTo(Environment.Phase.RUNNING);
    noRetries.close();
  }

  @Test
  void aRolloutThatCrashLoopsIsRolledBackByApplyWhenTheOldRevisionStillServes() throws Exception {
    Map<String, Object> cfg = baseConfig();
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "50ms", "timeout", "20s", "watch", false));
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, config(cfg), clock);
    CompletableFuture<Environment> first = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
    K8sFixtures.markReady(client, ns, "app");
    assertThat(first).succeedsWithin(Duration.ofSeconds(20));
    replicaSet("app-5d8f", 1, template(), 1);
    crashLoop("app-7c9e-x1", "bbbb2222");
    // what the controller reports while the new ReplicaSet's pod is not ready (the old one still is)
    client.apps().deployments().inNamespace(ns).withName("app").edit(d -> {
      d.setStatus(new io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder().withReplicas(2)
          .withUpdatedReplicas(0).withReadyReplicas(1).withAvailableReplicas(1).build());
      return d;
    });

    // The rollback's reads once stalled 30 s here: the log lines of the crashed pod came from Fabric8's
    // getLog(), whose informer opened and at once closed a pod watch (see Rollout.tail).
    assertThatThrownBy(() -> p.apply(spec(key, "bbbb2222"))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("CrashLoopBackOff").hasMessageContaining("rolled back to aaaa1111, which still serves");
    assertThat(template().getMetadata().getAnnotations()).containsEntry(Labels.REVISION, "aaaa1111");
    assertThat(p.list()).singleElement().satisfies(x -> {
      assertThat(x.revision()).isEqualTo("aaaa1111");
      assertThat(x.labels()).containsEntry(Labels.FAILED_REVISION, "bbbb2222");
    });
  }

  @Test
  void aRollbackAsksAgainWhenTheApiServerDoesNotAnswerTheDeploymentRead() {
    KubernetesClient noRetries = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
        new io.fabric8.kubernetes.client.ConfigBuilder(client.getConfiguration()).withRequestRetryBackoffLimit(0).build()).build();
    try {
      updatedWithTheOldRevisionServing();
      KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(noRetries, config(baseConfig()), clock);
      AtomicInteger unavailable = new AtomicInteger();
      server.expect().get().withPath("/apis/apps/v1/namespaces/" + ns + "/deployments/app")
          .andReply(503, request -> {
            unavailable.incrementAndGet();
            return "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"etcdserver: request timed out\",\"code\":503}";
          }).once();

      Environment e = p.rejectRevision(key, "bbbb2222").orElseThrow();

      assertThat(unavailable).as("the rollback's read of the Deployment got the 503").hasValue(1);
      assertThat(e.revision()).isEqualTo("aaaa1111");
      assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
      assertThat(template().getMetadata().getAnnotations()).containsEntry(Labels.REVISION, "aaaa1111");
    } finally {
      noRetries.close();
    }
  }

  @Test
  void aReadIsAskedAgainOnlyWhenTheAnswerSaysNothingAboutTheObjects() {
    AtomicInteger calls = new AtomicInteger();
    java.util.function.Function<Integer, java.util.function.Supplier<String>> failing = code -> () -> {
      calls.incrementAndGet();
      throw new io.fabric8.kubernetes.client.KubernetesClientException("no", code, null);
    };
    Duration pause = Duration.ofMillis(1);

    assertThat(KubernetesEnvironmentProvider.read(() -> calls.incrementAndGet() < 3 ? fail(0) : "ok", 3, pause))
        .as("a timeout (no status) twice, then an answer").isEqualTo("ok");
    assertThat(calls).hasValue(3);
    for (int code : new int[] {0, 408, 429, 500, 503}) {
      calls.set(0);
      assertThatThrownBy(() -> KubernetesEnvironmentProvider.read(failing.apply(code), 3, pause))
          .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class);
      assertThat(calls).as("HTTP %s is asked three times in all", code).hasValue(3);
    }
    for (int code : new int[] {401, 403, 404, 409, 422}) {
      calls.set(0);
      assertThatThrownBy(() -> KubernetesEnvironmentProvider.read(failing.apply(code), 3, pause))
          .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class);
      assertThat(calls).as("HTTP %s is an answer: asked once", code).hasValue(1);
    }
  }

  private static String fail(int code) {
    throw new io.fabric8.kubernetes.client.KubernetesClientException("no answer", code, null);
  }

  @Test
  void theGateFailsAtOnceOnACrashLoopAndTheOrchestratorListsTheRolledBackRevisionReady() throws Exception {
    KubernetesEnvironmentProvider p = updatedWithTheOldRevisionServing();
    p.apply(spec(key, "aaaa1111")); // back to a known state; the orchestrator will push bbbb2222
    AtomicInteger probes = new AtomicInteger();
    HealthCheck refused = new HealthCheck() {
      @Override
      public boolean healthy(URI url) throws Exception {
        probes.incrementAndGet();
        throw new ConnectException();
      }
    };
    PreviewOrchestrator o = PreviewOrchestrator.builder().environment(p).closeProviders(false).healthCheck(refused)
        .app(AppTemplate.builder().image("registry.example.com/shop:{sha}").port(8080).healthPath("/healthz")
            .hostnameTemplate("pr-{number}.preview.example.com").readinessTimeout(Duration.ofMinutes(2))
            .readinessInterval(Duration.ofMillis(100)).build())
        .build();
    try {
      PullRequest pr = PullRequest.open(key, "bbbb2222", "feature", "main");
      CompletableFuture<Preview> f = o.handle(PullRequestEvent.of(PullRequestEvent.Action.UPDATED, pr));
      await().atMost(10, TimeUnit.SECONDS).until(() -> probes.get() > 0);
      server.expect().get().withPath("/api/v1/namespaces/" + ns + "/pods/app-7c9e-x1/log?pretty=false&container=app&tailLines=20")
          .andReturn(200, "starting shop\nFATAL: DATABASE_URL is not set\n").always();
      crashLoop("app-7c9e-x1", "bbbb2222");

      Preview failed = f.get(30, TimeUnit.SECONDS);

      assertThat(failed.state()).isEqualTo(PreviewState.FAILED);
      assertThat(failed.failedStep()).isEqualTo("readiness");
      assertThat(failed.message()).contains("the app restarted 3 times (last exit code 1, CrashLoopBackOff")
          .contains("during the readiness wait").contains("last lines: starting shop | FATAL: DATABASE_URL is not set")
          .contains("rolled back to aaaa111, which still serves");
      assertThat(probes.get()).as("a 2-minute wait would probe 27 times").isLessThan(20);
      assertThat(o.list()).singleElement().satisfies(x -> {
        assertThat(x.state()).isEqualTo(PreviewState.READY);
        assertThat(x.revision()).isEqualTo("aaaa1111");
        assertThat(x.message()).contains("rolled back").contains("bbbb2222");
      });
    } finally {
      o.close();
    }
  }
}
