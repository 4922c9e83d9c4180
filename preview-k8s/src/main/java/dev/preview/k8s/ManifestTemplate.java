package dev.preview.k8s;

import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Labels;
import dev.preview.spi.Secret;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LimitRange;
import io.fabric8.kubernetes.api.model.LimitRangeBuilder;
import io.fabric8.kubernetes.api.model.LimitRangeItemBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLSBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one parameterised template every preview is rendered from: given the spec, the settings and
 * the per-preview facts ({@link Context}), it produces the namespace and every object inside it.
 * Pure: no API calls, so the manifests can be asserted field by field.
 */
final class ManifestTemplate {
  static final String QUOTA = "preview-quota";
  static final String LIMITS = "preview-limits";
  static final String POLICY = "preview-isolation";
  static final String APP_LABEL = "app.kubernetes.io/name";
  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

  private final KubernetesSettings settings;

  ManifestTemplate(KubernetesSettings settings) {
    this.settings = settings;
  }

  /**
   * Per-preview facts the template needs besides the spec.
   *
   * @param namespace the preview's namespace
   * @param host public hostname, or null when there is no ingress
   * @param labels selectable labels for every object (values fit Kubernetes' rules)
   * @param annotations full ownership values (key, revision, timestamps)
   * @param pullSecrets image pull secrets already present in the namespace
   * @param tlsSecret the TLS secret name for the ingress, or null without TLS
   * @param extraManifests user manifests, already rendered and parsed
   */
  record Context(String namespace, String host, Map<String, String> labels, Map<String, String> annotations,
                 List<String> pullSecrets, String tlsSecret, List<HasMetadata> extraManifests) {}

  String secretName() {
    return settings.appName + "-secrets";
  }

  Namespace namespace(Context c) {
    return new NamespaceBuilder().withMetadata(meta(c.namespace(), c)).build();
  }

  /** Everything inside the namespace, in the order it should be applied. */
  List<HasMetadata> resources(EnvironmentSpec spec, Context c) {
    List<HasMetadata> out = guardrails(spec, c);
    out.add(deployment(spec, c));
    out.add(service(spec, c));
    if (c.host() != null) {
      out.add(ingress(c));
    }
    for (HasMetadata extra : c.extraManifests()) {
      out.add(owned(extra, c));
    }
    return out;
  }

  /**
   * What the provider puts around any app, built-in or a chart: the quota, the LimitRange, the
   * NetworkPolicy and the app's Secret (so a chart refers to secrets by {@code secretKeyRef} and
   * they never pass through Helm's values).
   */
  List<HasMetadata> guardrails(EnvironmentSpec spec, Context c) {
    List<HasMetadata> out = new ArrayList<>();
    if (!settings.quota.isEmpty()) {
      out.add(quota(c));
    }
    if (!settings.limitDefault.isEmpty() || !settings.limitDefaultRequest.isEmpty() || !settings.limitMax.isEmpty()) {
      out.add(limitRange(c));
    }
    if (settings.networkPolicy) {
      out.add(networkPolicy(c));
    }
    if (!spec.secrets().isEmpty()) {
      out.add(secret(spec, c));
    }
    return out;
  }

  ResourceQuota quota(Context c) {
    return new ResourceQuotaBuilder().withMetadata(meta(QUOTA, c))
        .withNewSpec().withHard(quantities(settings.quota)).endSpec().build();
  }

  LimitRange limitRange(Context c) {
    return new LimitRangeBuilder().withMetadata(meta(LIMITS, c))
        .withNewSpec().withLimits(new LimitRangeItemBuilder().withType("Container")
            .withDefault(quantities(settings.limitDefault))
            .withDefaultRequest(quantities(settings.limitDefaultRequest))
            .withMax(quantities(settings.limitMax)).build())
        .endSpec().build();
  }

