package dev.preview.k8s;

import dev.preview.spi.RegistryManifests;

import dev.preview.spi.AppExit;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.ImageAvailability;
import dev.preview.spi.Installation;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceCondition;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code kubernetes} environment provider: one namespace per preview, holding a Deployment,
 * a Service, an Ingress, a NetworkPolicy that isolates it from other previews, optional
 * ResourceQuota and LimitRange, its secrets, copied registry credentials and any extra manifests
 * from config. Everything is rendered from one template ({@code ManifestTemplate}) and applied with
 * create-or-update, so {@link #apply} is idempotent and repairs whatever a crashed call left.
 *
 * <p>State lives on the cluster: the namespace and every object in it carry the ownership labels
 * (selectable, hashed where a value does not fit a label), the {@linkplain Installation#instance()
 * instance} among them, and annotations (the full key, revision, created, expires, URL, phase).
 * {@link #list()} is a single namespace list selected on {@code preview.dev/managed=true} and
 * {@code preview.dev/instance=<instance>}; {@link #find}, {@link #delete} and {@link #apply} touch a
 * namespace only when its labels say it is this installation's ({@link Installation#owns}). The
 * namespace is {@link Names#namespace} for instance {@code default}, and starts with the instance
 * for any other, so two installations previewing the same key on one cluster never meet.
 *
 * <p>The Ingress host is the spec's {@link EnvironmentSpec#hostname()} (the one hostname rule,
 * {@code app.hostname}); without one there is no Ingress and the URL is the in-cluster Service.
 *
 * <p>Thread-safe for different keys (the Fabric8 client is thread-safe; the provider holds no
 * per-preview state).
 */
public final class KubernetesEnvironmentProvider implements EnvironmentProvider {
  /** The name in {@code environment.provider}. */
  public static final String NAME = "kubernetes";

  static final String URL = Labels.PREFIX + "url";
  static final String PHASE = Labels.PREFIX + "phase";
  static final String REPLICAS = Labels.PREFIX + "replicas";
  /** Namespace annotation: the {@code apiVersion/kind}s a chart's last renders applied, what an update prunes among. */
  static final String CHART_KINDS = Labels.PREFIX + "chart-kinds";
  static final String MANAGED_BY_VALUE = "preview";
  private static final Set<String> INTERNAL = Set.of(URL, PHASE, REPLICAS, CHART_KINDS);
  /** Instants do not fit label values (':'), so they live in annotations only. */
  private static final Set<String> ANNOTATION_ONLY = Set.of(Labels.CREATED, Labels.EXPIRES, Labels.LAST_ACTIVITY,
      Labels.LAST_PUSH, Labels.LAST_VISIT, Labels.TIME_TO_URL);
  private static final Pattern LABEL_KEY = Pattern.compile(
      "([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEnvironmentProvider.class);

  private final LazyClient clients;
  private final KubernetesSettings settings;
  private final ManifestTemplate template;
  private final HelmChart chart;
  private final Clock clock;
  private final Installation installation;
  private final RegistryManifests registry;
  /** The pull secrets' registry authorizations, and when they were read (System.nanoTime); guarded by this. */
  private Map<String, String> registryAuths;
  private long registryAuthsRead;
  /** Prefix of namespace names for an instance other than {@code default}; null for it. */

  private KubernetesEnvironmentProvider(LazyClient clients, KubernetesSettings settings, Installation installation,
      Clock clock) {
    this.clients = clients;
    this.settings = settings;
    this.template = new ManifestTemplate(settings);
    this.chart = settings.chart == null ? null : new HelmChart(settings.chart, () -> client().getKubernetesSerialization());
    this.installation = installation;
    this.clock = clock;
    this.registry = RegistryManifests.lazy(java.time.Duration.ofSeconds(5), this::registryAuthorizations);
  }

  /**
   * A provider on an existing client (embedding, tests). The client is not closed by {@link #close()}.
   * Connection keys ({@code masterUrl}, {@code token}, {@code kubeconfig}, ...) are rejected here.
   *
   * @throws dev.preview.spi.ConfigurationException listing every problem of {@code config}
   */
  public static KubernetesEnvironmentProvider create(KubernetesClient client, ProviderConfig config) {
    return create(client, ProviderContext.of(config));
  }

  /**
   * As {@link #create(KubernetesClient, ProviderConfig)} in the default installation, with the clock
   * used for created/expires and stuck-namespace checks.
   */
  public static KubernetesEnvironmentProvider create(KubernetesClient client, ProviderConfig config, Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return create(client, ProviderContext.of(config, Installation.defaults().toBuilder().clock(clock).build()));
  }

  /**
   * Fabric8's HTTP logging interceptor, which at TRACE writes every request's and answer's headers
   * (the bearer token) and bodies (each Secret manifest: base64 of every secret value).
   */
  static final List<String> LEAKY_LOGGERS = List.of("io.fabric8.kubernetes.client.http.HttpLoggingInterceptor");

  /** Refuses to build the provider while {@link #LEAKY_LOGGERS} would print secrets. */
  static void refuseLeakyLoggers(java.util.function.Predicate<String> atDebug) {
    dev.preview.spi.LeakyLoggers.refuse("environment", LEAKY_LOGGERS,
        "it writes the API token and every Secret manifest (the secrets' values) to the log; set"
        + " io.fabric8.kubernetes.client to INFO or above in the logging config (slf4j-simple:"
        + " -Dorg.slf4j.simpleLogger.log.io.fabric8.kubernetes.client=info; logback: <logger"
        + " name=\"io.fabric8.kubernetes.client\" level=\"INFO\"/>)", atDebug);
  }

  /**
   * A provider on an existing client for the context's section and {@link Installation} (its
   * instance selects and labels everything; its clock stamps created/expires). The client is not
   * closed by {@link #close()}.
   *
   * @throws ConfigurationException listing every problem of the section
   */
  public static KubernetesEnvironmentProvider create(KubernetesClient client, ProviderContext context) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(context, "context");
    ProviderConfig config = context.config();
    KubernetesSettings s = KubernetesSettings.read(config);
    if (s.masterUrl != null || s.kubeconfig != null || s.token != null) {
      config.problem("masterUrl", "connection keys are not used when a client is given; remove them");
    }
    config.validate();
    refuseLeakyLoggers(dev.preview.spi.LeakyLoggers::atDebug);
    Installation i = context.installation();
    return new KubernetesEnvironmentProvider(LazyClient.given(client), s, i, i.clock());
  }

  /** The installation whose previews this provider runs and sees. */
  public Installation installation() {
    return installation;
  }

  /**
   * The namespace of {@code key}'s preview: {@link Names#namespace(Installation, PreviewKey)}, so the
   * default instance keeps the names of earlier versions and two installations never share one.
   */
  String namespace(PreviewKey key) {
    return Names.namespace(installation, key);
  }


  @Override
  public String name() {
    return NAME;
  }

  // ---------------------------------------------------------------------------------------- apply

  @Override
  public Environment apply(EnvironmentSpec spec) {
    PreviewKey key = spec.key();
    if (spec.image() == null) {
      throw new ProviderException(NAME, "preview " + key + " has no image; the kubernetes provider cannot build "
          + "from a build context: build and push an image in CI and set app.image", false);
    }
    String ns = namespace(key);
    return call("apply " + key + " in namespace " + ns, () -> {
      Namespace existing = read(() -> client().namespaces().withName(ns).get());
      requireOurs(existing, key);
      if (terminating(existing)) {
        throw new ProviderException(NAME, "namespace " + ns + " of " + key + " is still terminating from an earlier "
            + "teardown; retry once it is gone" + stuckDetail(existing), true);
      }
      if (chart != null) {
        return applyChart(spec, ns, existing);
      }
      Instant now = clock.instant();
      Map<String, String> labels = labels(spec);
      Map<String, String> annotations = annotations(spec, existing, now);
      String host = host(spec, ns);
      String url = url(host, ns);

      Map<String, String> nsAnnotations = new LinkedHashMap<>(annotations);
      nsAnnotations.put(URL, url);
      // the app's Service inside the cluster, for a gateway in front of an Ingress URL (which leads back to it)
      nsAnnotations.put(Labels.SERVICE_URL, serviceUrl(ns));
      nsAnnotations.put(PHASE, Environment.Phase.STARTING.name());
      ManifestTemplate.Context bare = new ManifestTemplate.Context(ns, host, labels, nsAnnotations, List.of(), null, List.of());
      upsertNamespace(existing, template.namespace(bare));

      List<String> pullSecrets = new ArrayList<>();
      for (String name : settings.pullSecrets) {
        pullSecrets.add(copySecret(sourceNamespace(settings.pullSecretsNamespace), name, ns, labels, annotations, "environment.pullSecrets", existing != null));
      }
      String tlsSecret = null;
      if (host != null && settings.ingressEnabled) {
        if (settings.tlsSecretName != null) {
          tlsSecret = copySecret(sourceNamespace(settings.tlsSecretNamespace), settings.tlsSecretName, ns, labels,
              annotations, "environment.ingress.tls.secretName", existing != null);
        } else if (settings.tls()) {
          tlsSecret = settings.appName + "-tls"; // cert-manager issues it from the annotation
        }
      }
      List<HasMetadata> extras = new ArrayList<>();
      Map<String, String> vars = variables(spec, ns, host, url);
      for (String manifest : settings.manifests) {
        extras.addAll(ExtraManifests.parse(ExtraManifests.render(manifest, vars)));
      }
      ManifestTemplate.Context c = new ManifestTemplate.Context(ns, settings.ingressEnabled ? host : null, labels,
          annotations, pullSecrets, tlsSecret, extras);
      for (HasMetadata r : template.resources(spec, c)) {
        upsert(r, ns, existing != null);
      }
      if (existing != null && spec.secrets().isEmpty()) {
        // Secrets withdrawn (e.g. a fork PR under policy "no-secrets"): do not leave the old ones behind.
        client().secrets().inNamespace(ns).withName(template.secretName()).delete();
      }
      LOG.info("applied preview {} revision {} in namespace {}", key, spec.revision(), ns);
      if (!settings.waitForReady) {
        return environment(key, spec.revision(), url, Environment.Phase.STARTING, labels, nsAnnotations);
      }
      awaitRollout(key, ns, spec.revision());
      nsAnnotations.put(PHASE, Environment.Phase.RUNNING.name());
      return environment(key, spec.revision(), url, Environment.Phase.RUNNING, labels, nsAnnotations);
    });
  }

  /**
   * {@link #apply} with the team's chart: render with Helm and check the render (nothing is written
   * before both pass), then the namespace, the pull and TLS secrets, the guardrails (quota, limits,
   * policy, app secret), the chart's objects in Helm's install order, and pruning of what an
   * earlier render had and this one has not. A first provision that fails half-way deletes the
   * namespace it created.
   */
  private Environment applyChart(EnvironmentSpec spec, String ns, Namespace existing) {
    PreviewKey key = spec.key();
    Instant now = clock.instant();
    Map<String, String> labels = labels(spec);
    Map<String, String> annotations = annotations(spec, existing, now);
    String host = host(spec, ns);
    Map<String, String> vars = chartVariables(spec, ns, host, url(host, ns));
    String release = settings.chart.release != null ? settings.chart.release : settings.appName;

    HelmChart.Rendered rendered = chart.render(release, ns, vars);
    List<HasMetadata> all = new ArrayList<>(rendered.objects());
    for (String manifest : settings.manifests) {
      all.addAll(ExtraManifests.parse(ExtraManifests.render(manifest, vars)));
    }
    List<HasMetadata> cluster = new ArrayList<>();
    List<HasMetadata> objects = new ArrayList<>();
    List<String> problems = ChartObjects.check(client(), all, ns, settings.chart.allowClusterKinds, cluster, objects);
    if (!problems.isEmpty()) {
      throw new ProviderException(NAME, "the chart " + chart.chartName() + " renders what a preview may not create, so"
          + " nothing of " + key + " was applied: " + String.join("; ", problems), false);
    }
    for (HasMetadata o : objects) {
      ChartObjects.own(o, ns, labels, annotations);
    }
    for (HasMetadata o : cluster) {
      ChartObjects.own(o, null, labels, annotations);
    }
    String url = chartUrl(objects, host, ns);
    ChartDeployer deployer = new ChartDeployer(client(), ns, labels);
    Map<String, HasMetadata> live = Map.of();
    if (existing != null) {
      live = deployer.requireAdoptable(objects);
      for (HasMetadata o : cluster) {
        String foreign = deployer.foreignOwner(read(() -> client().resource(o).get()));
        if (foreign != null) {
          throw new ProviderException(NAME, "refusing to adopt " + o.getKind() + " " + o.getMetadata().getName() + ": it "
              + foreign + "; nothing of " + key + " was applied", false);
        }
      }
    }
    Set<String> kindsNow = new java.util.TreeSet<>(new ChartObjects.Plan(cluster, objects).kinds());
    Set<String> kindsBefore = new java.util.TreeSet<>(kinds(existing));
    Set<String> kindsAll = new java.util.TreeSet<>(kindsBefore);
    kindsAll.addAll(kindsNow);

    Map<String, String> nsAnnotations = new LinkedHashMap<>(annotations);
    nsAnnotations.put(URL, url);
    nsAnnotations.put(PHASE, Environment.Phase.STARTING.name());
    nsAnnotations.put(CHART_KINDS, String.join(",", kindsAll));
    boolean created = existing == null;
    try {
      upsertNamespace(existing, template.namespace(new ManifestTemplate.Context(ns, host, labels, nsAnnotations, List.of(), null, List.of())));
      List<String> pullSecrets = new ArrayList<>();
      for (String name : settings.pullSecrets) {
        pullSecrets.add(copySecret(sourceNamespace(settings.pullSecretsNamespace), name, ns, labels, annotations, "environment.pullSecrets", !created));
      }
      if (settings.tlsSecretName != null) {
        copySecret(sourceNamespace(settings.tlsSecretNamespace), settings.tlsSecretName, ns, labels, annotations,
            "environment.ingress.tls.secretName", !created);
      }
      ManifestTemplate.Context c = new ManifestTemplate.Context(ns, null, labels, annotations, pullSecrets, null, List.of());
      for (HasMetadata r : template.guardrails(spec, c)) {
        upsert(r, ns, !created);
      }
      if (!created && spec.secrets().isEmpty()) {
        client().secrets().inNamespace(ns).withName(template.secretName()).delete();
      }
      deployer.applyClusterScoped(cluster);
      deployer.apply(objects, created, live);
      if (!created) {
        deployer.prune(kindsAll, objects);
        if (!kindsAll.equals(kindsNow)) {
          patchNamespaceAnnotation(ns, CHART_KINDS, String.join(",", kindsNow));
        }
      }
    } catch (RuntimeException e) {
      if (created) {
        try {
          client().namespaces().withName(ns).delete();
          LOG.warn("applying the chart of {} failed; deleted the namespace {} it had just created", key, ns);
        } catch (RuntimeException cleanup) {
          LOG.warn("applying the chart of {} failed, and deleting its new namespace {} failed too ({})", key, ns,
              cleanup.getClass().getSimpleName());
        }
      }
      throw e;
    }
    LOG.info("applied chart {} for preview {} revision {} in namespace {} ({} objects)", chart.chartName(), key,
        spec.revision(), ns, objects.size());
    if (!settings.waitForReady) {
      return environment(key, spec.revision(), url, Environment.Phase.STARTING, labels, nsAnnotations);
    }
    ChartRollout rollout = new ChartRollout(client(), ns, objects);
    int deployments = (int) objects.stream().filter(o -> o instanceof Deployment).count();
    awaitRollout(key, ns, spec.revision(), null, deployments, rollout::observe, rollout::logs);
    nsAnnotations.put(PHASE, Environment.Phase.RUNNING.name());
    return environment(key, spec.revision(), url, Environment.Phase.RUNNING, labels, nsAnnotations);
  }

  /** The chart's first Ingress host (https when its TLS lists the host), else the configured host, else the first Service. */
  private String chartUrl(List<HasMetadata> objects, String host, String ns) {
    for (HasMetadata o : objects) {
      if (o instanceof io.fabric8.kubernetes.api.model.networking.v1.Ingress in && in.getSpec() != null
          && in.getSpec().getRules() != null) {
        for (var rule : in.getSpec().getRules()) {
          if (rule.getHost() != null && !rule.getHost().isEmpty()) {
            boolean tls = in.getSpec().getTls() != null && in.getSpec().getTls().stream()
                .anyMatch(t -> t.getHosts() != null && t.getHosts().contains(rule.getHost()));
            return (tls ? "https://" : "http://") + rule.getHost();
          }
        }
      }
    }
    if (host != null) {
      return (settings.tls() ? "https://" : "http://") + host;
    }
    for (HasMetadata o : objects) {
      if (o instanceof io.fabric8.kubernetes.api.model.Service) {
        return "http://" + o.getMetadata().getName() + "." + ns + ".svc.cluster.local";
      }
    }
    return "http://" + settings.appName + "." + ns + ".svc.cluster.local";
  }

  private static List<String> kinds(Namespace n) {
    String v = n == null ? null : annotation(n, CHART_KINDS);
    return v == null || v.isBlank() ? List.of() : List.of(v.split(","));
  }

  private void patchNamespaceAnnotation(String ns, String name, String value) {
    Namespace patch = new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(ns)
        .addToAnnotations(name, value).endMetadata().build();
    client().namespaces().resource(patch).patch(PatchContext.of(PatchType.JSON_MERGE));
  }

  /** The variables of {@code manifests}, plus those of chart values ({@link ChartSettings}). */
  private Map<String, String> chartVariables(EnvironmentSpec spec, String ns, String host, String url) {
    Map<String, String> v = variables(spec, ns, host, url);
    v.put("sha", spec.revision());
    v.put("shortSha", spec.revision().length() > 7 ? spec.revision().substring(0, 7) : spec.revision());
    v.put("hostname", host == null ? "" : host);
    String image = spec.image();
    int slash = image.lastIndexOf('/');
    int at = image.indexOf('@');
    int colon = image.lastIndexOf(':');
    if (at >= 0) {
      v.put("imageRepository", image.substring(0, at));
      v.put("imageTag", image.substring(at + 1));
    } else if (colon > slash) {
      v.put("imageRepository", image.substring(0, colon));
      v.put("imageTag", image.substring(colon + 1));
    } else {
      v.put("imageRepository", image);
      v.put("imageTag", "latest");
    }
    spec.env().forEach((name, value) -> v.put("env." + name, value));
    return v;
  }

  private void upsertNamespace(Namespace existing, Namespace desired) {
    if (existing == null) {
      client().namespaces().resource(desired).createOr(NonDeletingOperation::update);
      return;
    }
    // A JSON merge patch of labels and annotations only: one request, and it keeps what other tools
    // (and the API server) put on the namespace.
    client().namespaces().resource(desired).patch(PatchContext.of(PatchType.JSON_MERGE));
    if (annotation(existing, Labels.FAILED_REVISION) != null) {
      // a new apply starts afresh: the revision that failed its gate is no longer the news
      client().namespaces().withName(existing.getMetadata().getName()).edit(n -> {
        n.getMetadata().getAnnotations().remove(Labels.FAILED_REVISION);
        return n;
      });
    }
  }

  /**
   * Create-or-update without server-side apply (which the CRUD mock lacks): in a new namespace,
   * create first (one request; a 409 from a half-finished earlier call falls back to update); in an
   * existing one, GET + PUT (absent: create). PUT replaces the whole object, so what the template no
   * longer renders (a removed env var, a dropped quota key) goes away too. An object that carries
   * another preview's (or installation's) ownership labels is never adopted: refused with a clear error.
   */
  private void upsert(HasMetadata r, String ns, boolean updating) {
    var resource = client().resource(r).inNamespace(ns);
    if (!updating) {
      resource.createOr(NonDeletingOperation::update);
      return;
    }
    HasMetadata live = read(resource::get);
    if (live == null) {
      resource.create();
      return;
    }
    String foreign = ChartDeployer.foreignOwner(live, r.getMetadata().getLabels());
    if (foreign != null) {
      throw new ProviderException(NAME, "refusing to adopt " + r.getKind() + " " + r.getMetadata().getName() + " in namespace "
          + ns + ": it " + foreign + ". Remove it", false);
    }
    r.getMetadata().setResourceVersion(live.getMetadata().getResourceVersion());
    try {
      client().resource(r).inNamespace(ns).update();
    } finally {
      r.getMetadata().setResourceVersion(null);
    }
  }

  private String copySecret(String fromNamespace, String name, String ns, Map<String, String> labels,
                            Map<String, String> annotations, String configKey, boolean updating) {
    Secret source = read(() -> client().secrets().inNamespace(fromNamespace).withName(name).get());
    if (source == null) {
      throw new ProviderException(NAME, "secret " + fromNamespace + "/" + name + " (from " + configKey
          + ") does not exist; create it there or fix " + configKey, false);
    }
    Secret copy = new SecretBuilder().withNewMetadata().withName(name).withNamespace(ns)
        .withLabels(labels).withAnnotations(annotations).endMetadata()
        .withType(source.getType()).withData(source.getData()).build();
    upsert(copy, ns, updating);
    return name;
  }

  private String sourceNamespace(String configured) {
    if (configured != null) {
      return configured;
    }
    String ns = client().getNamespace();
    return ns == null ? "default" : ns;
  }

  private void awaitRollout(PreviewKey key, String ns, String revision) {
    Rollout rollout = new Rollout(client(), ns, settings.appName);
    try {
      awaitRollout(key, ns, revision, settings.appName, 1, () -> rollout.observe(revision), rollout::logs);
    } catch (ProviderException e) {
      // The RollingUpdate kept the previous revision's pods: go back to them rather than leave a stuck rollout.
      Optional<String> back = rollBack(ns, revision);
      if (back.isEmpty()) {
        throw e;
      }
      throw new ProviderException(NAME, e.getMessage() + "\nrolled back to " + back.get() + ", which still serves",
          e.retryable(), e);
    }
  }

  /**
   * Waits until {@code observe} says ready, failing fast on a fatal state and at the deadline
   * otherwise. A watch on the Deployment {@code deployment} (all Deployments of the namespace when
   * null; {@code existing} of them are there) wakes the loop as soon as a status changes; polling stays, because pod-level failures
   * (image pull, crash loop) do not always touch a Deployment's status. The watch is opened only
   * when the first look says neither ready nor failed: a rollout decided at once (the common
   * no-op update, an image that cannot be pulled) costs no watch. A watch is closed only once it
   * delivered its first {@code existing} events (the ADDED of what exists, which the API server
   * sends at once), or after a second: Fabric8's mock API server, when a watch is closed while it still writes an
   * event, blocks its one event loop for up to 30 s (its {@code WatchEventsListener.onClosed} waits
   * for the writer, which waits for that loop), and every request of the test with it.
   */
  private void awaitRollout(PreviewKey key, String ns, String revision, String deployment, int existing,
                            Supplier<Rollout.State> observe,
                            java.util.function.BiFunction<String, Integer, List<String>> logs) {
    Semaphore changed = new Semaphore(0);
    java.util.concurrent.CountDownLatch firstEvents = new java.util.concurrent.CountDownLatch(Math.max(1, existing));
    Watcher<Deployment> wake = new Watcher<>() {
      @Override
      public void eventReceived(Action action, Deployment resource) {
        firstEvents.countDown();
        changed.release();
      }

      @Override
      public void onClose(WatcherException cause) {
        while (firstEvents.getCount() > 0) {
          firstEvents.countDown();
        }
        changed.release();
      }
    };
    Watch[] watch = new Watch[1];
    Runnable openWatch = () -> {
      if (!settings.readinessWatch) {
        return; // readiness.watch: false, polling only
      }
      try {
        var deployments = client().apps().deployments().inNamespace(ns);
        watch[0] = deployment == null ? deployments.watch(wake) : deployments.withName(deployment).watch(wake);
      } catch (KubernetesClientException e) {
        LOG.debug("cannot watch deployments in {} ({}); polling only", ns, e.getMessage());
      }
    };
    try {
      awaitUntil(key, ns, revision, changed, openWatch, observe, logs);
    } finally {
      if (watch[0] != null) {
        try {
          firstEvents.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        watch[0].close();
      }
    }
  }

  /** The readiness loop; {@code beforeFirstWait} runs once, after the first look that decides nothing. */
  private void awaitUntil(PreviewKey key, String ns, String revision, Semaphore changed, Runnable beforeFirstWait,
                          Supplier<Rollout.State> observe,
                          java.util.function.BiFunction<String, Integer, List<String>> logSource) {
    long deadline = System.nanoTime() + settings.readyTimeout.toNanos();
    boolean waited = false;
    Rollout.State last;
    while (true) {
      try {
        last = observe.get();
      } catch (KubernetesClientException e) {
        // A slow or restarting API server (a timeout, a 5xx, a 429) is no verdict on the rollout:
        // look again until the deadline, which then names the API error as the reason.
        if (!transientApiError(e)) {
          throw e;
        }
        LOG.debug("readiness of {} in {}: the API did not answer ({}); looking again", key, ns, e.getMessage());
        last = new Rollout.State(false, false, "the Kubernetes API did not answer: " + e.getMessage(), null);
      }
      if (last.ready()) {
        annotatePhase(ns, Environment.Phase.RUNNING);
        return;
      }
      boolean late = System.nanoTime() - deadline >= 0;
      if (last.failed() || late) {
        annotatePhase(ns, Environment.Phase.FAILED);
        StringBuilder msg = new StringBuilder("preview ").append(key).append(" (namespace ").append(ns)
            .append(") failed to roll out revision ").append(revision).append(": ");
        if (late && !last.failed()) {
          msg.append("not ready after ").append(settings.readyTimeout).append(": ");
        }
        msg.append(last.reason());
        if (last.pod() != null) {
          msg.append(" [pod ").append(last.pod()).append(']');
        }
        List<String> logs = logSource.apply(last.pod(), settings.logLines);
        if (!logs.isEmpty()) {
          msg.append("\nlast ").append(logs.size()).append(" log lines:\n").append(String.join("\n", logs));
        }
        // A deadline may pass on a slow cluster, a retry can help; a fatal container state needs a new push.
        throw new ProviderException(NAME, msg.toString(), !last.failed());
      }
      if (!waited) {
        waited = true;
        beforeFirstWait.run();
      }
      long left = Math.min(settings.pollInterval.toNanos(), deadline - System.nanoTime());
      try {
        changed.tryAcquire(Math.max(1, left), TimeUnit.NANOSECONDS);
        changed.drainPermits();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ProviderException(NAME, "interrupted while waiting for the rollout of " + key, true, e);
      }
    }
  }

  private void annotatePhase(String ns, Environment.Phase phase) {
    Namespace patch = new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(ns)
        .addToAnnotations(PHASE, phase.name()).endMetadata().build();
    client().namespaces().resource(patch).patch(PatchContext.of(PatchType.JSON_MERGE));
  }

  // ------------------------------------------------------------------------------------ find/list

  @Override
  public Optional<Environment> find(PreviewKey key) {
    String ns = namespace(key);
    return call("find " + key, () -> {
      Namespace n = client().namespaces().withName(ns).get();
      if (n == null || !ours(n, key)) {
        return Optional.empty();
      }
      Environment.Phase phase;
      if (terminating(n)) {
        phase = Environment.Phase.FAILED;
      } else if (chart != null) {
        phase = storedPhase(n); // a chart has no one app Deployment; apply/suspend/resume keep the phase annotation
      } else {
        Deployment d = client().apps().deployments().inNamespace(ns).withName(settings.appName).get();
        phase = livePhase(n, d);
      }
      return Optional.ofNullable(environment(n, phase));
    });
  }

  private static Environment.Phase livePhase(Namespace n, Deployment d) {
    String failed = annotation(n, Labels.FAILED_REVISION);
    if (failed != null && failed.equals(annotation(n, Labels.REVISION))) {
      return Environment.Phase.FAILED; // stopped by rejectRevision (scaled to zero: not SUSPENDED)
    }
    if (d == null) {
      return Environment.Phase.STARTING;
    }
    if (d.getSpec() != null && Integer.valueOf(0).equals(d.getSpec().getReplicas())) {
      return Environment.Phase.SUSPENDED;
    }
    if (Rollout.isReady(d)) {
      return Environment.Phase.RUNNING;
    }
    return Environment.Phase.FAILED.name().equals(annotation(n, PHASE)) ? Environment.Phase.FAILED : Environment.Phase.STARTING;
  }

  /** One label-selected list of namespaces; the phase comes from the annotations apply/suspend/resume keep up to date. */
  @Override
  public List<Environment> list() {
    return call("list environments", () -> {
      var namespaces = client().namespaces().withLabels(installation.selector());
      List<Environment> out = new ArrayList<>();
      for (Namespace n : namespaces.list().getItems()) {
        if (!installation.owns(labels(n))) {
          continue; // the server selected it; checked again so that no other installation's ever gets in
        }
        Environment e = environment(n, storedPhase(n));
        if (e != null) {
          out.add(e);
        }
      }
      return List.copyOf(out);
    });
  }

  private static Environment.Phase storedPhase(Namespace n) {
    if (terminating(n)) {
      return Environment.Phase.FAILED;
    }
    String p = annotation(n, PHASE);
    try {
      return p == null ? Environment.Phase.STARTING : Environment.Phase.valueOf(p);
    } catch (IllegalArgumentException e) {
      return Environment.Phase.STARTING;
    }
  }

  private Environment environment(Namespace n, Environment.Phase phase) {
    Optional<PreviewKey> key = Labels.key(annotations(n));
    if (key.isEmpty()) {
      LOG.warn("namespace {} is labelled {}=true but has no readable {} annotation; ignoring it",
          n.getMetadata().getName(), Labels.MANAGED, Labels.KEY);
      return null;
    }
    return environment(key.get(), annotation(n, Labels.REVISION), annotation(n, URL), phase,
        n.getMetadata().getLabels(), annotations(n));
  }

  private static Environment environment(PreviewKey key, String revision, String url, Environment.Phase phase,
                                         Map<String, String> labels, Map<String, String> annotations) {
    Map<String, String> all = new HashMap<>();
    if (labels != null) {
      labels.forEach((k, v) -> {
        if (k.startsWith(Labels.PREFIX)) {
          all.put(k, v);
        }
      });
    }
    annotations.forEach((k, v) -> {
      if (k.startsWith(Labels.PREFIX) && !INTERNAL.contains(k)) {
        all.put(k, v);
      }
    });
    return new Environment(key, revision, url == null ? null : URI.create(url), phase, all);
  }

  // --------------------------------------------------------------------------------------- delete

  /**
   * Deletes the preview's namespace (the cluster removes everything in it). Never hangs on a
   * namespace stuck in {@code Terminating}: with {@code delete.wait} at zero it returns at once; a
   * later call that finds the namespace still terminating after {@code delete.stuckAfter} throws a
   * {@link ProviderException} naming what holds it (finalizers, remaining content).
   */
  @Override
  public void delete(PreviewKey key) {
    String ns = namespace(key);
    call("delete " + key, () -> {
      Namespace n = client().namespaces().withName(ns).get();
      if (n == null) {
        return null;
      }
      requireOurs(n, key);
      if (terminating(n)) {
        reportIfStuck(key, n);
        return null;
      }
      client().namespaces().withName(ns).delete();
      LOG.info("deleting namespace {} of preview {}", ns, key);
      if (settings.deleteWait.isZero()) {
        return null;
      }
      long deadline = System.nanoTime() + settings.deleteWait.toNanos();
      while (true) {
        Namespace left = client().namespaces().withName(ns).get();
        if (left == null) {
          return null;
        }
        if (System.nanoTime() - deadline >= 0) {
          throw new ProviderException(NAME, "namespace " + ns + " of " + key + " is still terminating after "
              + settings.deleteWait + stuckDetail(left), true);
        }
        sleep(settings.pollInterval);
      }
    });
  }

  private void reportIfStuck(PreviewKey key, Namespace n) {
    String since = n.getMetadata().getDeletionTimestamp();
    if (since == null && n.getStatus() != null && n.getStatus().getConditions() != null) {
      // Without a deletion timestamp, the conditions the namespace controller sets tell since when.
      since = n.getStatus().getConditions().stream().map(NamespaceCondition::getLastTransitionTime)
          .filter(Objects::nonNull).min(String::compareTo).orElse(null);
    }
    Instant start;
    try {
      start = since == null ? null : Instant.parse(since);
    } catch (RuntimeException e) {
      start = null;
    }
    if (start != null && start.plus(settings.stuckAfter).isBefore(clock.instant())) {
      String msg = "namespace " + n.getMetadata().getName() + " of " + key + " has been terminating since " + since
          + " (longer than delete.stuckAfter=" + settings.stuckAfter + ")" + stuckDetail(n);
      LOG.warn(msg);
      throw new ProviderException(NAME, msg, false);
    }
  }

  private static String stuckDetail(Namespace n) {
    StringBuilder sb = new StringBuilder();
    List<String> finalizers = new ArrayList<>();
    if (n.getMetadata().getFinalizers() != null) {
      finalizers.addAll(n.getMetadata().getFinalizers());
    }
    if (n.getSpec() != null && n.getSpec().getFinalizers() != null) {
      finalizers.addAll(n.getSpec().getFinalizers());
    }
    if (n.getStatus() != null && n.getStatus().getConditions() != null) {
      for (NamespaceCondition c : n.getStatus().getConditions()) {
        if ("True".equals(c.getStatus())) {
          sb.append("; ").append(c.getType()).append(": ").append(c.getMessage());
        }
      }
    }
    if (!finalizers.isEmpty()) {
      sb.append("; finalizers ").append(finalizers);
    }
    sb.append(". Inspect it with `kubectl get namespace ").append(n.getMetadata().getName())
        .append(" -o yaml`; usually a resource inside has a finalizer whose controller is gone, or an APIService is unavailable");
    return sb.toString();
  }

  // ------------------------------------------------------------------------------ images

  /**
   * Asks the image's registry for its manifest ({@code HEAD /v2/<name>/manifests/<ref>}), with the
   * credentials {@code environment.pullSecrets} hold for that registry (read from
   * {@code pullSecretsNamespace}, at most once a minute), else anonymously. What a pull would
   * fetch; 401/403 and errors are UNKNOWN (a wait then relies on CI events and its timeout).
   */
  @Override
  public ImageAvailability imageAvailable(String image) {
    return registry.manifestExists(image);
  }

  /** Registry host -> {@code Basic ...}, from the pull secrets; a secret that cannot be read is skipped (anonymous). */
  private synchronized Map<String, String> registryAuthorizations() {
    if (registryAuths != null && System.nanoTime() - registryAuthsRead < 60_000_000_000L) {
      return registryAuths;
    }
    Map<String, String> auths = new LinkedHashMap<>();
    String from = settings.pullSecrets.isEmpty() ? null : sourceNamespace(settings.pullSecretsNamespace);
    for (String name : settings.pullSecrets) {
      try {
        Secret secret = client().secrets().inNamespace(from).withName(name).get();
        Map<String, String> data = secret == null || secret.getData() == null ? Map.of() : secret.getData();
        String encoded = data.containsKey(".dockerconfigjson") ? data.get(".dockerconfigjson") : data.get(".dockercfg");
        if (encoded == null) {
          LOG.debug("kubernetes: pull secret {}/{} holds no docker config; not used to look for images", from, name);
          continue;
        }
        String json = new String(java.util.Base64.getMimeDecoder().decode(encoded), java.nio.charset.StandardCharsets.UTF_8);
        Map<?, ?> config = client().getKubernetesSerialization().unmarshal(json, Map.class);
        RegistryManifests.basicAuthorizations(config).forEach(auths::putIfAbsent);
      } catch (RuntimeException e) {
        // Never the exception's text: it could quote the secret's data.
        LOG.debug("kubernetes: could not read pull secret {}/{} ({}); looking for images anonymously", from, name,
            e.getClass().getSimpleName());
      }
    }
    registryAuths = Map.copyOf(auths);
    registryAuthsRead = System.nanoTime();
    return registryAuths;
  }

  // ------------------------------------------------------------------------------ suspend/resume

  @Override
  public boolean supportsSuspend() {
    return true;
  }

  /** Scales every managed Deployment of the preview to zero, remembering its replica count in an annotation. */
  @Override
  public void suspend(PreviewKey key) {
    String ns = namespace(key);
    call("suspend " + key, () -> {
      requireExisting(key, ns);
      for (Deployment d : managedDeployments(ns)) {
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        if (replicas == 0) {
          continue;
        }
        client().apps().deployments().inNamespace(ns).withName(d.getMetadata().getName()).edit(x -> {
          x.getMetadata().setAnnotations(merged(x.getMetadata().getAnnotations(), Map.of(REPLICAS, Integer.toString(replicas))));
          x.getSpec().setReplicas(0);
          return x;
        });
      }
      annotatePhase(ns, Environment.Phase.SUSPENDED);
      return null;
    });
  }

  @Override
  public Environment resume(PreviewKey key) {
    String ns = namespace(key);
    return call("resume " + key, () -> {
      Namespace n = requireExisting(key, ns);
      for (Deployment d : managedDeployments(ns)) {
        String remembered = d.getMetadata().getAnnotations() == null ? null : d.getMetadata().getAnnotations().get(REPLICAS);
        boolean isApp = settings.appName.equals(d.getMetadata().getName());
        if (remembered == null && !(isApp && Integer.valueOf(0).equals(d.getSpec().getReplicas()))) {
          continue;
        }
        int replicas = remembered == null ? settings.replicas : Integer.parseInt(remembered);
        client().apps().deployments().inNamespace(ns).withName(d.getMetadata().getName()).edit(x -> {
          if (x.getMetadata().getAnnotations() != null) {
            x.getMetadata().getAnnotations().remove(REPLICAS);
          }
          x.getSpec().setReplicas(replicas);
          return x;
        });
      }
      annotatePhase(ns, Environment.Phase.STARTING);
      Environment.Phase phase = Environment.Phase.STARTING;
      if (settings.waitForReady && chart != null) {
        List<Deployment> deployments = managedDeployments(ns);
        ChartRollout rollout = new ChartRollout(client(), ns, new ArrayList<>(deployments));
        awaitRollout(key, ns, annotation(n, Labels.REVISION), null, deployments.size(), rollout::observe, rollout::logs);
        phase = Environment.Phase.RUNNING;
      } else if (settings.waitForReady) {
        awaitRollout(key, ns, annotation(n, Labels.REVISION));
        phase = Environment.Phase.RUNNING;
      }
      return environment(n, phase);
    });
  }

  private List<Deployment> managedDeployments(String ns) {
    return read(() -> client().apps().deployments().inNamespace(ns).withLabel(Labels.MANAGED, "true").list().getItems());
  }

  private Namespace requireExisting(PreviewKey key, String ns) {
    Namespace n = client().namespaces().withName(ns).get();
    if (n == null || terminating(n)) {
      throw new ProviderException(NAME, "preview " + key + " has no environment (namespace " + ns
          + (n == null ? " does not exist)" : " is terminating)"), false);
    }
    requireOurs(n, key);
    return n;
  }

  // ----------------------------------------------------------------------------------------- logs

  @Override
  public List<String> logs(PreviewKey key, int lines) {
    String ns = namespace(key);
    return call("read logs of " + key, () -> {
      if (chart != null) {
        List<Pod> pods = new ArrayList<>(client().pods().inNamespace(ns).withLabel(Labels.MANAGED, "true").list().getItems());
        pods.sort(java.util.Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).reversed());
        return pods.isEmpty() ? List.<String>of() : new ChartRollout(client(), ns, List.of()).logs(pods.get(0).getMetadata().getName(), lines);
      }
      Rollout rollout = new Rollout(client(), ns, settings.appName);
      List<Pod> pods = rollout.pods(null);
      return pods.isEmpty() ? List.<String>of() : rollout.logs(pods.get(0).getMetadata().getName(), lines);
    });
  }

  /** Closes the client if this provider built it (the factory's, once used); a given client is the caller's. */
  @Override
  public void close() {
    clients.close();
  }

  /** The Fabric8 client, built on first use when the factory made this provider. */
  private KubernetesClient client() {
    return clients.get();
  }

  /** Whether the client exists yet (tests of the lazy build). */
  boolean clientBuilt() {
    return clients.built();
  }

  // ------------------------------------------------------------------------- readiness: exit, reject

  /**
   * The app's end, read off the pods of the namespace's current revision: a container terminated
   * now or in {@code CrashLoopBackOff} (down), else the container restarted most (its
   * {@code restartCount}, last exit code and reason); empty while none ended, and for a suspended
   * or absent preview.
   */
  @Override
  public Optional<AppExit> exitStatus(PreviewKey key) {
    String ns = namespace(key);
    return call("read how the app of " + key + " ended", () -> {
      Namespace n = client().namespaces().withName(ns).get();
      if (n == null || !ours(n, key) || terminating(n) || storedPhase(n) == Environment.Phase.SUSPENDED) {
        return Optional.<AppExit>empty();
      }
      String revision = annotation(n, Labels.REVISION);
      List<Pod> pods = (chart != null ? client().pods().inNamespace(ns).withLabel(Labels.MANAGED, "true")
          : client().pods().inNamespace(ns).withLabel(ManifestTemplate.APP_LABEL, settings.appName)).list().getItems();
      List<Pod> current = pods.stream().filter(p -> revision != null && revision.equals(annotation(p, Labels.REVISION)))
          .toList();
      boolean anyMarked = pods.stream().anyMatch(p -> annotation(p, Labels.REVISION) != null);
      return FailedRevisions.exit(anyMarked ? current : pods);
    });
  }

  /**
   * Back to the previous revision when the app's Deployment still has its ReplicaSet with ready
   * pods (a RollingUpdate keeps them until the new pods are ready): its pod template goes back into
   * the Deployment, as {@code kubectl rollout undo} does (the other objects of the namespace keep
   * what the failed apply wrote), and {@link #find} reports that revision RUNNING. Else the app (with
   * a chart: every managed Deployment) is scaled to zero and reported FAILED. Either way the
   * namespace carries {@link Labels#FAILED_REVISION}; the next {@link #apply} removes it.
   */
  @Override
  public Optional<Environment> rejectRevision(PreviewKey key, String revision) {
    String ns = namespace(key);
    Optional<Environment> gone = call("take revision " + revision + " of " + key + " out of service", () -> {
      Namespace n = read(() -> client().namespaces().withName(ns).get());
      if (n == null || !ours(n, key) || terminating(n) || !revision.equals(annotation(n, Labels.REVISION))) {
        return Optional.<Environment>empty();
      }
      Optional<String> back = chart == null ? rollBack(ns, revision) : Optional.empty();
      if (back.isPresent()) {
        return Optional.of(environment(read(() -> client().namespaces().withName(ns).get()), Environment.Phase.RUNNING));
      }
      List<Deployment> apps = chart != null ? managedDeployments(ns)
          : java.util.stream.Stream.of(read(() -> client().apps().deployments().inNamespace(ns).withName(settings.appName).get()))
              .filter(Objects::nonNull).toList();
      for (Deployment d : apps) {
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        if (replicas > 0) {
          client().apps().deployments().inNamespace(ns).withName(d.getMetadata().getName()).edit(x -> {
            x.getMetadata().setAnnotations(merged(x.getMetadata().getAnnotations(),
                Map.of(REPLICAS, Integer.toString(replicas))));
            x.getSpec().setReplicas(0);
            return x;
          });
        }
      }
      new FailedRevisions(client(), settings.appName).mark(ns, revision, revision, Environment.Phase.FAILED);
      LOG.info("stopped preview {} revision {} in namespace {}: it failed its readiness gate", key, revision, ns);
      return Optional.of(environment(read(() -> client().namespaces().withName(ns).get()), Environment.Phase.FAILED));
    });
    return gone.isPresent() ? gone : find(key);
  }

  /** Puts the previous revision's template back if its ReplicaSet still has ready pods; the revision it runs now. */
  private Optional<String> rollBack(String ns, String failed) {
    Deployment d = read(() -> client().apps().deployments().inNamespace(ns).withName(settings.appName).get());
    if (d == null) {
      return Optional.empty();
    }
    FailedRevisions f = new FailedRevisions(client(), settings.appName);
    Optional<io.fabric8.kubernetes.api.model.apps.ReplicaSet> serving = f.serving(ns, d, failed);
    if (serving.isEmpty()) {
      return Optional.empty();
    }
    String back = f.rollBack(ns, serving.get());
    f.mark(ns, failed, back, Environment.Phase.RUNNING);
    LOG.info("rolled namespace {} back from revision {} to {} (ReplicaSet {}, which still serves)", ns, failed, back,
        serving.get().getMetadata().getName());
    return Optional.of(back);
  }

  // -------------------------------------------------------------------------------------- helpers

  /** Selectable labels: every value made to fit Kubernetes' label rules; instants are left to annotations. */
  Map<String, String> labels(EnvironmentSpec spec) {
    Map<String, String> out = new LinkedHashMap<>();
    spec.labels().forEach((k, v) -> {
      if (!ANNOTATION_ONLY.contains(k) && LABEL_KEY.matcher(k).matches() && k.length() <= 316) {
        out.put(k, Names.labelValue(v));
      }
    });
    out.put(Labels.MANAGED, "true");
    out.put(Labels.KEY, Names.labelValue(spec.key().id()));
    out.put(Labels.REVISION, Names.labelValue(spec.revision()));
    out.put(ManifestTemplate.MANAGED_BY, MANAGED_BY_VALUE);
    out.put(Labels.INSTANCE, installation.instance());
    return out;
  }

  /** The full ownership values. {@code created} survives updates; {@code expires} follows the spec, else {@code ttl}. */
  private Map<String, String> annotations(EnvironmentSpec spec, Namespace existing, Instant now) {
    Map<String, String> out = new LinkedHashMap<>(spec.labels());
    out.put(Labels.MANAGED, "true");
    out.put(Labels.KEY, spec.key().id());
    out.put(Labels.REVISION, spec.revision());
    String created = existing == null ? null : annotation(existing, Labels.CREATED);
    if (created == null) {
      created = spec.labels().getOrDefault(Labels.CREATED, now.toString());
    }
    out.put(Labels.CREATED, created);
    if (!spec.labels().containsKey(Labels.EXPIRES) && settings.ttl != null) {
      out.put(Labels.EXPIRES, now.plus(settings.ttl).toString());
    }
    out.put(Labels.INSTANCE, installation.instance());
    return out;
  }

  /** The one hostname rule formed it ({@code app.hostname}); null: no Ingress. */
  String host(EnvironmentSpec spec, String ns) {
    return spec.hostname();
  }

  private String serviceUrl(String ns) {
    return "http://" + settings.appName + "." + ns + ".svc.cluster.local";
  }

  private String url(String host, String ns) {
    if (host == null || !settings.ingressEnabled) {
      return serviceUrl(ns);
    }
    return (settings.tls() ? "https://" : "http://") + host;
  }

  private Map<String, String> variables(EnvironmentSpec spec, String ns, String host, String url) {
    PreviewKey key = spec.key();
    Map<String, String> v = new HashMap<>();
    v.put("namespace", ns);
    v.put("key", key.id());
    v.put("repository", key.repository());
    v.put("owner", key.owner());
    v.put("repo", key.repositoryName());
    v.put("number", key.isPullRequest() ? Integer.toString(key.number()) : "");
    v.put("branch", key.isPullRequest() ? "" : key.branch());
    v.put("revision", spec.revision());
    v.put("host", host == null ? "" : host);
    v.put("url", url == null ? "" : url);
    v.put("image", spec.image() == null ? "" : spec.image());
    v.put("app", settings.appName);
    return v;
  }

  private static Map<String, String> labels(Namespace n) {
    Map<String, String> l = n.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }

  /** Managed, of this installation (exact instance label), and annotated with {@code key}. */
  private boolean ours(Namespace n, PreviewKey key) {
    return installation.owns(labels(n)) && key.id().equals(annotation(n, Labels.KEY));
  }

  private void requireOurs(Namespace n, PreviewKey key) {
    String otherKey = n == null ? null : annotation(n, Labels.KEY);
    String otherLabel = n == null ? null : labels(n).get(Labels.KEY);
    boolean another = n != null && Labels.isManaged(labels(n)) && ((otherKey != null && !otherKey.equals(key.id()))
        || (otherLabel != null && !otherLabel.equals(Names.labelValue(key.id()))));
    if (another) {
      // Never adopt another preview's namespace: two keys meeting on one name (or a copied namespace) must not merge.
      throw new ProviderException(NAME, "namespace " + n.getMetadata().getName() + " belongs to preview "
          + (otherKey != null ? otherKey : otherLabel) + " (its " + Labels.KEY + "), not to " + key
          + "; refusing to touch it. Remove or rename it if that preview is gone", false);
    }
    if (n != null && !ours(n, key)) {
      throw new ProviderException(NAME, "namespace " + n.getMetadata().getName() + " exists but is not managed "
          + "by this installation of preview for " + key + " (no " + Labels.MANAGED + "=true and "
          + Labels.INSTANCE + "=" + installation.instance() + " labels with a matching " + Labels.KEY
          + " annotation); refusing to touch it. Rename or remove it", false);
    }
  }

  private static boolean terminating(Namespace n) {
    return n != null && (n.getMetadata().getDeletionTimestamp() != null
        || (n.getStatus() != null && "Terminating".equals(n.getStatus().getPhase())));
  }

  private static Map<String, String> annotations(Namespace n) {
    Map<String, String> a = n.getMetadata().getAnnotations();
    return a == null ? Map.of() : a;
  }

  private static String annotation(HasMetadata r, String name) {
    ObjectMeta m = r.getMetadata();
    return m.getAnnotations() == null ? null : m.getAnnotations().get(name);
  }

  private static Map<String, String> merged(Map<String, String> base, Map<String, String> extra) {
    Map<String, String> out = new LinkedHashMap<>(base == null ? Map.of() : base);
    out.putAll(extra);
    return out;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(Math.max(1, d.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException(NAME, "interrupted while waiting", true, e);
    }
  }

  /** Whether an API error says nothing about the objects asked for (no answer, a timeout, throttling, a server error). */
  static boolean transientApiError(KubernetesClientException e) {
    int code = e.getCode();
    return code == 0 || code == 408 || code == 429 || code >= 500;
  }

  /** How often {@link #read} asks, and its first pause (then four times as long). */
  private static final int READ_ATTEMPTS = 3;
  private static final Duration READ_BACKOFF = Duration.ofMillis(250);

  /**
   * A read (GET or list) of apply, rollback and the chart's adoption and prune steps: an answer
   * that says nothing about the objects ({@link #transientApiError}: no answer within the client's
   * request timeout, 5xx, 429) is asked again, up to three times in all, as the readiness wait
   * looks again. Fabric8 retries 5xx and I/O errors itself but not a request that timed out, which
   * a busy API server (or the mock server under load) gives. Writes are never repeated here.
   */
  static <T> T read(Supplier<T> get) {
    return read(get, READ_ATTEMPTS, READ_BACKOFF);
  }

  static <T> T read(Supplier<T> get, int attempts, Duration backoff) {
    Duration pause = backoff;
    for (int attempt = 1; ; attempt++) {
      try {
        return get.get();
      } catch (KubernetesClientException e) {
        if (attempt >= attempts || !transientApiError(e)) {
          throw e;
        }
        LOG.debug("the Kubernetes API did not answer a read ({}); asking again in {} ms", e.getMessage(), pause.toMillis());
        sleep(pause);
        pause = pause.multipliedBy(4);
      }
    }
  }

  /** Runs one API conversation, turning Fabric8's exceptions into ours (with the HTTP status and whether to retry). */
  private static <T> T call(String what, Supplier<T> body) {
    try {
      return body.get();
    } catch (KubernetesClientException e) {
      int code = e.getCode();
      boolean retryable = code == 0 || code == 408 || code == 409 || code == 429 || code >= 500;
      String reason = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
      String hint = code == 401 || code == 403
          ? " (the client's credentials lack rights: grant its service account create/update/delete on namespaces and the objects of a preview)"
          : "";
      throw new ProviderException(NAME, what + " failed: " + reason + hint, retryable, code == 0 ? -1 : code, e);
    }
  }

  /**
   * Makes {@code environment.provider: kubernetes} work (registered in
   * {@code META-INF/services/dev.preview.spi.EnvironmentProvider$Factory}). Credentials, in this
   * order: an explicit {@code masterUrl} (+ {@code token}), a {@code kubeconfig} file (+
   * {@code context}), else Fabric8's auto-configuration: {@code $KUBECONFIG} / {@code ~/.kube/config},
   * then the in-cluster service account. Cheap to construct; {@link #create} reads the
   * connection settings (a broken kubeconfig is a config problem at once) but builds the client only
   * at the provider's first API call (issue 19: {@code preview validate} and {@code list} of other
   * providers never start Vert.x for it). The instance and the clock come from the context's {@link Installation}.
   */
  public static final class Factory implements EnvironmentProvider.Factory {

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public EnvironmentProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      KubernetesSettings s = KubernetesSettings.read(config);
      if (s.kubeconfig != null && !new File(s.kubeconfig).canRead()) {
        config.problem("kubeconfig", "cannot read file " + s.kubeconfig);
      }
      config.validate();
      refuseLeakyLoggers(dev.preview.spi.LeakyLoggers::atDebug);
      Installation i = context.installation();
      Config cfg = clientConfig(s, config.path()); // read now: a broken kubeconfig is a config problem
      return new KubernetesEnvironmentProvider(LazyClient.building(() -> new KubernetesClientBuilder().withConfig(cfg).build()),
          s, i, i.clock());
    }

    /** Where and how to connect; cheap (reads a kubeconfig at most), unlike building the client. */
    static Config clientConfig(KubernetesSettings s, String path) {
      Config cfg;
      if (s.masterUrl != null) {
        ConfigBuilder b = new ConfigBuilder(Config.empty()).withMasterUrl(s.masterUrl);
        if (s.token != null) {
          b.withOauthToken(s.token.reveal());
        }
        cfg = b.build();
      } else if (s.kubeconfig != null) {
        try {
          cfg = Config.fromKubeconfig(s.context, new File(s.kubeconfig));
        } catch (RuntimeException e) {
          throw new ConfigurationException(path + ".kubeconfig: cannot use " + s.kubeconfig + ": " + e.getMessage());
        }
      } else {
        cfg = Config.autoConfigure(s.context);
      }
      // The orchestrator retries what we mark retryable; Fabric8's own 10 retries would hold a call for minutes.
      cfg.setRequestRetryBackoffLimit(2);
      if (s.trustCerts) {
        cfg.setTrustCerts(true);
      }
      if (s.caCertFile != null) {
        cfg.setCaCertFile(s.caCertFile);
      }
      return cfg;
    }
  }

  // ------------------------------------------------------------------ relabel (the gateway's visits)

  @Override
  public boolean supportsRelabel() {
    return true;
  }

  /**
   * Merges lifecycle values into the namespace's annotations ({@code last-activity} and {@code expires}
   * live there only, instants not being label values; {@code pinned} is a label and an annotation), with
   * one {@code edit} (GET, then a JSON patch of the difference): the Deployments are not touched, so
   * nothing restarts. A value of {@code ""} removes the entry.
   */
  @Override
  public Optional<Environment> relabel(PreviewKey key, Map<String, String> changes) {
    Labels.requireLifecycle(changes);
    String ns = namespace(key);
    return call("relabel " + key, () -> {
      Namespace n = client().namespaces().withName(ns).get();
      if (n == null || !ours(n, key)) {
        return Optional.empty();
      }
      client().namespaces().withName(ns).edit(x -> {
        Map<String, String> annotations = new LinkedHashMap<>(annotations(x));
        Map<String, String> labels = new LinkedHashMap<>(labels(x));
        changes.forEach((name, value) -> {
          if (value.isEmpty()) {
            annotations.remove(name);
            labels.remove(name);
          } else {
            annotations.put(name, value);
            if (!ANNOTATION_ONLY.contains(name)) {
              labels.put(name, Names.labelValue(value));
            }
          }
        });
        x.getMetadata().setAnnotations(annotations);
        x.getMetadata().setLabels(labels);
        return x;
      });
      return find(key);
    });
  }
}
