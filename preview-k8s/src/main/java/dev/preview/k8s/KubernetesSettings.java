package dev.preview.k8s;

import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Resources;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The typed settings of the {@code kubernetes} provider, read from its config section. Every key is
 * read before {@link ProviderConfig#validate()} so that all problems are reported at once.
 */
final class KubernetesSettings {
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern QUANTITY = Pattern.compile("[+]?[0-9.]+([eE][+-]?[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?");

  // connection
  String masterUrl;
  Secret token;
  String kubeconfig;
  String context;
  boolean trustCerts;
  String caCertFile;
  // naming
  String appName = "app";
  int replicas = 1;
  Duration ttl;
  // ingress
  boolean ingressEnabled = true;
  String ingressClassName;
  Map<String, String> ingressAnnotations = Map.of();
  String tlsSecretName;
  String tlsSecretNamespace;
  String tlsClusterIssuer;
  String tlsIssuer;
  // isolation and limits
  Map<String, String> quota = Map.of();
  Map<String, String> limitDefault = Map.of();
  Map<String, String> limitDefaultRequest = Map.of();
  Map<String, String> limitMax = Map.of();
  Map<String, String> requests = Map.of();
  boolean networkPolicy = true;
  String ingressNamespace = "ingress-nginx";
  List<String> allowNamespaces = List.of();
  /** Networks the preview's pods may not reach (egress); empty: egress is not restricted. */
  List<String> denyEgress = dev.preview.spi.Cidr.METADATA;
  List<String> pullSecrets = List.of();
  String pullSecretsNamespace;
  // probes
  Duration probeInitialDelay = Duration.ofSeconds(5);
  Duration probePeriod = Duration.ofSeconds(10);
  int probeFailureThreshold = 3;
  // readiness and teardown
  boolean waitForReady = true;
  Duration readyTimeout = Duration.ofMinutes(5);
  Duration pollInterval = Duration.ofSeconds(2);
  /** Whether the readiness wait also watches the Deployments (false: it polls only, for API proxies that cut watches). */
  boolean readinessWatch = true;
  int logLines = 20;
  Duration deleteWait = Duration.ZERO;
  Duration stuckAfter = Duration.ofMinutes(10);
  // extra manifests
  List<String> manifests = List.of();
  // the team's own Helm chart (null: the built-in Deployment/Service/Ingress template)
  ChartSettings chart;

  KubernetesSettings() {}

  /** Reads every key of the section; records problems instead of throwing (the caller validates). */
  static KubernetesSettings read(ProviderConfig c) {
    KubernetesSettings s = new KubernetesSettings();
    c.ignore("provider");
    s.masterUrl = c.string("masterUrl").orElse(null);
    s.token = c.secret("token").orElse(null);
    s.kubeconfig = c.string("kubeconfig").orElse(null);
    s.context = c.string("context").orElse(null);
    s.trustCerts = c.bool("trustCerts", false);
    s.caCertFile = c.string("caCertFile").orElse(null);
    if (s.masterUrl != null && !s.masterUrl.matches("https?://.+")) {
      c.problem("masterUrl", "must be an http(s) URL such as https://kube.example.com:6443, got \"" + s.masterUrl + "\"");
    }
    if (s.token != null && s.masterUrl == null) {
      c.problem("token", "is only used with masterUrl; set masterUrl too, or remove token to use kubeconfig / in-cluster credentials");
    }
    if (s.masterUrl != null && s.kubeconfig != null) {
      c.problem("kubeconfig", "cannot be combined with masterUrl; choose one");
    }

    if (c.has("instance")) {
      c.ignore("instance");
      c.problem("instance", "removed from the environment section: the instance is set once, at the top level of"
          + " preview.yaml (instance: name), or with Installation.builder().instance(name) in code");
    }
    s.appName = c.string("appName", "app");
    if (!DNS_LABEL.matcher(s.appName).matches()) {
      c.problem("appName", "must be a DNS label ([a-z0-9-], at most 63), got \"" + s.appName + "\"");
      s.appName = "app";
    }
    s.replicas = c.integer("replicas", 1, 1, 100);
    s.ttl = c.duration("ttl", null);

    ProviderConfig ingress = c.section("ingress");
    // Hostnames are formed in one place, app.hostname, and arrive as EnvironmentSpec.hostname().
    for (String removed : List.of("baseDomain", "host")) {
      Optional<String> was = ingress.string(removed);
      if (was.isPresent()) {
        ingress.problem(removed, "removed (was \"" + was.get() + "\"): set app.hostname, e.g."
            + " pr-{number}.preview.example.com; the Ingress host and the DNS record both use it");
      }
    }
    s.ingressEnabled = ingress.bool("enabled", true);
    s.ingressClassName = ingress.string("className").orElse(null);
    s.ingressAnnotations = ingress.stringMap("annotations");
    ProviderConfig tls = ingress.section("tls");
    s.tlsSecretName = tls.string("secretName").orElse(null);
    s.tlsSecretNamespace = tls.string("secretNamespace").orElse(null);
    s.tlsClusterIssuer = tls.string("clusterIssuer").orElse(null);
    s.tlsIssuer = tls.string("issuer").orElse(null);
    int tlsModes = (s.tlsSecretName != null ? 1 : 0) + (s.tlsClusterIssuer != null ? 1 : 0) + (s.tlsIssuer != null ? 1 : 0);
    if (tlsModes > 1) {
      tls.problem("secretName", "choose one of secretName (a wildcard certificate), clusterIssuer or issuer (cert-manager)");
    }
    if (s.tlsSecretNamespace != null && s.tlsSecretName == null) {
      tls.problem("secretNamespace", "is only used with secretName");
    }

    s.quota = quantities(c, "quota");
    ProviderConfig limits = c.section("limitRange");
    s.limitDefault = quantities(limits, "default");
    s.limitDefaultRequest = quantities(limits, "defaultRequest");
    s.limitMax = quantities(limits, "max");
    s.requests = quantities(c, "requests");

    ProviderConfig network = c.section("network");
    s.networkPolicy = network.bool("policy", true);
    s.ingressNamespace = network.string("ingressNamespace", "ingress-nginx");
    s.allowNamespaces = network.strings("allowNamespaces");
    s.denyEgress = dev.preview.spi.Cidr.list(network, "denyEgress", dev.preview.spi.Cidr.METADATA);

    s.pullSecrets = c.strings("pullSecrets");
    s.pullSecretsNamespace = c.string("pullSecretsNamespace").orElse(null);
    if (s.pullSecretsNamespace != null && s.pullSecrets.isEmpty()) {
      c.problem("pullSecretsNamespace", "is only used with pullSecrets");
    }

    ProviderConfig probes = c.section("probes");
    s.probeInitialDelay = probes.duration("initialDelay", s.probeInitialDelay);
    s.probePeriod = probes.duration("period", s.probePeriod);
    s.probeFailureThreshold = probes.integer("failureThreshold", 3, 1, 100);

    ProviderConfig readiness = c.section("readiness");
    s.waitForReady = readiness.bool("wait", true);
    s.readyTimeout = readiness.duration("timeout", s.readyTimeout);
    s.pollInterval = readiness.duration("pollInterval", s.pollInterval);
    s.readinessWatch = readiness.bool("watch", true);
    s.logLines = readiness.integer("logLines", 20, 0, 10_000);

    ProviderConfig delete = c.section("delete");
    s.deleteWait = delete.duration("wait", s.deleteWait);
    s.stuckAfter = delete.duration("stuckAfter", s.stuckAfter);

    s.manifests = c.strings("manifests");
    for (int i = 0; i < s.manifests.size(); i++) {
      for (String problem : ExtraManifests.check(s.manifests.get(i))) {
        c.problem("manifests[" + i + "]", problem);
      }
    }
    if (c.has("chart")) {
      s.chart = ChartSettings.read(c.section("chart"));
    }
    return s;
  }

  private static Map<String, String> quantities(ProviderConfig c, String key) {
    Map<String, String> raw = c.stringMap(key);
    Map<String, String> out = new LinkedHashMap<>();
    raw.forEach((k, v) -> {
      if (!QUANTITY.matcher(v.trim()).matches()) {
        c.problem(key + "." + k, "must be a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi, got \"" + v + "\"");
      } else {
        out.put(k, v.trim());
      }
    });
    return Map.copyOf(out);
  }

  /** How the preview is reached from outside: TLS when a certificate source is configured. */
  boolean tls() {
    return tlsSecretName != null || tlsClusterIssuer != null || tlsIssuer != null;
  }

  Optional<String> cpuLimit(Resources r) {
    return r.milliCpus() > 0 ? Optional.of(r.milliCpus() + "m") : Optional.empty();
  }

  Optional<String> memoryLimit(Resources r) {
    return r.memoryBytes() > 0 ? Optional.of(Long.toString(r.memoryBytes())) : Optional.empty();
  }
}
