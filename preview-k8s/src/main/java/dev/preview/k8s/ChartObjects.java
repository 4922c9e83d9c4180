package dev.preview.k8s;

import dev.preview.spi.Labels;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a chart's render may contain and how it is applied, as Argo CD applies a chart: every
 * namespaced object goes into the preview's namespace with the ownership labels (and
 * {@value #SOURCE}={@value #CHART}, so that pruning never touches the provider's own objects);
 * cluster-scoped objects are refused unless their kind is allowed; an object that names another
 * namespace is refused. Objects are applied in Helm's install order and pruned in reverse.
 */
final class ChartObjects {
  /** Label on every object that came from the chart: pruning selects on it. */
  static final String SOURCE = Labels.PREFIX + "source";
  static final String CHART = "chart";

  /** Cluster-scoped kinds no allow-list can admit: they reach beyond the preview's namespace. */
  static final Set<String> NEVER_ALLOWED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
      "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService", "PersistentVolume",
      "StorageClass", "PriorityClass", "Node", "CertificateSigningRequest", "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding");

  /** Helm's install order (pkg/releaseutil/kind_sorter.go); unknown kinds go last. */
  static final List<String> INSTALL_ORDER = List.of(
      "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
      "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
      "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
      "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
      "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
      "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService");

  private ChartObjects() {}

  /** A render, checked and split by scope. */
  record Plan(List<HasMetadata> clusterScoped, List<HasMetadata> namespaced) {
    /** {@code apiVersion/kind} of every namespaced object, sorted: what a later update prunes among. */
    List<String> kinds() {
      return namespaced.stream().map(ChartObjects::kindKey).distinct().sorted().toList();
    }
  }

  /**
   * Checks the render against the rules and returns every problem at once (empty: fine). Nothing is
   * changed on the cluster; discovery is asked for the scope of kinds Fabric8 does not know.
   */
  static List<String> check(KubernetesClient client, List<HasMetadata> objects, String namespace,
                            Set<String> allowClusterKinds, List<HasMetadata> clusterOut, List<HasMetadata> namespacedOut) {
    List<String> problems = new ArrayList<>();
    // custom kinds that the render's own CRDs define: their scope is the CRD's (the cluster serves them once it is applied)
    Map<String, Boolean> discovered = new LinkedHashMap<>(definedBy(objects));
    Set<String> seen = new java.util.HashSet<>();
    for (HasMetadata o : objects) {
      String kind = o.getKind();
      ObjectMeta m = o.getMetadata();
      if (kind == null || o.getApiVersion() == null) {
        problems.add("an object without apiVersion/kind (" + (m == null ? "unnamed" : m.getName()) + ")");
        continue;
      }
      if (m == null || m.getName() == null || m.getName().isEmpty()) {
        problems.add(kind + " without metadata.name");
        continue;
      }
      String what = kind + " " + m.getName();
      if (!seen.add(kindKey(o) + "/" + m.getName())) {
        problems.add(what + " is rendered twice");
        continue;
      }
      if (o instanceof Namespace) {
        if (m.getName().equals(namespace)) {
          continue; // the chart's own Namespace object for .Release.Namespace: the provider manages it
        }
        problems.add(what + ": a chart may not create namespaces (the preview's is " + namespace + ")");
        continue;
      }
      Boolean namespaced = namespaced(client, o, discovered);
      if (namespaced == null) {
        problems.add(what + ": kind " + kind + " of " + o.getApiVersion() + " is not served by the cluster"
            + " (install its CustomResourceDefinition first)");
        continue;
      }
      if (!namespaced) {
        if (NEVER_ALLOWED.contains(kind) || !allowClusterKinds.contains(kind)) {
          problems.add(what + " is cluster-scoped: a preview's chart may only create objects in its own namespace"
              + (NEVER_ALLOWED.contains(kind) ? "" : " (or kinds listed in environment.chart.allowClusterKinds)")
              + "; disable it in the chart's values for previews");
        } else {
          clusterOut.add(o);
        }
        continue;
      }
      if (m.getNamespace() != null && !m.getNamespace().isEmpty() && !m.getNamespace().equals(namespace)) {
        problems.add(what + " names namespace " + m.getNamespace() + ": a preview's chart may only create objects in"
            + " its own namespace (" + namespace + "); use {{ .Release.Namespace }} or leave metadata.namespace out");
        continue;
      }
      namespacedOut.add(o);
    }
    return problems;
  }

  /**
   * {@code apiVersion/kind} -> namespaced, for every version of every custom kind that a
   * CustomResourceDefinition of the render defines (it is applied before the namespaced objects).
   */
  static Map<String, Boolean> definedBy(List<HasMetadata> objects) {
    Map<String, Boolean> out = new LinkedHashMap<>();
    for (HasMetadata o : objects) {
      if (o instanceof CustomResourceDefinition crd && crd.getSpec() != null && crd.getSpec().getNames() != null
          && crd.getSpec().getVersions() != null) {
        for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
          out.put(crd.getSpec().getGroup() + "/" + v.getName() + "/" + crd.getSpec().getNames().getKind(),
              "Namespaced".equals(crd.getSpec().getScope()));
        }
      }
    }
    return out;
  }

  /** True/false from Fabric8's model, else from the API server's discovery; null: the cluster does not serve the kind. */
  private static Boolean namespaced(KubernetesClient client, HasMetadata o, Map<String, Boolean> cache) {
    if (!(o instanceof GenericKubernetesResource)) {
      return o instanceof Namespaced;
    }
    String key = kindKey(o);
    if (cache.containsKey(key)) {
      return cache.get(key);
    }
    Boolean result = null;
    try {
      APIResourceList list = client.getApiResources(o.getApiVersion());
      if (list != null) {
        for (APIResource r : list.getResources()) {
          if (o.getKind().equals(r.getKind()) && !r.getName().contains("/")) {
            result = Boolean.TRUE.equals(r.getNamespaced());
          }
        }
      }
    } catch (KubernetesClientException e) {
      result = null;
    }
    cache.put(key, result);
    return result;
  }

  /** Labels and annotates an object of the chart, puts it into the namespace; pod templates get the labels too. */
  static void own(HasMetadata o, String namespace, Map<String, String> labels, Map<String, String> annotations) {
    ObjectMeta m = o.getMetadata();
    m.setLabels(merged(m.getLabels(), labels));
    m.getLabels().put(SOURCE, CHART);
    m.setAnnotations(merged(m.getAnnotations(), annotations));
    if (namespace != null) {
      m.setNamespace(namespace);
    }
    PodTemplateSpec template = podTemplate(o);
    if (template != null) {
      if (template.getMetadata() == null) {
        template.setMetadata(new ObjectMeta());
      }
      // The revision label changes on every push, so every workload rolls (as the built-in template's annotation does).
      template.getMetadata().setLabels(merged(template.getMetadata().getLabels(), labels));
      template.getMetadata().setAnnotations(merged(template.getMetadata().getAnnotations(),
          Map.of(Labels.REVISION, annotations.getOrDefault(Labels.REVISION, ""), Labels.KEY, annotations.getOrDefault(Labels.KEY, ""))));
    }
  }

  static PodTemplateSpec podTemplate(HasMetadata o) {
    if (o instanceof Deployment d && d.getSpec() != null) {
      return d.getSpec().getTemplate();
    }
    if (o instanceof StatefulSet s && s.getSpec() != null) {
      return s.getSpec().getTemplate();
    }
    if (o instanceof DaemonSet s && s.getSpec() != null) {
      return s.getSpec().getTemplate();
    }
    if (o instanceof ReplicaSet s && s.getSpec() != null) {
      return s.getSpec().getTemplate();
    }
    if (o instanceof Job j && j.getSpec() != null) {
      return j.getSpec().getTemplate();
    }
    return null;
  }

  /** Sorted into Helm's install order (stable within a kind). */
  static List<HasMetadata> installOrder(List<HasMetadata> objects) {
    List<HasMetadata> out = new ArrayList<>(objects);
    out.sort(Comparator.comparingInt(ChartObjects::rank));
    return out;
  }

  static int rank(HasMetadata o) {
    int i = INSTALL_ORDER.indexOf(o.getKind());
    return i < 0 ? INSTALL_ORDER.size() : i;
  }

  static int rank(String kindKey) {
    String kind = kindKey.substring(kindKey.lastIndexOf('/') + 1);
    int i = INSTALL_ORDER.indexOf(kind);
    return i < 0 ? INSTALL_ORDER.size() : i;
  }

  static String kindKey(HasMetadata o) {
    return o.getApiVersion() + "/" + o.getKind();
  }

  private static Map<String, String> merged(Map<String, String> base, Map<String, String> extra) {
    Map<String, String> out = new LinkedHashMap<>(base == null ? Map.of() : base);
    out.putAll(extra);
    return out;
  }
}
