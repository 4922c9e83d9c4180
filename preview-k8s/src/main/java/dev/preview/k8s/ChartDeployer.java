package dev.preview.k8s;

import dev.preview.spi.Labels;
import dev.preview.spi.ProviderException;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a checked chart render into a preview's namespace and prunes what the render no longer
 * has, with create-or-update (the mock API server has no server-side apply): Argo CD's render +
 * apply, without Helm's release secrets.
 */
final class ChartDeployer {
  private static final Logger LOG = LoggerFactory.getLogger(ChartDeployer.class);

  private final KubernetesClient client;
  private final String namespace;
  /** The preview's selectable ownership labels (managed, instance, key, revision, ...). */
  private final Map<String, String> labels;

  ChartDeployer(KubernetesClient client, String namespace, Map<String, String> labels) {
    this.client = client;
    this.namespace = namespace;
    this.labels = labels;
  }

  /** What pruning selects on: this installation, this preview, objects of the chart. */
  Map<String, String> pruneSelector() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put(Labels.MANAGED, "true");
    s.put(Labels.INSTANCE, labels.get(Labels.INSTANCE));
    s.put(Labels.KEY, labels.get(Labels.KEY));
    s.put(ChartObjects.SOURCE, ChartObjects.CHART);
    return s;
  }

  /**
   * Refuses, before anything is written, objects that exist and belong to another preview or
   * another installation (their {@code preview.dev/key} or instance label says so). Only called
   * for a namespace that existed: in a new one nothing can.
   */
  Map<String, HasMetadata> requireAdoptable(List<HasMetadata> objects) {
    List<String> problems = new ArrayList<>();
    Map<String, HasMetadata> found = new LinkedHashMap<>();
    for (HasMetadata o : objects) {
      HasMetadata live = get(o, namespace);
      found.put(id(o), live);
      String foreign = foreignOwner(live);
      if (foreign != null) {
        problems.add(o.getKind() + " " + o.getMetadata().getName() + " " + foreign);
      }
    }
    if (!problems.isEmpty()) {
      throw new ProviderException(KubernetesEnvironmentProvider.NAME, "refusing to adopt objects of another preview in"
          + " namespace " + namespace + ": " + String.join("; ", problems) + ". Remove them, or fix the chart's names", false);
    }
    return found;
  }

  private static String id(HasMetadata o) {
    return ChartObjects.kindKey(o) + "/" + o.getMetadata().getName();
  }

  String foreignOwner(HasMetadata live) {
    return foreignOwner(live, labels);
  }

  /**
   * Why {@code live} is not ours to update, or null when it is (absent, unlabelled, or our own):
   * its {@code preview.dev/key} label names another preview, or its instance label another installation.
   */
  static String foreignOwner(HasMetadata live, Map<String, String> ours) {
    if (live == null || live.getMetadata().getLabels() == null) {
      return null;
    }
    Map<String, String> l = live.getMetadata().getLabels();
    String key = l.get(Labels.KEY);
    String instance = l.get(Labels.INSTANCE);
    if (key != null && !key.equals(ours.get(Labels.KEY))) {
      String full = live.getMetadata().getAnnotations() == null ? null : live.getMetadata().getAnnotations().get(Labels.KEY);
      return "belongs to preview " + (full != null ? full : key) + " (its " + Labels.KEY + " label)";
    }
    if (instance != null && !instance.equals(ours.get(Labels.INSTANCE))) {
      return "belongs to installation " + instance + " (its " + Labels.INSTANCE + " label)";
    }
    return null;
  }

  /** How long a new CRD of the render may take to be served before its custom resources are applied. */
  private static final long CRD_SERVED_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

  /**
   * Cluster-scoped objects of allowed kinds: created when absent, otherwise left exactly as they
   * are. A CustomResourceDefinition created here is waited for until discovery serves its kinds
   * (the API server takes a moment to establish one), so the chart's custom resources that follow
   * do not meet a 404; after 30 s the apply fails, retryable.
   */
  void applyClusterScoped(List<HasMetadata> objects) {
    List<String> defined = new ArrayList<>();
    for (HasMetadata o : ChartObjects.installOrder(objects)) {
      HasMetadata live = get(o, null);
      if (live == null) {
        client.resource(o).create();
        if (o instanceof io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition) {
          defined.addAll(ChartObjects.definedBy(List.of(o)).keySet());
        }
      } else {
        LOG.debug("{} {} exists; a preview's chart never updates cluster-scoped objects", o.getKind(), o.getMetadata().getName());
      }
    }
    long deadline = System.nanoTime() + CRD_SERVED_NANOS;
    for (String kindKey : defined) {
      int slash = kindKey.lastIndexOf('/');
      String apiVersion = kindKey.substring(0, slash);
      String kind = kindKey.substring(slash + 1);
      while (!served(apiVersion, kind)) {
        if (System.nanoTime() - deadline >= 0) {
          throw new ProviderException(KubernetesEnvironmentProvider.NAME, "the chart's CustomResourceDefinition for " + kind
              + " (" + apiVersion + ") was created but the API server does not serve it after 30 s; retry once it is"
              + " established (kubectl get crd)", true);
        }
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ProviderException(KubernetesEnvironmentProvider.NAME, "interrupted while waiting for " + kindKey
              + " to be served", true, e);
        }
      }
    }
  }

  private boolean served(String apiVersion, String kind) {
    try {
      var list = client.getApiResources(apiVersion);
      return list != null && list.getResources().stream().anyMatch(r -> kind.equals(r.getKind()));
    } catch (KubernetesClientException e) {
      return false;
    }
  }

  /**
   * Applies every namespaced object, in Helm's install order: in a new namespace by create, else
   * by PUT over the live object {@link #requireAdoptable} read ({@code live}; a stale one gets a
   * retryable 409).
   */
  void apply(List<HasMetadata> objects, boolean namespaceIsNew, Map<String, HasMetadata> live0) {
    for (HasMetadata o : ChartObjects.installOrder(objects)) {
      var resource = client.resource(o).inNamespace(namespace);
      if (namespaceIsNew) {
        resource.createOr(NonDeletingOperation::update);
        continue;
      }
      HasMetadata live = live0.containsKey(id(o)) ? live0.get(id(o)) : get(o, namespace);
      if (live == null) {
        resource.create();
      } else if (o instanceof Job && !Objects.equals(revision(live), revision(o))) {
        // A Job's pod template is immutable: a new revision runs a new Job (a migration per push).
        client.resource(live).inNamespace(namespace).withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND).delete();
        client.resource(o).inNamespace(namespace).create();
      } else if (o instanceof Job) {
        LOG.debug("job {} of this revision exists; left as it is", o.getMetadata().getName());
      } else {
        o.getMetadata().setResourceVersion(live.getMetadata().getResourceVersion());
        client.resource(o).inNamespace(namespace).update();
        o.getMetadata().setResourceVersion(null);
      }
    }
  }

  /**
   * Deletes this preview's chart objects (selected by {@link #pruneSelector()}, in this namespace
   * only) of the given kinds that {@code keep} does not hold, in reverse install order.
   *
   * @return {@code Kind name} of every pruned object
   */
  List<String> prune(Set<String> kinds, List<HasMetadata> keep) {
    Set<String> kept = new TreeSet<>();
    keep.forEach(o -> kept.add(id(o)));
    List<String> ordered = new ArrayList<>(kinds);
    ordered.sort(Comparator.comparingInt((String k) -> ChartObjects.rank(k)).reversed());
    List<String> pruned = new ArrayList<>();
    for (String kindKey : ordered) {
      for (HasMetadata live : list(kindKey)) {
        String id = kindKey + "/" + live.getMetadata().getName();
        if (!kept.contains(id) && namespace.equals(live.getMetadata().getNamespace()) && foreignOwner(live) == null) {
          client.resource(live).inNamespace(namespace).withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND).delete();
          pruned.add(live.getKind() + " " + live.getMetadata().getName());
        }
      }
    }
    if (!pruned.isEmpty()) {
      LOG.info("pruned from namespace {} what the chart no longer renders: {}", namespace, pruned);
    }
    return pruned;
  }

  private List<? extends HasMetadata> list(String kindKey) {
    int slash = kindKey.lastIndexOf('/');
    String apiVersion = kindKey.substring(0, slash);
    String kind = kindKey.substring(slash + 1);
    try {
      Class<? extends HasMetadata> type = type(apiVersion, kind);
      if (type == GenericKubernetesResource.class) {
        return KubernetesEnvironmentProvider.read(() -> client.genericKubernetesResources(apiVersion, kind)
            .inNamespace(namespace).withLabels(pruneSelector()).list().getItems());
      }
      return KubernetesEnvironmentProvider.read(() -> client.resources(type).inNamespace(namespace)
          .withLabels(pruneSelector()).list().getItems());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return List.of(); // the kind is no longer served: nothing of it to prune
      }
      throw e;
    }
  }

  /** Fabric8's model class for {@code apiVersion/kind}, or {@link GenericKubernetesResource}. */
  private Class<? extends HasMetadata> type(String apiVersion, String kind) {
    String stub = "{\"apiVersion\":\"" + apiVersion + "\",\"kind\":\"" + kind + "\",\"metadata\":{\"name\":\"x\"}}";
    Object o = client.getKubernetesSerialization().unmarshal(stub);
    return o instanceof HasMetadata h ? h.getClass() : GenericKubernetesResource.class;
  }

  private HasMetadata get(HasMetadata o, String ns) {
    try {
      return KubernetesEnvironmentProvider.read(() -> ns == null ? client.resource(o).get() : client.resource(o).inNamespace(ns).get());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  private static String revision(HasMetadata o) {
    return o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(Labels.REVISION);
  }
}
