package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static dev.preview.k8s.K8sFixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Behaviour of the provider against Fabric8's mock API server in CRUD mode. */
class KubernetesEnvironmentProviderTest extends MockClusterTest {
  private KubernetesEnvironmentProvider provider(Map<String, Object> cfg) {
    return KubernetesEnvironmentProvider.create(client, config(cfg), clock);
  }

  /** A provider of instance {@code instance}, on a client of its own (as another process, or a restart, would have). */
  private KubernetesEnvironmentProvider provider(String instance) {
    KubernetesClient own = server.createClient();
    opened.add(own);
    return KubernetesEnvironmentProvider.create(own, ProviderContext.of(config(baseConfig()),
        Installation.builder().instance(instance).clock(clock).build()));
  }

  private final List<KubernetesClient> opened = new ArrayList<>();

  @org.junit.jupiter.api.AfterEach
  void closeClients() {
    opened.forEach(KubernetesClient::close);
  }

  private KubernetesEnvironmentProvider provider() {
    return provider(baseConfig());
  }

  private static Map<String, Object> waiting(String timeout) {
    Map<String, Object> cfg = baseConfig();
    // Polling only: Fabric8's mock server can stall for 30 s when a watch is closed during its first
    // events (see awaitRollout); the watch itself is tested in aWatchWakesTheWaitWhenTheDeploymentBecomesReady.
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "50ms", "timeout", timeout, "watch", false));
    return cfg;
  }

  @Test
  void behindAnIngressTheEnvironmentNamesItsInClusterServiceForAGatewayInFrontOfIt() {
    KubernetesEnvironmentProvider p = provider();
    dev.preview.spi.Environment env = p.apply(spec(key, "aaaa1111"));
    assertThat(client.network().v1().ingresses().inNamespace(ns).list().getItems()).hasSize(1);
    assertThat(env.url().getHost()).as("the public URL is the Ingress host").doesNotEndWith(".svc.cluster.local");
    String service = "http://app." + ns + ".svc.cluster.local";
    assertThat(env.labels()).containsEntry(Labels.SERVICE_URL, service);
    assertThat(p.find(key).orElseThrow().labels()).as("read back from the namespace").containsEntry(Labels.SERVICE_URL, service);
    assertThat(client.services().inNamespace(ns).withName("app").get()).as("the Service it names exists").isNotNull();
  }

  @Test
  void applyIsIdempotentKeepsCreatedAndRollsOnANewRevision() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    String created = client.namespaces().withName(ns).get().getMetadata().getAnnotations().get(Labels.CREATED);
    assertThat(created).isEqualTo("2026-01-01T10:00:00Z");

    clock.advance(Duration.ofHours(1));
    p.apply(spec(key, "aaaa1111"));
    assertThat(client.apps().deployments().inNamespace(ns).list().getItems()).hasSize(1);
    assertThat(client.network().v1().ingresses().inNamespace(ns).list().getItems()).hasSize(1);
    assertThat(client.namespaces().withLabel(Labels.MANAGED, "true").list().getItems()).hasSize(1);

    clock.advance(Duration.ofHours(1));
    Environment e = p.apply(spec(key, "bbbb2222"));
    assertThat(e.revision()).isEqualTo("bbbb2222");
    Namespace n = client.namespaces().withName(ns).get();
    assertThat(n.getMetadata().getAnnotations()).containsEntry(Labels.CREATED, created).containsEntry(Labels.REVISION, "bbbb2222");
    assertThat(n.getMetadata().getLabels()).containsEntry(Labels.REVISION, "bbbb2222");
    Deployment d = client.apps().deployments().inNamespace(ns).withName("app").get();
    assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry(Labels.REVISION, "bbbb2222");
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).endsWith(":bbbb2222");
  }

  @Test
  void withdrawnSecretsAreRemovedOnTheNextApply() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    assertThat(client.secrets().inNamespace(ns).withName("app-secrets").get()).isNotNull();
    p.apply(spec(key, "bbbb2222").toBuilder().clearSecrets().build());
    assertThat(client.secrets().inNamespace(ns).withName("app-secrets").get()).isNull();
    assertThat(client.apps().deployments().inNamespace(ns).withName("app").get().getSpec().getTemplate().getSpec()
        .getContainers().get(0).getEnv()).extracting("name").doesNotContain("DB_PASSWORD");
  }

  @Test
  void applyRepairsAHalfCreatedPreview() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    // A crash mid-apply, or a human, left the preview without its Service and Ingress.
    client.services().inNamespace(ns).withName("app").delete();
    client.network().v1().ingresses().inNamespace(ns).withName("app").delete();
    p.apply(spec(key, "aaaa1111"));
    assertThat(client.services().inNamespace(ns).withName("app").get()).isNotNull();
    assertThat(client.network().v1().ingresses().inNamespace(ns).withName("app").get()).isNotNull();
  }

  @Test
  void waitsForTheRolloutAndReportsRunning() {
    KubernetesEnvironmentProvider p = provider(waiting("20s"));
    CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.network().v1().ingresses().inNamespace(ns).withName("app").get() != null);
    assertThat(f).isNotDone();
    K8sFixtures.markReady(client, ns, "app");
    Environment e = f.join();
    assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(p.find(key)).hasValueSatisfying(x -> assertThat(x.phase()).isEqualTo(Environment.Phase.RUNNING));
    assertThat(p.list()).singleElement().satisfies(x -> assertThat(x.phase()).isEqualTo(Environment.Phase.RUNNING));
  }

  @Test
  void aWatchWakesTheWaitWhenTheDeploymentBecomesReady() {
    Map<String, Object> cfg = baseConfig();
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "60s", "timeout", "120s"));
    KubernetesEnvironmentProvider p = provider(cfg);
    CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.network().v1().ingresses().inNamespace(ns).withName("app").get() != null);
    K8sFixtures.markReady(client, ns, "app");
    // Polling alone would take the 60 s interval; the watch's event ends the wait at once.
    assertThat(f).succeedsWithin(Duration.ofSeconds(20)).extracting(Environment::phase).isEqualTo(Environment.Phase.RUNNING);
  }

  @Test
  void withWatchOffTheWaitPollsAndOpensNoWatch() throws Exception {
    KubernetesEnvironmentProvider p = provider(waiting("20s"));
    CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
    K8sFixtures.markReady(client, ns, "app");
    assertThat(f).succeedsWithin(Duration.ofSeconds(20)).extracting(Environment::phase).isEqualTo(Environment.Phase.RUNNING);
    java.util.List<String> paths = new java.util.ArrayList<>();
    for (int i = server.getRequestCount(); i > 0; i--) {
      var r = server.takeRequest(1, TimeUnit.SECONDS);
      if (r != null) {
        paths.add(r.getPath());
      }
    }
    assertThat(paths).as("readiness.watch: false").isNotEmpty().noneMatch(path -> path.contains("watch=true"));
  }

  @Test
  void aCrashLoopFailsTheRolloutWithReasonAndLastLogLines() throws Exception {
    KubernetesEnvironmentProvider p = provider(waiting("20s"));
    CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
    server.expect().get().withPath("/api/v1/namespaces/" + ns + "/pods/app-7d9f-x1/log?pretty=false&container=app&tailLines=20")
        .andReturn(200, "starting shop\nconnecting to database\nFATAL: DATABASE_URL is not set\n").always();
    client.pods().inNamespace(ns).resource(pod("app-7d9f-x1", "aaaa1111")
        .editStatus().addNewContainerStatus().withName("app").withRestartCount(3)
        .withNewState().withNewWaiting().withReason("CrashLoopBackOff").withMessage("back-off 40s restarting failed container").endWaiting().endState()
        .withNewLastState().withNewTerminated().withExitCode(1).withReason("Error").endTerminated().endLastState()
        .endContainerStatus().endStatus().build()).create();

    assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).cause()
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).contains("CrashLoopBackOff", "last exit code 1", "restarted 3 times", "app-7d9f-x1",
              "FATAL: DATABASE_URL is not set", "aaaa1111");
        });
    assertThat(p.find(key)).hasValueSatisfying(x -> assertThat(x.phase()).isEqualTo(Environment.Phase.FAILED));
    assertThat(p.list()).singleElement().satisfies(x -> assertThat(x.phase()).isEqualTo(Environment.Phase.FAILED));
    // readiness.watch is off, and reading the crashed pod's log must not list and watch it either (an informer
    // closed at once: the mock stalls 30 s when a watch is closed during its first events)
    assertThat(drainRequests()).contains("GET /api/v1/namespaces/" + ns + "/pods/app-7d9f-x1/log?pretty=false&container=app&tailLines=20")
        .noneMatch(r -> r.contains("watch=true") || r.contains("fieldSelector=metadata.name%3Dapp-7d9f-x1"));
  }

  @Test
  void anImagePullErrorFailsAtOnceNamingTheImage() {
    KubernetesEnvironmentProvider p = provider(waiting("20s"));
    CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(10, TimeUnit.SECONDS).until(() -> client.apps().deployments().inNamespace(ns).withName("app").get() != null);
    client.pods().inNamespace(ns).resource(pod("app-1", "aaaa1111").editStatus().addNewContainerStatus().withName("app")
        .withNewState().withNewWaiting().withReason("ImagePullBackOff")
        .withMessage("Back-off pulling image \"registry.example.com/shop:aaaa1111\"").endWaiting().endState()
        .endContainerStatus().endStatus().build()).create();
    assertThatThrownBy(f::join).cause().isInstanceOf(ProviderException.class)
        .hasMessageContaining("ImagePullBackOff").hasMessageContaining("registry.example.com/shop:aaaa1111");
  }

  @Test
  void anUnschedulablePodIsReportedWhenTheDeadlinePasses() {
    KubernetesEnvironmentProvider p = provider(waiting("1s"));
    // The pod is there before the wait starts, so the 1 s deadline cannot pass before it is seen.
    client.pods().inNamespace(ns).resource(pod("app-1", "aaaa1111").editStatus().withPhase("Pending").addNewCondition()
        .withType("PodScheduled").withStatus("False").withReason("Unschedulable")
        .withMessage("0/3 nodes are available: 3 Insufficient cpu.").endCondition().endStatus().build()).create();
    assertThatThrownBy(() -> p.apply(spec(key, "aaaa1111"))).isInstanceOfSatisfying(ProviderException.class, e -> {
      assertThat(e.retryable()).isTrue();
      assertThat(e.getMessage()).contains("not ready after", "Unschedulable", "Insufficient cpu", "app-1");
    });
  }

  @Test
  void listIsOneLabelSelectedCallAndReadsStateFromTheCluster() throws Exception {
    KubernetesEnvironmentProvider p = provider();
    PreviewKey branch = PreviewKey.branch("acme/shop", "feature/x");
    p.apply(spec(key, "aaaa1111"));
    p.apply(spec(PreviewKey.pr("acme/api", 7), "cccc3333"));
    p.apply(spec(branch, "dddd4444"));
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kube-system").endMetadata().build()).create();

    KubernetesEnvironmentProvider restarted = provider(); // a new instance knows everything after one list()
    int before = server.getRequestCount();
    List<Environment> all = restarted.list();
    assertThat(server.getRequestCount() - before).isEqualTo(1);
    RecordedRequest last = server.getLastRequest();
    assertThat(last.getMethod()).isEqualTo("GET");
    assertThat(last.getPath()).startsWith("/api/v1/namespaces?").contains("labelSelector=preview.dev%2Fmanaged%3Dtrue");

    assertThat(all).extracting(Environment::key).containsExactlyInAnyOrder(key, PreviewKey.pr("acme/api", 7), branch);
    Environment b = all.stream().filter(e -> e.key().equals(branch)).findFirst().orElseThrow();
    assertThat(b.revision()).isEqualTo("dddd4444");
    assertThat(b.url()).hasToString("https://" + Names.namespace(branch) + ".preview.example.com");
    assertThat(b.created()).contains(Instant.parse("2026-01-01T10:00:00Z"));
    assertThat(b.labels()).containsEntry(Labels.KEY, "acme/shop@feature/x").doesNotContainKey("preview.dev/url");
    assertThat(b.phase()).isEqualTo(Environment.Phase.STARTING);
  }

  @Test
  void instanceSeparatesTwoInstallationsSharingACluster() {
    provider("blue").apply(spec(key, "aaaa1111"));
    provider("green").apply(spec(PreviewKey.pr("acme/shop", 43), "aaaa1111"));
    assertThat(provider("blue").list()).extracting(Environment::key).containsExactly(key);
    assertThat(provider("green").list()).extracting(Environment::key).containsExactly(PreviewKey.pr("acme/shop", 43));
  }

  @Test
  void twoInstallationsPreviewingTheSameKeyOnOneClusterNeverSeeNorDeleteEachOther() throws Exception {
    KubernetesEnvironmentProvider blue = provider("blue");
    KubernetesEnvironmentProvider green = provider("green");
    PreviewKey onlyBlue = PreviewKey.pr("acme/shop", 43);
    PreviewKey onlyGreen = PreviewKey.pr("acme/shop", 44);
    blue.apply(spec(key, "aaaa1111"));
    blue.apply(spec(onlyBlue, "aaaa1111"));
    green.apply(spec(key, "bbbb2222"));
    green.apply(spec(onlyGreen, "bbbb2222"));

    // one namespace each for the shared key, neither of them the default instance's name
    String blueNs = blue.namespace(key);
    String greenNs = green.namespace(key);
    assertThat(blueNs).isNotEqualTo(greenNs).isNotEqualTo(ns).startsWith("blue-").hasSizeLessThanOrEqualTo(63);
    assertThat(client.namespaces().withName(blueNs).get().getMetadata().getLabels())
        .containsEntry(Labels.INSTANCE, "blue").containsEntry(Labels.MANAGED, "true");
    assertThat(client.namespaces().withName(greenNs).get().getMetadata().getLabels()).containsEntry(Labels.INSTANCE, "green");
    // every object in the namespace carries the instance label
    assertThat(client.apps().deployments().inNamespace(blueNs).withName("app").get().getMetadata().getLabels())
        .containsEntry(Labels.INSTANCE, "blue");
    assertThat(client.services().inNamespace(blueNs).list().getItems())
        .allSatisfy(s -> assertThat(s.getMetadata().getLabels()).containsEntry(Labels.INSTANCE, "blue"));
    assertThat(client.network().v1().ingresses().inNamespace(greenNs).list().getItems()).isNotEmpty()
        .allSatisfy(i -> assertThat(i.getMetadata().getLabels()).containsEntry(Labels.INSTANCE, "green"));
    // a namespace labelled managed but without an instance belongs to no installation
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("legacy-preview")
        .addToLabels(Labels.MANAGED, "true").addToAnnotations(Labels.KEY, "acme/shop#99").endMetadata().build()).create();

    int before = server.getRequestCount();
    assertThat(blue.list()).extracting(Environment::key).containsExactlyInAnyOrder(key, onlyBlue);
    assertThat(server.getLastRequest().getPath()).contains("labelSelector=")
        .contains("preview.dev%2Fmanaged%3Dtrue").contains("preview.dev%2Finstance%3Dblue");
    assertThat(server.getRequestCount() - before).isEqualTo(1);
    assertThat(green.list()).extracting(Environment::key).containsExactlyInAnyOrder(key, onlyGreen);
    assertThat(blue.list()).allSatisfy(e -> assertThat(e.labels()).containsEntry(Labels.INSTANCE, "blue"));
    assertThat(blue.find(onlyGreen)).isEmpty();
    assertThat(green.find(onlyBlue)).isEmpty();
    assertThat(blue.find(key).orElseThrow().revision()).isEqualTo("aaaa1111");
    assertThat(green.find(key).orElseThrow().revision()).isEqualTo("bbbb2222");
    assertThat(provider().list()).as("the default instance sees none of them").isEmpty();

    // blue deletes the shared key (and tries green's): green's namespaces stay
    blue.delete(key);
    blue.delete(onlyGreen);
    assertThat(client.namespaces().withName(blueNs).get()).isNull();
    assertThat(client.namespaces().withName(greenNs).get()).isNotNull();
    assertThat(client.apps().deployments().inNamespace(greenNs).withName("app").get()).isNotNull();
    assertThat(client.namespaces().withName(green.namespace(onlyGreen)).get()).isNotNull();
    assertThat(client.namespaces().withName("legacy-preview").get()).isNotNull();
    assertThat(green.find(key)).get().satisfies(e -> assertThat(e.revision()).isEqualTo("bbbb2222"));

    // a restarted blue (a fresh client) still sees only blue's
    KubernetesEnvironmentProvider restarted = provider("blue");
    assertThat(restarted.list()).extracting(Environment::key).containsExactly(onlyBlue);
    assertThat(restarted.find(key)).isEmpty();
  }

  @Test
  void namespacesOfOtherInstancesAreDistinctDeterministicAndValid() {
    PreviewKey longKey = PreviewKey.branch("acme/" + "a".repeat(80), "feature/" + "b".repeat(80));
    for (String instance : List.of("blue", "Blue", "a.very_long.Instance-name-for-staging-env")) {
      KubernetesEnvironmentProvider p = provider(instance);
      for (PreviewKey k : List.of(key, longKey)) {
        assertThat(p.namespace(k)).matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?").isEqualTo(provider(instance).namespace(k))
            .isNotEqualTo(Names.namespace(k));
      }
      assertThat(p.namespace(key)).isNotEqualTo(p.namespace(longKey));
    }
    assertThat(provider("blue").namespace(key)).isNotEqualTo(provider("Blue").namespace(key));
    assertThat(provider().namespace(key)).isEqualTo(ns);
  }

  @Test
  void removedKeysSayWhatToUseInsteadWithTheOtherProblems() {
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("instance", "blue");
    cfg.put("ingress", Map.of("baseDomain", "preview.example.com", "host", "{repo}-{number}.example.com"));
    cfg.put("replicas", 0);
    assertThatThrownBy(() -> KubernetesEnvironmentProvider.create(client, config(cfg)))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).satisfiesExactlyInAnyOrder(
            s -> assertThat(s).startsWith("environment.instance: removed").contains("top level"),
            s -> assertThat(s).startsWith("environment.ingress.baseDomain: removed").contains("set app.hostname, e.g."
                + " pr-{number}.preview.example.com; the Ingress host and the DNS record both use it"),
            s -> assertThat(s).startsWith("environment.ingress.host: removed").contains("set app.hostname"),
            s -> assertThat(s).startsWith("environment.replicas:")));
  }

  @Test
  void withoutAHostnameThereIsNoIngressAndTheUrlIsTheService() {
    Environment e = provider().apply(spec(key, "aaaa1111").toBuilder().hostname(null).build());
    assertThat(e.url()).hasToString("http://app." + ns + ".svc.cluster.local");
    assertThat(client.network().v1().ingresses().inNamespace(ns).list().getItems()).isEmpty();
  }

  @Test
  void deleteRemovesTheNamespaceAndIsIdempotent() throws Exception {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    drain();
    p.delete(key);
    assertThat(drain()).containsExactly("GET /api/v1/namespaces/" + ns, "DELETE /api/v1/namespaces/" + ns);
    assertThat(client.namespaces().withName(ns).get()).isNull();
    assertThat(p.find(key)).isEmpty();
    assertThat(p.list()).isEmpty();

    drain();
    p.delete(key);
    assertThat(drain()).containsExactly("GET /api/v1/namespaces/" + ns);
  }

  @Test
  void aNamespaceStuckInTerminatingIsReportedNotWaitedOn() {
    MutableClock now = new MutableClock(Instant.now());
    Map<String, Object> cfg = baseConfig();
    cfg.put("delete", Map.of("wait", "300ms", "stuckAfter", "10m"));
    KubernetesEnvironmentProvider p = KubernetesEnvironmentProvider.create(client, config(cfg), now);
    // A finalizer nobody removes: the API server marks the namespace for deletion and keeps it.
    client.namespaces().resource(stuck(ns, key)).create();

    long start = System.nanoTime();
    assertThatThrownBy(() -> p.delete(key)).isInstanceOfSatisfying(ProviderException.class,
        e -> assertThat(e.retryable()).isTrue()).hasMessageContaining("still terminating after").hasMessageContaining("example.com/stuck");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(client.namespaces().withName(ns).get().getMetadata().getDeletionTimestamp()).isNotNull();
    assertThat(p.list()).singleElement().satisfies(e -> assertThat(e.phase()).isEqualTo(Environment.Phase.FAILED));
    assertThat(p.find(key)).hasValueSatisfying(e -> assertThat(e.phase()).isEqualTo(Environment.Phase.FAILED));
    assertThatThrownBy(() -> p.apply(spec(key, "aaaa1111"))).isInstanceOfSatisfying(ProviderException.class,
        e -> assertThat(e.retryable()).isTrue()).hasMessageContaining("still terminating");

    // Deletion in progress for a short while: nothing to send, nothing to report.
    drain();
    p.delete(key);
    assertThat(drain()).containsExactly("GET /api/v1/namespaces/" + ns);

    now.advance(Duration.ofMinutes(30));
    assertThatThrownBy(() -> p.delete(key)).isInstanceOfSatisfying(ProviderException.class,
        e -> assertThat(e.retryable()).isFalse()).hasMessageContaining("has been terminating since")
        .hasMessageContaining("delete.stuckAfter").hasMessageContaining("example.com/stuck");
  }

  @Test
  void anObjectCarryingAnotherPreviewsKeyIsNeverAdopted() {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    PreviewKey other = PreviewKey.pr("acme/shop", 7);
    client.services().inNamespace(ns).withName("app").edit(s -> {
      s.getMetadata().getLabels().put(Labels.KEY, Names.labelValue(other.id()));
      s.getMetadata().getAnnotations().put(Labels.KEY, other.id());
      return s;
    });
    assertThatThrownBy(() -> p.apply(spec(key, "bbbb2222"))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("refusing to adopt Service app").hasMessageContaining("belongs to preview " + other.id());
    assertThat(client.services().inNamespace(ns).withName("app").get().getMetadata().getAnnotations())
        .containsEntry(Labels.KEY, other.id());
  }

  @Test
  void aForeignNamespaceWithOurNameIsNeverTouched() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    KubernetesEnvironmentProvider p = provider();
    assertThatThrownBy(() -> p.apply(spec(key, "aaaa1111"))).isInstanceOf(ProviderException.class).hasMessageContaining("not managed");
    assertThatThrownBy(() -> p.delete(key)).isInstanceOf(ProviderException.class).hasMessageContaining("refusing");
    assertThat(p.find(key)).isEmpty();
    assertThat(client.namespaces().withName(ns).get()).isNotNull();
    assertThat(client.apps().deployments().inNamespace(ns).list().getItems()).isEmpty();
  }

  @Test
  void suspendScalesEveryManagedDeploymentToZeroAndResumeRestoresIt() {
    Map<String, Object> cfg = baseConfig();
    cfg.put("replicas", 2);
    cfg.put("manifests", List.of("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: worker}
        spec:
          replicas: 3
          selector: {matchLabels: {app: worker}}
          template:
            metadata: {labels: {app: worker}}
            spec: {containers: [{name: worker, image: "{image}"}]}
        """));
    KubernetesEnvironmentProvider p = provider(cfg);
    p.apply(spec(key, "aaaa1111"));
    p.suspend(key);
    assertThat(replicas("app")).isZero();
    assertThat(replicas("worker")).isZero();
    assertThat(p.find(key)).hasValueSatisfying(e -> assertThat(e.phase()).isEqualTo(Environment.Phase.SUSPENDED));
    assertThat(p.list()).singleElement().satisfies(e -> assertThat(e.phase()).isEqualTo(Environment.Phase.SUSPENDED));
    p.suspend(key); // idempotent: must not remember 0 as the replica count
    assertThat(p.supportsSuspend()).isTrue();

    Environment resumed = p.resume(key);
    assertThat(replicas("app")).isEqualTo(2);
    assertThat(replicas("worker")).isEqualTo(3);
    assertThat(resumed.phase()).isEqualTo(Environment.Phase.STARTING);
    assertThat(client.apps().deployments().inNamespace(ns).withName("app").get().getMetadata().getAnnotations())
        .doesNotContainKey("preview.dev/replicas");
    assertThatThrownBy(() -> p.suspend(PreviewKey.pr("acme/shop", 999))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("has no environment");
  }

  @Test
  void extraManifestsAreRenderedWithThePreviewsVariablesAndOwned() {
    Map<String, Object> cfg = baseConfig();
    cfg.put("manifests", List.of("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data:
          host: "{host}"
          key: "{key}"
          url: "{url}"
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: cache}
        spec: {ports: [{port: 6379}], selector: {app: cache}}
        """));
    provider(cfg).apply(spec(key, "aaaa1111"));
    ConfigMap cm = client.configMaps().inNamespace(ns).withName("settings").get();
    assertThat(cm.getData()).containsEntry("host", "pr-42.preview.example.com").containsEntry("key", "acme/shop#42")
        .containsEntry("url", "https://pr-42.preview.example.com");
    assertThat(cm.getMetadata().getLabels()).containsEntry(Labels.MANAGED, "true");
    assertThat(cm.getMetadata().getAnnotations()).containsEntry(Labels.KEY, "acme/shop#42");
    assertThat(client.services().inNamespace(ns).withName("cache").get()).isNotNull();
  }

  @Test
  void wildcardTlsSecretIsCopiedIntoTheNamespace() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("certs").endMetadata().build()).create();
    client.secrets().inNamespace("certs").resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName("wildcard-preview").endMetadata().withType("kubernetes.io/tls")
        .withData(Map.of("tls.crt", "Y2VydA==", "tls.key", "a2V5")).build()).create();
    Map<String, Object> cfg = baseConfig();
    cfg.put("ingress", Map.of("tls", Map.of("secretName", "wildcard-preview", "secretNamespace", "certs")));
    Environment e = provider(cfg).apply(spec(key, "aaaa1111").toBuilder().hostname("shop-42.preview.example.com").build());
    assertThat(e.url()).hasToString("https://shop-42.preview.example.com");
    var ingress = client.network().v1().ingresses().inNamespace(ns).withName("app").get();
    assertThat(ingress.getSpec().getTls().get(0).getSecretName()).isEqualTo("wildcard-preview");
    assertThat(ingress.getSpec().getIngressClassName()).isNull();
    assertThat(ingress.getMetadata().getAnnotations()).doesNotContainKey("cert-manager.io/cluster-issuer");
    assertThat(client.secrets().inNamespace(ns).withName("wildcard-preview").get().getData()).containsEntry("tls.key", "a2V5");
  }

  @Test
  void aMissingPullSecretSaysWhereItWasLookedFor() {
    client.secrets().inNamespace("preview-system").withName("regcred").delete();
    assertThatThrownBy(() -> provider().apply(spec(key, "aaaa1111"))).isInstanceOfSatisfying(ProviderException.class,
        e -> assertThat(e.retryable()).isFalse())
        .hasMessageContaining("preview-system/regcred").hasMessageContaining("environment.pullSecrets");
  }

  @Test
  void specHostnameWinsAndNoTlsMeansHttp() {
    Map<String, Object> cfg = baseConfig();
    cfg.put("ingress", Map.of());
    Environment e = provider(cfg).apply(spec(key, "aaaa1111").toBuilder().hostname("shop-42.apps.example.org").build());
    assertThat(e.url()).hasToString("http://shop-42.apps.example.org");
    var ingress = client.network().v1().ingresses().inNamespace(ns).withName("app").get();
    assertThat(ingress.getSpec().getRules().get(0).getHost()).isEqualTo("shop-42.apps.example.org");
    assertThat(ingress.getSpec().getTls()).isNullOrEmpty();
  }

  @Test
  void logsReturnTheLastLinesOfTheNewestPod() throws Exception {
    KubernetesEnvironmentProvider p = provider();
    p.apply(spec(key, "aaaa1111"));
    client.pods().inNamespace(ns).resource(pod("app-1", "aaaa1111").build()).create();
    server.expect().get().withPath("/api/v1/namespaces/" + ns + "/pods/app-1/log?pretty=false&container=app&tailLines=2")
        .andReturn(200, "listening on :8080\nGET /healthz 200\n").always();
    drainRequests();
    assertThat(p.logs(key, 2)).containsExactly("listening on :8080", "GET /healthz 200");
    // Fabric8's getLog() would first LIST and watch the pod to wait for it to be ready (and close that watch at once).
    assertThat(drainRequests()).as("the pods, then one GET of the log: no informer, no watch").containsExactly(
        "GET /api/v1/namespaces/" + ns + "/pods?labelSelector=app.kubernetes.io%2Fname%3Dapp",
        "GET /api/v1/namespaces/" + ns + "/pods/app-1/log?pretty=false&container=app&tailLines=2");
    assertThat(p.logs(PreviewKey.pr("acme/shop", 999), 2)).isEmpty();
  }

  /** The requests the mock server got since the last call, as "METHOD path". */
  private List<String> drainRequests() throws InterruptedException {
    List<String> out = new java.util.ArrayList<>();
    io.fabric8.mockwebserver.http.RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      out.add(r.getMethod() + " " + r.getPath());
    }
    return out;
  }

  @Test
  void imageIsRequired() {
    var noImage = dev.preview.spi.EnvironmentSpec.builder(key, "aaaa1111").command(List.of("java", "-jar", "app.jar")).build();
    assertThatThrownBy(() -> provider().apply(noImage)).isInstanceOf(ProviderException.class).hasMessageContaining("app.image");
  }

  /** {@code network.denyEgress: []}: the policy restricts ingress only, as before egress rules existed. */
  @Test
  void anEmptyDenyEgressLeavesEgressUnrestricted() {
    Map<String, Object> cfg = new LinkedHashMap<>(baseConfig());
    cfg.put("network", Map.of("denyEgress", List.of()));
    PreviewKey key = PreviewKey.pr("acme/shop", 77);
    try (var p = KubernetesEnvironmentProvider.create(client, config(cfg))) {
      p.apply(spec(key, "0123456789abcdef0123456789abcdef01234567"));
      var policy = client.network().v1().networkPolicies().inNamespace(p.namespace(key)).withName("preview-isolation").get();
      assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
      assertThat(policy.getSpec().getEgress()).isNullOrEmpty();
      p.delete(key);
    }
  }

  @Test
  void configProblemsAreReportedAllAtOnce() {
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("replicas", 0);
    cfg.put("quota", Map.of("pods", "ten"));
    cfg.put("ingress", Map.of("baseDomain", "Not A Domain", "host", "{nope}.example.com",
        "tls", Map.of("secretName", "w", "clusterIssuer", "le")));
    cfg.put("readiness", Map.of("timeout", "soon"));
    cfg.put("manifests", List.of("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kube-system}\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: everything}\n"));
    cfg.put("readyness", true);
    cfg.put("network", Map.of("denyEgress", List.of("10.0.0.0/8", "metadata.internal")));
    assertThatThrownBy(() -> KubernetesEnvironmentProvider.create(client, config(cfg)))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).hasSize(10).anySatisfy(
            s -> assertThat(s).startsWith("environment.network.denyEgress[1]:").contains("\"metadata.internal\"")).anySatisfy(
            s -> assertThat(s).startsWith("environment.replicas:")).anySatisfy(
            s -> assertThat(s).startsWith("environment.quota.pods:")).anySatisfy(
            s -> assertThat(s).startsWith("environment.ingress.baseDomain:")).anySatisfy(
            s -> assertThat(s).startsWith("environment.ingress.host:").contains("nope")).anySatisfy(
            s -> assertThat(s).startsWith("environment.ingress.tls.secretName:")).anySatisfy(
            s -> assertThat(s).startsWith("environment.readiness.timeout:")).anySatisfy(
            s -> assertThat(s).startsWith("environment.manifests[0]:").contains("metadata.namespace")).anySatisfy(
            s -> assertThat(s).startsWith("environment.manifests[1]:").contains("ClusterRole everything is cluster-scoped")).anySatisfy(
            s -> assertThat(s).startsWith("environment.readyness: unknown key")));
  }

  @Test
  void factoryIsDiscoveredAndConnectsWithAnExplicitMasterUrlAndToken() throws Exception {
    EnvironmentProvider.Factory factory = ServiceLoader.load(EnvironmentProvider.Factory.class).stream()
        .map(ServiceLoader.Provider::get).filter(f -> f.name().equals("kubernetes")).findFirst().orElseThrow();
    Map<String, Object> cfg = baseConfig();
    cfg.put("masterUrl", client.getMasterUrl().toString());
    cfg.put("token", "t0ken-value");
    cfg.put("trustCerts", true); // the mock server's certificate is self-signed
    try (EnvironmentProvider p = factory.create(ProviderContext.of(config(cfg)))) {
      assertThat(p.name()).isEqualTo("kubernetes");
      assertThat(p.list()).isEmpty();
      assertThat(server.getLastRequest().getHeader("Authorization")).isEqualTo("Bearer t0ken-value");
      p.apply(spec(key, "aaaa1111"));
      assertThat(client.namespaces().withName(ns).get()).isNotNull();
    }
    Map<String, Object> bad = new LinkedHashMap<>();
    bad.put("token", "x");
    bad.put("masterUrl", "kube.example.com");
    assertThatThrownBy(() -> factory.create(ProviderContext.of(ProviderConfig.of("environment", bad))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).hasSize(1)
            .first().asString().contains("masterUrl").doesNotContain("x\""));
  }

  @Test
  void theFactorysProviderBuildsItsClientAtItsFirstApiCallOnly() throws Exception {
    Map<String, Object> cfg = baseConfig();
    cfg.put("masterUrl", client.getMasterUrl().toString());
    cfg.put("token", "t0ken-value");
    cfg.put("trustCerts", true);
    int before = server.getRequestCount();
    KubernetesEnvironmentProvider unused = (KubernetesEnvironmentProvider) new KubernetesEnvironmentProvider.Factory()
        .create(ProviderContext.of(config(cfg)));
    assertThat(unused.clientBuilt()).as("created, validated, never used: no client").isFalse();
    assertThat(unused.name()).isEqualTo("kubernetes");
    unused.close();
    assertThat(unused.clientBuilt()).isFalse();

    KubernetesEnvironmentProvider used = (KubernetesEnvironmentProvider) new KubernetesEnvironmentProvider.Factory()
        .create(ProviderContext.of(config(cfg)));
    assertThat(server.getRequestCount()).as("no request before the first call").isEqualTo(before);
    assertThat(used.list()).isEmpty();
    assertThat(used.clientBuilt()).isTrue();
    assertThat(server.getLastRequest().getHeader("Authorization")).isEqualTo("Bearer t0ken-value");
    used.close();
    assertThat(used.clientBuilt()).isFalse();
    assertThatThrownBy(used::list).isInstanceOf(ProviderException.class).hasMessageContaining("closed");
  }

  @Test
  void factoryReadsAKubeconfigFileAndContext(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path kubeconfig = dir.resolve("config");
    java.nio.file.Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
          - name: mock
            cluster: {server: "%s", insecure-skip-tls-verify: true}
          - name: elsewhere
            cluster: {server: "https://127.0.0.1:1"}
        users:
          - name: bot
            user: {token: kubeconfig-token}
        contexts:
          - name: preview
            context: {cluster: mock, user: bot}
          - name: other
            context: {cluster: elsewhere, user: bot}
        current-context: other
        """.formatted(client.getMasterUrl().toString()));
    Map<String, Object> cfg = baseConfig();
    cfg.put("kubeconfig", kubeconfig.toString());
    cfg.put("context", "preview");
    try (EnvironmentProvider p = new KubernetesEnvironmentProvider.Factory().create(ProviderContext.of(config(cfg)))) {
      assertThat(p.list()).isEmpty();
      assertThat(server.getLastRequest().getHeader("Authorization")).isEqualTo("Bearer kubeconfig-token");
    }
    cfg.put("kubeconfig", dir.resolve("missing").toString());
    assertThatThrownBy(() -> new KubernetesEnvironmentProvider.Factory().create(ProviderContext.of(config(cfg))))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("environment.kubeconfig: cannot read file");
  }

  private int replicas(String deployment) {
    return client.apps().deployments().inNamespace(ns).withName(deployment).get().getSpec().getReplicas();
  }

  /** Every request received since the last drain, as "METHOD /path" without the query. */
  private List<String> drain() {
    List<String> out = new ArrayList<>();
    try {
      RecordedRequest r;
      while ((r = server.takeRequest(20, TimeUnit.MILLISECONDS)) != null) {
        out.add(r.getMethod() + " " + r.getPath().replaceAll("\\?.*", ""));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }

  private static PodBuilder pod(String name, String revision) {
    return new PodBuilder().withNewMetadata().withName(name)
        .withLabels(Map.of("app.kubernetes.io/name", "app"))
        .withAnnotations(Map.of(Labels.REVISION, revision)).withCreationTimestamp("2026-01-01T10:00:00Z").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("registry.example.com/shop:" + revision).endContainer().endSpec()
        .withNewStatus().endStatus();
  }

  private static Namespace stuck(String name, PreviewKey key) {
    return new NamespaceBuilder().withNewMetadata().withName(name)
        .withLabels(Map.of(Labels.MANAGED, "true", Labels.INSTANCE, "default", Labels.KEY, Names.labelValue(key.id())))
        .withAnnotations(Map.of(Labels.KEY, key.id(), Labels.REVISION, "aaaa1111"))
        .withFinalizers("example.com/stuck").endMetadata().build();
  }
}