  /**
   * Admits ingress traffic from the ingress controller's namespace, any namespace listed in
   * {@code network.allowNamespaces}, and pods of this namespace. Nothing else matches, so other
   * previews' namespaces are denied. Egress is open (apps call external APIs and databases) but for
   * the {@code network.denyEgress} networks (the cloud metadata services by default: a node's
   * credentials): every pod of the cluster, and every address outside those networks.
   */
  NetworkPolicy networkPolicy(Context c) {
    List<NetworkPolicyPeer> from = new ArrayList<>();
    from.add(namespacePeer(settings.ingressNamespace));
    settings.allowNamespaces.forEach(ns -> from.add(namespacePeer(ns)));
    from.add(new NetworkPolicyPeerBuilder().withNewPodSelector().endPodSelector().build());
    var spec = new NetworkPolicyBuilder().withMetadata(meta(POLICY, c))
        .withNewSpec().withNewPodSelector().endPodSelector()
        .addNewIngress().withFrom(from).endIngress();
    if (settings.denyEgress.isEmpty()) {
      return spec.withPolicyTypes("Ingress").endSpec().build();
    }
    List<String> v4 = new ArrayList<>();
    List<String> v6 = new ArrayList<>();
    settings.denyEgress.forEach(n -> (dev.preview.spi.Cidr.ipv6(n) ? v6 : v4).add(dev.preview.spi.Cidr.withPrefix(n)));
    return spec.withPolicyTypes("Ingress", "Egress")
        .addNewEgress().addNewTo().withNewNamespaceSelector().endNamespaceSelector().endTo().endEgress()
        .addNewEgress()
        .addNewTo().withNewIpBlock().withCidr("0.0.0.0/0").withExcept(v4).endIpBlock().endTo()
        .addNewTo().withNewIpBlock().withCidr("::/0").withExcept(v6).endIpBlock().endTo()
        .endEgress()
        .endSpec().build();
  }

  private static NetworkPolicyPeer namespacePeer(String namespace) {
    return new NetworkPolicyPeerBuilder().withNewNamespaceSelector()
        .addToMatchLabels(NAMESPACE_NAME_LABEL, namespace).endNamespaceSelector().build();
  }

  io.fabric8.kubernetes.api.model.Secret secret(EnvironmentSpec spec, Context c) {
    Map<String, String> data = new LinkedHashMap<>();
    for (Map.Entry<String, Secret> e : spec.secrets().entrySet()) {
      data.put(e.getKey(), Base64.getEncoder().encodeToString(e.getValue().reveal().getBytes(StandardCharsets.UTF_8)));
    }
    return new SecretBuilder().withMetadata(meta(secretName(), c)).withType("Opaque").withData(data).build();
  }

  Deployment deployment(EnvironmentSpec spec, Context c) {
    Map<String, String> selector = Map.of(APP_LABEL, settings.appName);
    Map<String, String> podLabels = new LinkedHashMap<>(c.labels());
    podLabels.putAll(selector);
    // The revision annotation changes the pod template on every push, so even a mutable tag rolls.
    Map<String, String> podAnnotations = Map.of(Labels.REVISION, spec.revision(), Labels.KEY, spec.key().id());
    List<LocalObjectReference> pullSecrets = c.pullSecrets().stream().map(LocalObjectReference::new).toList();
    return new DeploymentBuilder().withMetadata(meta(settings.appName, c))
        .withNewSpec().withReplicas(settings.replicas)
        .withNewSelector().withMatchLabels(selector).endSelector()
        .withNewTemplate()
          .withNewMetadata().withLabels(podLabels).withAnnotations(podAnnotations).endMetadata()
          .withNewSpec()
            .withAutomountServiceAccountToken(false)
            .withImagePullSecrets(pullSecrets)
            .withContainers(container(spec))
          .endSpec()
        .endTemplate().endSpec().build();
  }

