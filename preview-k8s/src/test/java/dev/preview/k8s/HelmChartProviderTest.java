package dev.preview.k8s;

import static dev.preview.k8s.K8sFixtures.baseConfig;
import static dev.preview.k8s.K8sFixtures.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code environment.chart}: the test chart {@code charts/shop} (API and worker Deployments, a
 * Service, an Ingress, a ConfigMap from values, a migration Job, an optional ClusterRole) rendered
 * by Helm itself (helm-java's native library) and applied on Fabric8's CRUD mock server.
 */
class HelmChartProviderTest extends MockClusterTest {
  static final String CHART = "src/test/resources/charts/shop";

  /** The base config with the chart: a values file, and --set-like values with placeholders. */
  static Map<String, Object> chartConfig(Map<String, String> extraSet) {
    Map<String, Object> cfg = baseConfig();
    Map<String, String> set = new LinkedHashMap<>();
    set.put("image.repository", "{imageRepository}");
    set.put("image.tag", "{shortSha}");
    set.put("ingress.host", "{hostname}");
    set.put("database.url", "{env.DATABASE_URL}");
    set.putAll(extraSet);
    Map<String, Object> chart = new LinkedHashMap<>();
    chart.put("path", CHART);
    chart.put("valuesFiles", List.of(CHART + "/values-preview.yaml"));
    chart.put("set", set);
    cfg.put("chart", chart);
    return cfg;
  }

  /** {@link #chartConfig(Map)} with one key of its {@code chart} section set to {@code value} (another path, values files, ...). */
  static Map<String, Object> chartConfig(Map<String, String> extraSet, String chartKey, Object value) {
    Map<String, Object> cfg = chartConfig(extraSet);
    @SuppressWarnings("unchecked") Map<String, Object> chart = (Map<String, Object>) cfg.get("chart");
    chart.put(chartKey, value);
    return cfg;
  }

  static EnvironmentSpec spec(PreviewKey key, String revision) {
    return K8sFixtures.spec(key, revision).toBuilder()
        .env("DATABASE_URL", "postgresql://db.example.com:5432/pv_shop_pr_42").build();
  }

  private KubernetesEnvironmentProvider provider(Map<String, Object> cfg) {
    return KubernetesEnvironmentProvider.create(client, config(cfg));
  }

  private Map<String, String> chartSelector() {
    return Map.of(ChartObjects.SOURCE, ChartObjects.CHART);
  }

  @Test
  void renderAndApplyCreatesExactlyTheRenderedObjectsWithOwnershipLabels() {
    Environment e = provider(chartConfig(Map.of())).apply(spec(key, "aaaa1111bbbb"));

    assertThat(names(client.configMaps().inNamespace(ns).withLabels(chartSelector()).list().getItems())).containsExactly("app-config");
    assertThat(names(client.apps().deployments().inNamespace(ns).list().getItems())).containsExactlyInAnyOrder("app-api", "app-worker");
    assertThat(names(client.services().inNamespace(ns).list().getItems())).containsExactly("app-api");
    assertThat(names(client.network().v1().ingresses().inNamespace(ns).list().getItems())).containsExactly("app");
    assertThat(names(client.batch().v1().jobs().inNamespace(ns).list().getItems())).containsExactly("app-migrate");
    assertThat(client.rbac().clusterRoles().list().getItems()).isEmpty();
    // the guardrails still surround the chart, and no built-in app Deployment appears
    assertThat(client.resourceQuotas().inNamespace(ns).withName(ManifestTemplate.QUOTA).get()).isNotNull();
    assertThat(client.limitRanges().inNamespace(ns).withName(ManifestTemplate.LIMITS).get()).isNotNull();
    assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName(ManifestTemplate.POLICY).get()).isNotNull();
    assertThat(client.secrets().inNamespace(ns).withName("app-secrets").get()).isNotNull();

    List<HasMetadata> chartObjects = new java.util.ArrayList<>();
    chartObjects.addAll(client.configMaps().inNamespace(ns).withLabels(chartSelector()).list().getItems());
    chartObjects.addAll(client.apps().deployments().inNamespace(ns).list().getItems());
    chartObjects.addAll(client.services().inNamespace(ns).list().getItems());
    chartObjects.addAll(client.network().v1().ingresses().inNamespace(ns).list().getItems());
    chartObjects.addAll(client.batch().v1().jobs().inNamespace(ns).list().getItems());
    assertThat(chartObjects).hasSize(6).allSatisfy(o -> {
      assertThat(o.getMetadata().getNamespace()).isEqualTo(ns);
      assertThat(o.getMetadata().getLabels()).containsEntry(Labels.MANAGED, "true").containsEntry(Labels.INSTANCE, "default")
          .containsEntry(Labels.KEY, Names.labelValue(key.id())).containsEntry(Labels.REVISION, "aaaa1111bbbb")
          .containsEntry(ChartObjects.SOURCE, ChartObjects.CHART)
          .containsEntry("app.kubernetes.io/part-of", "shop"); // the chart's own labels are kept
      assertThat(o.getMetadata().getAnnotations()).containsEntry(Labels.KEY, key.id());
    });
    Deployment api = client.apps().deployments().inNamespace(ns).withName("app-api").get();
    assertThat(api.getSpec().getTemplate().getMetadata().getLabels()).containsEntry(Labels.REVISION, "aaaa1111bbbb");
    // the URL comes from the chart's Ingress
    assertThat(e.url()).hasToString("http://pr-42.preview.example.com");
    assertThat(e.phase()).isEqualTo(Environment.Phase.STARTING);
  }

  @Test
  void valuesPlaceholdersReachTheObjects() {
    provider(chartConfig(Map.of())).apply(spec(key, "aaaa1111bbbb"));
    ConfigMap config = client.configMaps().inNamespace(ns).withName("app-config").get();
    assertThat(config.getData())
        .containsEntry("GREETING", "hello from PR 42") // from the values file, {number}
        .containsEntry("DATABASE_URL", "postgresql://db.example.com:5432/pv_shop_pr_42") // {env.DATABASE_URL}
        .containsEntry("PUBLIC_HOST", "pr-42.preview.example.com"); // {hostname}
    Deployment worker = client.apps().deployments().inNamespace(ns).withName("app-worker").get();
    // {imageRepository}:{shortSha}: a 7-digit short SHA of digits stays a string, not a number
    assertThat(worker.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("registry.example.com/shop:aaaa111");
    assertThat(client.network().v1().ingresses().inNamespace(ns).withName("app").get().getSpec().getRules().get(0).getHost())
        .isEqualTo("pr-42.preview.example.com");
  }

  @Test
  void anUpdateThatDropsTheWorkerPrunesItAndNothingElse() {
    provider(chartConfig(Map.of())).apply(spec(key, "aaaa1111"));
    // Not the chart's: an object of ours without the chart label, one of another namespace with the same labels.
    Map<String, String> ours = new LinkedHashMap<>(client.configMaps().inNamespace(ns).withName("app-config").get().getMetadata().getLabels());
    ours.remove(ChartObjects.SOURCE);
    client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("kept-by-hand")
        .withLabels(ours).endMetadata().build()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("elsewhere").endMetadata().build()).create();
    Map<String, String> chartLabels = client.apps().deployments().inNamespace(ns).withName("app-worker").get().getMetadata().getLabels();
    client.configMaps().inNamespace("elsewhere").resource(new ConfigMapBuilder().withNewMetadata().withName("app-gone")
        .withLabels(chartLabels).endMetadata().build()).create();

    Environment e = provider(chartConfig(Map.of("worker.enabled", "false"))).apply(spec(key, "bbbb2222"));

    assertThat(names(client.apps().deployments().inNamespace(ns).list().getItems())).containsExactly("app-api");
    assertThat(client.apps().deployments().inNamespace(ns).withName("app-api").get().getMetadata().getLabels())
        .containsEntry(Labels.REVISION, "bbbb2222");
    assertThat(names(client.configMaps().inNamespace(ns).list().getItems())).contains("app-config", "kept-by-hand");
    assertThat(client.configMaps().inNamespace("elsewhere").withName("app-gone").get()).isNotNull();
    assertThat(client.resourceQuotas().inNamespace(ns).withName(ManifestTemplate.QUOTA).get()).isNotNull();
    // the migration Job of the new revision replaced the old one (a Job's template is immutable)
    Job migrate = client.batch().v1().jobs().inNamespace(ns).withName("app-migrate").get();
    assertThat(migrate.getMetadata().getLabels()).containsEntry(Labels.REVISION, "bbbb2222");
    assertThat(e.revision()).isEqualTo("bbbb2222");
  }

  @Test
  void aChartWithAClusterRoleIsRefusedAndNothingIsApplied() {
    KubernetesEnvironmentProvider p = provider(chartConfig(Map.of("rbac.clusterRole", "true")));
    assertThatThrownBy(() -> p.apply(spec(key, "aaaa1111")))
        .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isFalse())
        .hasMessageContaining("ClusterRole app-reader is cluster-scoped")
        .hasMessageContaining("nothing of " + key + " was applied");
    assertThat(client.namespaces().withName(ns).get()).isNull();
    assertThat(client.rbac().clusterRoles().list().getItems()).isEmpty();
  }

  @Test
  void aClusterRoleCanNeverBeAllowed() {
    Map<String, Object> cfg = chartConfig(Map.of(), "allowClusterKinds", List.of("ClusterRole"));
    assertThatThrownBy(() -> provider(cfg)).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.chart.allowClusterKinds: ClusterRole can never be created");
  }

  @Test
  void anObjectNamingAnotherNamespaceIsRefused(@TempDir Path dir) throws Exception {
    Path chart = copyChart(dir);
    Files.writeString(chart.resolve("templates/elsewhere.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky\n  namespace: kube-system\ndata: {a: b}\n");
    Map<String, Object> cfg = chartConfig(Map.of(), "path", chart.toString());
    assertThatThrownBy(() -> provider(cfg).apply(spec(key, "aaaa1111")))
        .hasMessageContaining("ConfigMap sneaky names namespace kube-system");
    assertThat(client.namespaces().withName(ns).get()).isNull();
    assertThat(client.configMaps().inNamespace("kube-system").list().getItems()).isEmpty();
  }

  @Test
  void aChartThatFailsToRenderReportsHelmsMessageAndTheValuesFileLine(@TempDir Path dir) throws Exception {
    Path values = dir.resolve("values-broken.yaml");
    Files.writeString(values, "greeting: \"PR {number}\"\nworker:\n  replicas: [1\n");
    Map<String, Object> cfg = chartConfig(Map.of(), "valuesFiles", List.of(values.toString()));
    assertThatThrownBy(() -> provider(cfg).apply(spec(key, "aaaa1111")))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("does not render")
        .hasMessageContaining(values.toString()) // the original file, not the placeholder-filled copy
        .hasMessageContaining("line 3")
        .hasMessageNotContaining("preview-chart-");
    assertThat(client.namespaces().withName(ns).get()).isNull();
  }

  @Test
  void aTemplateErrorIsHelmsOwnMessage(@TempDir Path dir) throws Exception {
    Path chart = copyChart(dir);
    Files.writeString(chart.resolve("templates/required.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ required \"set values.smtp.host for previews\" .Values.smtp }}\n");
    Map<String, Object> cfg = chartConfig(Map.of(), "path", chart.toString());
    assertThatThrownBy(() -> provider(cfg).apply(spec(key, "aaaa1111")))
        .hasMessageContaining("set values.smtp.host for previews").hasMessageContaining("templates/required.yaml");
    assertThat(client.namespaces().withName(ns).get()).isNull();
  }

  @Test
  void aMissingEnvPlaceholderIsAClearErrorBeforeAnythingIsApplied() {
    EnvironmentSpec without = K8sFixtures.spec(key, "aaaa1111"); // no DATABASE_URL in app.env
    assertThatThrownBy(() -> provider(chartConfig(Map.of())).apply(without))
        .hasMessageContaining("{env.DATABASE_URL}".replace("{", "").replace("}", "")).hasMessageContaining("app.env");
    assertThat(client.namespaces().withName(ns).get()).isNull();
  }

  @Test
  void unknownPlaceholdersAreConfigProblems() {
    assertThatThrownBy(() -> provider(chartConfig(Map.of("image.tag", "{sah}")))).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.chart.set.image.tag: unknown placeholder(s) [sah]");
  }

  @Test
  void chartConfigProblemsAreReportedTogether() {
    Map<String, Object> cfg = baseConfig();
    cfg.put("chart", Map.of("version", "1.2.3", "release", "Not_A_Release", "set", Map.of("bad path!", "x")));
    assertThatThrownBy(() -> provider(cfg)).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("environment.chart.path: set exactly one of chart.path")
        .hasMessageContaining("environment.chart.release: must be a Helm release name")
        .hasMessageContaining("environment.chart.set.bad path!: must be a dotted values path");
  }

  @Test
  void aFirstProvisionThatFailsHalfWayDeletesTheNamespaceItCreated() {
    server.expect().post().withPath("/apis/batch/v1/namespaces/" + ns + "/jobs").andReturn(500, "etcd unavailable").always();
    assertThatThrownBy(() -> provider(chartConfig(Map.of())).apply(spec(key, "aaaa1111")))
        .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.retryable()).isTrue());
    assertThat(client.namespaces().withName(ns).get()).isNull();
  }

  @Test
  void aPackagedChartRendersLikeItsDirectory(@TempDir Path dir) {
    new Helm(Path.of(CHART)).packageIt().withDestination(dir).call();
    Path tgz = dir.resolve("shop-0.1.0.tgz");
    assertThat(tgz).exists();
    Map<String, Object> cfg = chartConfig(Map.of(), "path", tgz.toString());
    provider(cfg).apply(spec(key, "aaaa1111"));
    assertThat(names(client.apps().deployments().inNamespace(ns).list().getItems())).containsExactlyInAnyOrder("app-api", "app-worker");
  }

  /** The chart's config with the readiness wait on. */
  static Map<String, Object> waitingConfig() {
    Map<String, Object> cfg = chartConfig(Map.of());
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "50ms", "timeout", "30s", "watch", false));
    return cfg;
  }

  /** Starts {@code apply} of {@code aaaa1111} in the background; returns once the chart's objects exist and {@code app-api} is ready. */
  CompletableFuture<Environment> applyUntilTheApiIsReady(KubernetesEnvironmentProvider p) {
    return applyUntilReady(p, "app-api");
  }

  /** Starts {@code apply} of {@code aaaa1111} in the background; returns once the chart's objects exist and {@code deployment} is ready. */
  CompletableFuture<Environment> applyUntilReady(KubernetesEnvironmentProvider p, String deployment) {
    CompletableFuture<Environment> f = CompletableFuture.supplyAsync(() -> p.apply(spec(key, "aaaa1111")));
    await().atMost(20, TimeUnit.SECONDS).until(() -> client.network().v1().ingresses().inNamespace(ns).withName("app").get() != null);
    K8sFixtures.markReady(client, ns, deployment);
    return f;
  }

  @Test
  void readinessWaitsForTheApiWhenTheWorkerAndTheJobAreReady() {
    KubernetesEnvironmentProvider p = provider(waitingConfig());
    CompletableFuture<Environment> f = applyUntilReady(p, "app-worker");
    client.batch().v1().jobs().inNamespace(ns).withName("app-migrate")
        .edit(j -> { j.setStatus(new JobStatusBuilder().withSucceeded(1).build()); return j; });
    int before = server.getRequestCount();
    await().atMost(10, TimeUnit.SECONDS).until(() -> server.getRequestCount() >= before + 8);
    assertThat(f).as("the worker and the Job are ready, the API is not").isNotDone();
    K8sFixtures.markReady(client, ns, "app-api");
    assertThat(f.join().phase()).isEqualTo(Environment.Phase.RUNNING);
  }

  @Test
  void readinessWaitsForEveryDeploymentAndTheJob() {
    KubernetesEnvironmentProvider p = provider(waitingConfig());
    CompletableFuture<Environment> f = applyUntilTheApiIsReady(p);
    client.batch().v1().jobs().inNamespace(ns).withName("app-migrate")
        .edit(j -> { j.setStatus(new JobStatusBuilder().withSucceeded(1).build()); return j; });
    // The wait has looked at the worker again since the API and the Job became ready, and still waits.
    int before = server.getRequestCount();
    await().atMost(10, TimeUnit.SECONDS).until(() -> server.getRequestCount() >= before + 8);
    assertThat(f).isNotDone();
    K8sFixtures.markReady(client, ns, "app-worker");
    Environment e = f.join();
    assertThat(e.phase()).isEqualTo(Environment.Phase.RUNNING);
    assertThat(p.find(key)).hasValueSatisfying(x -> assertThat(x.phase()).isEqualTo(Environment.Phase.RUNNING));
  }

  @Test
  void aCrashingWorkerFailsTheRolloutNamingItsDeploymentAndLogs() {
    KubernetesEnvironmentProvider p = provider(waitingConfig());
    CompletableFuture<Environment> f = applyUntilTheApiIsReady(p);
    Deployment worker = client.apps().deployments().inNamespace(ns).withName("app-worker").get();
    server.expect().get().withPath("/api/v1/namespaces/" + ns + "/pods/app-worker-5c7-q2/log?pretty=false&container=worker&tailLines=20")
        .andReturn(200, "worker starting\nFATAL: queue unreachable\n").always();
    client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("app-worker-5c7-q2")
        .withLabels(worker.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewSpec().addNewContainer().withName("worker").withImage("x").endContainer().endSpec()
        .withNewStatus().addNewContainerStatus().withName("worker").withRestartCount(4)
        .withNewState().withNewWaiting().withReason("CrashLoopBackOff").endWaiting().endState()
        .endContainerStatus().endStatus().build()).create();

    assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).cause()
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).contains("deployment app-worker", "CrashLoopBackOff", "app-worker-5c7-q2",
              "FATAL: queue unreachable");
        });
    assertThat(p.find(key)).hasValueSatisfying(x -> assertThat(x.phase()).isEqualTo(Environment.Phase.FAILED));
  }

  @Test
  void aJobWhoseImageCannotBePulledFailsTheRolloutAtOnceNamingTheJob() {
    KubernetesEnvironmentProvider p = provider(waitingConfig());
    CompletableFuture<Environment> f = applyUntilTheApiIsReady(p);
    Job migrate = client.batch().v1().jobs().inNamespace(ns).withName("app-migrate").get();
    client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("app-migrate-x7k")
        .withLabels(migrate.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewSpec().addNewContainer().withName("migrate").withImage("x").endContainer().endSpec()
        .withNewStatus().addNewContainerStatus().withName("migrate")
        .withNewState().withNewWaiting().withReason("ImagePullBackOff").withMessage("pull access denied").endWaiting().endState()
        .endContainerStatus().endStatus().build()).create();

    assertThatThrownBy(f::join).cause().isInstanceOfSatisfying(ProviderException.class, e -> {
      assertThat(e.retryable()).as("a new push is needed").isFalse();
      assertThat(e.getMessage()).contains("job app-migrate", "container migrate: ImagePullBackOff (pull access denied)",
          "app-migrate-x7k").doesNotContain("not ready after");
    });
  }

  @Test
  void anUnschedulableWorkerIsNamedWhenTheDeadlinePasses() {
    Map<String, Object> cfg = chartConfig(Map.of());
    cfg.put("readiness", Map.of("wait", true, "pollInterval", "50ms", "timeout", "2s", "watch", false));
    KubernetesEnvironmentProvider p = provider(cfg);
    CompletableFuture<Environment> f = applyUntilTheApiIsReady(p);
    client.batch().v1().jobs().inNamespace(ns).withName("app-migrate")
        .edit(j -> { j.setStatus(new JobStatusBuilder().withSucceeded(1).build()); return j; });
    Deployment worker = client.apps().deployments().inNamespace(ns).withName("app-worker").get();
    client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("app-worker-5c7-p9")
        .withLabels(worker.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewSpec().addNewContainer().withName("worker").withImage("x").endContainer().endSpec()
        .withNewStatus().addNewCondition().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
        .withMessage("0/3 nodes are available: 3 Insufficient memory.").endCondition().endStatus().build()).create();

    assertThatThrownBy(f::join).cause().isInstanceOfSatisfying(ProviderException.class, e -> {
      assertThat(e.retryable()).as("the cluster may still scale up").isTrue();
      assertThat(e.getMessage()).contains("not ready after PT2S", "deployment app-worker",
          "Unschedulable (0/3 nodes are available: 3 Insufficient memory.)", "app-worker-5c7-p9");
    });
  }

  @Test
  void aNamespaceOfAnotherPreviewIsNeverAdopted() {
    PreviewKey other = PreviewKey.pr("acme/shop", 7);
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
        .withLabels(Map.of(Labels.MANAGED, "true", Labels.INSTANCE, "default", Labels.KEY, Names.labelValue(other.id())))
        .withAnnotations(Map.of(Labels.KEY, other.id())).endMetadata().build()).create();
    for (Map<String, Object> cfg : List.of(baseConfig(), chartConfig(Map.of()))) {
      assertThatThrownBy(() -> provider(cfg).apply(spec(key, "aaaa1111"))).isInstanceOf(ProviderException.class)
          .hasMessageContaining("belongs to preview " + other.id()).hasMessageContaining("refusing");
      assertThatThrownBy(() -> provider(cfg).delete(key)).hasMessageContaining("belongs to preview " + other.id());
    }
    assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations()).containsEntry(Labels.KEY, other.id());
    assertThat(client.apps().deployments().inNamespace(ns).list().getItems()).isEmpty();
  }

  @Test
  void anObjectOfAnotherPreviewIsNeverAdoptedAndNothingIsUpdated() {
    KubernetesEnvironmentProvider p = provider(chartConfig(Map.of()));
    p.apply(spec(key, "aaaa1111"));
    PreviewKey other = PreviewKey.pr("acme/shop", 7);
    client.configMaps().inNamespace(ns).withName("app-config").edit(cm -> {
      cm.getMetadata().getLabels().put(Labels.KEY, Names.labelValue(other.id()));
      cm.getMetadata().getAnnotations().put(Labels.KEY, other.id());
      return cm;
    });
    assertThatThrownBy(() -> p.apply(spec(key, "bbbb2222"))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("ConfigMap app-config belongs to preview " + other.id());
    assertThat(client.apps().deployments().inNamespace(ns).withName("app-api").get().getMetadata().getLabels())
        .containsEntry(Labels.REVISION, "aaaa1111");
  }

  @Test
  void theUrlIsTheChartsIngressHostHttpsWhenItsTlsListsItNotTheConfiguredHostname() {
    Environment e = provider(chartConfig(Map.of("ingress.host", "shop-{number}.apps.example.com", "ingress.tls", "true")))
        .apply(spec(key, "aaaa1111"));
    assertThat(e.url()).hasToString("https://shop-42.apps.example.com");
    assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations())
        .containsEntry(KubernetesEnvironmentProvider.URL, "https://shop-42.apps.example.com");
    assertThat(provider(chartConfig(Map.of("ingress.enabled", "false"))).apply(spec(key, "bbbb2222")).url())
        .as("no Ingress in the render: the configured app.hostname (https: the base config names a cert-manager issuer)")
        .hasToString("https://pr-42.preview.example.com");
  }

  @Test
  void inlineValuesAndTheShaImageAndNamespacePlaceholdersReachTheObjects() {
    Map<String, Object> cfg = chartConfig(Map.of(), "values", "greeting: \"{sha} as {image} in {namespace}\"\n");
    provider(cfg).apply(spec(key, "aaaa1111bbbb"));
    assertThat(client.configMaps().inNamespace(ns).withName("app-config").get().getData())
        .as("inline values override the values file (its greeting uses {number})")
        .containsEntry("GREETING", "aaaa1111bbbb as registry.example.com/shop:aaaa1111bbbb in " + ns);
  }

  @Test
  void aClusterRoleAddedByAnUpdateIsRefusedAndTheLivePreviewIsLeftAsItWas() {
    provider(chartConfig(Map.of())).apply(spec(key, "aaaa1111"));
    KubernetesEnvironmentProvider p = provider(chartConfig(Map.of("rbac.clusterRole", "true", "worker.enabled", "false")));
    assertThatThrownBy(() -> p.apply(spec(key, "bbbb2222"))).isInstanceOf(ProviderException.class)
        .hasMessageContaining("ClusterRole app-reader is cluster-scoped").hasMessageContaining("nothing of " + key + " was applied");
    assertThat(client.rbac().clusterRoles().list().getItems()).isEmpty();
    assertThat(names(client.apps().deployments().inNamespace(ns).list().getItems()))
        .as("the worker the refused render drops is not pruned").containsExactlyInAnyOrder("app-api", "app-worker");
    assertThat(client.apps().deployments().inNamespace(ns).withName("app-api").get().getMetadata().getLabels())
        .containsEntry(Labels.REVISION, "aaaa1111");
    assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations()).containsEntry(Labels.REVISION, "aaaa1111");
  }

  @Test
  void anAllowedClusterKindIsCreatedWhenAbsentAndNeverUpdatedOrPruned(@TempDir Path dir) throws Exception {
    Path chart = copyChart(dir);
    Files.writeString(chart.resolve("templates/ingressclass.yaml"), """
        {{- if .Values.ingressClass }}
        apiVersion: networking.k8s.io/v1
        kind: IngressClass
        metadata:
          name: preview-nginx
        spec:
          controller: k8s.io/ingress-nginx
        {{- end }}
        """);
    Map<String, Object> cfg = chartConfig(Map.of("ingressClass", "true"), "path", chart.toString());
    @SuppressWarnings("unchecked") Map<String, Object> section = (Map<String, Object>) cfg.get("chart");
    section.put("allowClusterKinds", List.of("IngressClass"));
    provider(cfg).apply(spec(key, "aaaa1111"));
    var created = client.network().v1().ingressClasses().withName("preview-nginx").get();
    assertThat(created.getSpec().getController()).isEqualTo("k8s.io/ingress-nginx");
    assertThat(created.getMetadata().getLabels()).containsEntry(Labels.MANAGED, "true").containsEntry(ChartObjects.SOURCE, ChartObjects.CHART);

    client.network().v1().ingressClasses().withName("preview-nginx").edit(c -> {
      c.getSpec().setController("example.com/edited-by-the-platform-team");
      return c;
    });
    provider(cfg).apply(spec(key, "bbbb2222"));
    assertThat(client.network().v1().ingressClasses().withName("preview-nginx").get().getSpec().getController())
        .as("never updated").isEqualTo("example.com/edited-by-the-platform-team");

    Map<String, Object> dropped = chartConfig(Map.of("ingressClass", "false"), "path", chart.toString());
    @SuppressWarnings("unchecked") Map<String, Object> droppedSection = (Map<String, Object>) dropped.get("chart");
    droppedSection.put("allowClusterKinds", List.of("IngressClass"));
    provider(dropped).apply(spec(key, "cccc3333"));
    assertThat(client.network().v1().ingressClasses().withName("preview-nginx").get()).as("never pruned").isNotNull();
    assertThat(client.apps().deployments().inNamespace(ns).withName("app-api").get().getMetadata().getLabels())
        .containsEntry(Labels.REVISION, "cccc3333");
  }

  @Test
  void aChartThatShipsItsCrdGetsTheCrdFirstThenItsCustomResourceWhichAnUpdateMayPrune(@TempDir Path dir) throws Exception {
    Path chart = copyChart(dir);
    Files.writeString(chart.resolve("templates/crd.yaml"), """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.shop.example.com
        spec:
          group: shop.example.com
          scope: Namespaced
          names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """);
    Files.writeString(chart.resolve("templates/widget.yaml"), """
        {{- if .Values.widget }}
        apiVersion: shop.example.com/v1
        kind: Widget
        metadata:
          name: {{ .Release.Name }}-widget
        spec: {size: 3}
        {{- end }}
        """);
    Map<String, Object> cfg = chartConfig(Map.of("widget", "true"), "path", chart.toString());
    @SuppressWarnings("unchecked") Map<String, Object> section = (Map<String, Object>) cfg.get("chart");
    section.put("allowClusterKinds", List.of("CustomResourceDefinition"));
    int before = server.getRequestCount();

    provider(cfg).apply(spec(key, "aaaa1111"));

    List<String> posts = new java.util.ArrayList<>();
    for (int i = 0, total = server.getRequestCount(); i < total; i++) {
      var r = server.takeRequest(1, TimeUnit.SECONDS);
      if (i >= before && r != null && r.getMethod().equals("POST")) {
        posts.add(r.getPath());
      }
    }
    assertThat(posts).as("the CRD before any object of the chart")
        .filteredOn(x -> x.contains("customresourcedefinitions") || x.contains("/configmaps") || x.contains("/widgets"))
        .first().asString().contains("customresourcedefinitions");
    assertThat(client.apiextensions().v1().customResourceDefinitions().withName("widgets.shop.example.com").get()).isNotNull();
    var widgets = client.genericKubernetesResources("shop.example.com/v1", "Widget").inNamespace(ns);
    assertThat(widgets.withName("app-widget").get().getMetadata().getLabels())
        .containsEntry(Labels.KEY, Names.labelValue(key.id())).containsEntry(ChartObjects.SOURCE, ChartObjects.CHART);

    Map<String, Object> dropped = chartConfig(Map.of("widget", "false"), "path", chart.toString());
    @SuppressWarnings("unchecked") Map<String, Object> droppedSection = (Map<String, Object>) dropped.get("chart");
    droppedSection.put("allowClusterKinds", List.of("CustomResourceDefinition"));
    provider(dropped).apply(spec(key, "bbbb2222"));
    assertThat(widgets.withName("app-widget").get()).as("pruned: the render no longer has it").isNull();
    assertThat(client.apiextensions().v1().customResourceDefinitions().withName("widgets.shop.example.com").get())
        .as("a CRD outlives the preview").isNotNull();
  }

  @Test
  void aChartFetchedOverHttpRendersLikeItsDirectory(@TempDir Path dir) throws Exception {
    new Helm(Path.of(CHART)).packageIt().withDestination(dir).call();
    byte[] tgz = Files.readAllBytes(dir.resolve("shop-0.1.0.tgz"));
    List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    http.createContext("/charts/", exchange -> {
      asked.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
      boolean found = exchange.getRequestURI().getPath().equals("/charts/shop-0.1.0.tgz");
      exchange.sendResponseHeaders(found ? 200 : 404, found ? tgz.length : -1);
      if (found) {
        exchange.getResponseBody().write(tgz);
      }
      exchange.close();
    });
    http.start();
    try {
      Map<String, Object> cfg = chartConfig(Map.of());
      @SuppressWarnings("unchecked") Map<String, Object> section = (Map<String, Object>) cfg.get("chart");
      section.remove("path");
      section.put("ref", "http://127.0.0.1:" + http.getAddress().getPort() + "/charts/shop-0.1.0.tgz");
      Environment e = provider(cfg).apply(spec(key, "aaaa1111"));
      assertThat(asked).contains("GET /charts/shop-0.1.0.tgz");
      assertThat(names(client.apps().deployments().inNamespace(ns).list().getItems())).containsExactlyInAnyOrder("app-api", "app-worker");
      assertThat(client.configMaps().inNamespace(ns).withName("app-config").get().getData()).containsEntry("GREETING", "hello from PR 42");
      assertThat(e.url()).hasToString("http://pr-42.preview.example.com");
    } finally {
      http.stop(0);
    }
  }

  private static List<String> names(List<? extends HasMetadata> items) {
    return items.stream().map(i -> i.getMetadata().getName()).toList();
  }

  private static Path copyChart(Path dir) throws Exception {
    Path to = dir.resolve("shop");
    Path from = Path.of(CHART);
    try (var s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return to;
  }
}