  private Container container(EnvironmentSpec spec) {
    List<EnvVar> env = new ArrayList<>();
    spec.env().forEach((k, v) -> env.add(new EnvVar(k, v, null)));
    for (String name : spec.secrets().keySet()) {
      env.add(new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef()
          .withName(secretName()).withKey(name).endSecretKeyRef().endValueFrom().build());
    }
    Map<String, Quantity> limits = new LinkedHashMap<>();
    settings.cpuLimit(spec.resources()).ifPresent(v -> limits.put("cpu", new Quantity(v)));
    settings.memoryLimit(spec.resources()).ifPresent(v -> limits.put("memory", new Quantity(v)));
    ContainerBuilder b = new ContainerBuilder().withName(settings.appName).withImage(spec.image())
        .addNewPort().withName("http").withContainerPort(spec.port()).withProtocol("TCP").endPort()
        .withEnv(env)
        .withResources(new ResourceRequirementsBuilder().withLimits(limits)
            .withRequests(quantities(settings.requests)).build())
        .withReadinessProbe(probe(spec, 0))
        .withLivenessProbe(probe(spec, (int) settings.probeInitialDelay.toSeconds()));
    if (!spec.command().isEmpty()) {
      b.withCommand(spec.command());
    }
    return b.build();
  }

  private Probe probe(EnvironmentSpec spec, int initialDelaySeconds) {
    return new ProbeBuilder().withNewHttpGet().withPath(spec.healthPath()).withPort(new IntOrString("http")).endHttpGet()
        .withInitialDelaySeconds(initialDelaySeconds)
        .withPeriodSeconds((int) Math.max(1, settings.probePeriod.toSeconds()))
        .withFailureThreshold(settings.probeFailureThreshold).build();
  }

  Service service(EnvironmentSpec spec, Context c) {
    return new ServiceBuilder().withMetadata(meta(settings.appName, c))
        .withNewSpec().withType("ClusterIP").withSelector(Map.of(APP_LABEL, settings.appName))
        .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString("http")).withProtocol("TCP").endPort()
        .endSpec().build();
  }

  Ingress ingress(Context c) {
    ObjectMeta meta = meta(settings.appName, c);
    Map<String, String> annotations = new LinkedHashMap<>(meta.getAnnotations());
    annotations.putAll(settings.ingressAnnotations);
    if (settings.tlsClusterIssuer != null) {
      annotations.put("cert-manager.io/cluster-issuer", settings.tlsClusterIssuer);
    }
    if (settings.tlsIssuer != null) {
      annotations.put("cert-manager.io/issuer", settings.tlsIssuer);
    }
    meta.setAnnotations(annotations);
    IngressBuilder b = new IngressBuilder().withMetadata(meta)
        .withNewSpec().withIngressClassName(settings.ingressClassName)
        .addNewRule().withHost(c.host()).withNewHttp().addNewPath().withPath("/").withPathType("Prefix")
          .withNewBackend().withNewService().withName(settings.appName).withNewPort().withName("http").endPort()
          .endService().endBackend().endPath().endHttp().endRule()
        .endSpec();
    if (c.tlsSecret() != null) {
      b.editSpec().withTls(new IngressTLSBuilder().withHosts(c.host()).withSecretName(c.tlsSecret()).build()).endSpec();
    }
    return b.build();
  }

  /** Adds our ownership labels and annotations to a user manifest and puts it into the namespace. */
  private static HasMetadata owned(HasMetadata item, Context c) {
    ObjectMeta m = item.getMetadata();
    Map<String, String> labels = new LinkedHashMap<>(m.getLabels() == null ? Map.of() : m.getLabels());
    labels.putAll(c.labels());
    Map<String, String> annotations = new LinkedHashMap<>(m.getAnnotations() == null ? Map.of() : m.getAnnotations());
    annotations.putAll(c.annotations());
    m.setLabels(labels);
    m.setAnnotations(annotations);
    m.setNamespace(c.namespace());
    return item;
  }

  private static ObjectMeta meta(String name, Context c) {
    ObjectMetaBuilder b = new ObjectMetaBuilder().withName(name)
        .withLabels(new LinkedHashMap<>(c.labels())).withAnnotations(new LinkedHashMap<>(c.annotations()));
    if (!name.equals(c.namespace())) {
      b.withNamespace(c.namespace());
    }
    return b.build();
  }

  private static Map<String, Quantity> quantities(Map<String, String> values) {
    Map<String, Quantity> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(k, new Quantity(v)));
    return out;
  }
}
