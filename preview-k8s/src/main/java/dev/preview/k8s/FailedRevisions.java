package dev.preview.k8s;

import dev.preview.spi.AppExit;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.Names;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What the provider does for the readiness gate: reads a crash off the pods ({@link #exit}), and
 * takes a failed revision out of service: back to the ReplicaSet of the previous revision while its
 * pods still serve (a RollingUpdate keeps them until the new ones are ready; this is what
 * {@code kubectl rollout undo} does: that ReplicaSet's pod template goes back into the Deployment),
 * else the app scaled to zero. Either way the namespace records {@link Labels#FAILED_REVISION}, so
 * every {@code find}/{@code list} (of any process) tells.
 */
final class FailedRevisions {
  /** The Deployment controller's revision number on each of its ReplicaSets. */
  static final String RS_REVISION = "deployment.kubernetes.io/revision";
  /** Waiting reasons that mean the container is down (not just starting). */
  private static final java.util.Set<String> DOWN = java.util.Set.of("CrashLoopBackOff", "RunContainerError");

  private final KubernetesClient client;
  private final String app;

  FailedRevisions(KubernetesClient client, String app) {
    this.client = client;
    this.app = app;
  }

  /**
   * The end of the app among {@code pods} (those of one revision): a container terminated now or
   * waiting in a crash loop (down), else the one restarted most (running again); empty if none
   * ended.
   */
  static Optional<AppExit> exit(List<Pod> pods) {
    AppExit restarted = null;
    for (Pod p : pods) {
      if (p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
        continue;
      }
      for (ContainerStatus cs : p.getStatus().getContainerStatuses()) {
        int restarts = cs.getRestartCount() == null ? 0 : cs.getRestartCount();
        ContainerStateTerminated now = cs.getState() == null ? null : cs.getState().getTerminated();
        ContainerStateTerminated last = cs.getLastState() == null ? null : cs.getLastState().getTerminated();
        String waiting = cs.getState() == null || cs.getState().getWaiting() == null ? null
            : cs.getState().getWaiting().getReason();
        if (now != null) {
          return Optional.of(new AppExit(now.getExitCode(), restarts, false, describe(p, cs, now.getReason())));
        }
        if (waiting != null && DOWN.contains(waiting)) {
          return Optional.of(new AppExit(last == null ? null : last.getExitCode(), restarts, false,
              describe(p, cs, waiting + (last != null && last.getReason() != null ? ", last " + last.getReason() : ""))));
        }
        if (restarts > 0 && (restarted == null || restarts > restarted.restarts())) {
          restarted = new AppExit(last == null ? null : last.getExitCode(), restarts, true,
              describe(p, cs, last == null ? null : last.getReason()));
        }
      }
    }
    return Optional.ofNullable(restarted);
  }

  private static String describe(Pod p, ContainerStatus cs, @Nullable String reason) {
    return (reason == null || reason.isBlank() ? "" : reason + "; ") + "pod " + p.getMetadata().getName()
        + ", container " + cs.getName();
  }

  /**
   * The newest ReplicaSet of the app's Deployment that runs another revision than {@code failed}
   * and still has ready pods: the one that kept serving during the failed rollout.
   */
  Optional<ReplicaSet> serving(String ns, Deployment d, String failed) {
    String uid = d.getMetadata().getUid();
    return KubernetesEnvironmentProvider.read(() -> client.apps().replicaSets().inNamespace(ns)
            .withLabel(ManifestTemplate.APP_LABEL, app).list().getItems())
        .stream()
        .filter(rs -> ownedBy(rs, uid))
        .filter(rs -> {
          String rev = templateRevision(rs.getSpec().getTemplate());
          return rev != null && !rev.equals(failed);
        })
        .filter(rs -> rs.getStatus() != null && rs.getStatus().getReadyReplicas() != null
            && rs.getStatus().getReadyReplicas() > 0)
        .max(Comparator.comparingLong(FailedRevisions::number));
  }

  private boolean ownedBy(ReplicaSet rs, @Nullable String uid) {
    List<OwnerReference> owners = rs.getMetadata().getOwnerReferences();
    if (owners == null || owners.isEmpty()) {
      return false;
    }
    return owners.stream().anyMatch(o -> "Deployment".equals(o.getKind()) && app.equals(o.getName())
        && (uid == null || o.getUid() == null || uid.equals(o.getUid())));
  }

  private static long number(ReplicaSet rs) {
    Map<String, String> a = rs.getMetadata().getAnnotations();
    try {
      return a == null || a.get(RS_REVISION) == null ? 0 : Long.parseLong(a.get(RS_REVISION));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static @Nullable String templateRevision(@Nullable PodTemplateSpec t) {
    if (t == null || t.getMetadata() == null || t.getMetadata().getAnnotations() == null) {
      return null;
    }
    return t.getMetadata().getAnnotations().get(Labels.REVISION);
  }

  /** Puts {@code rs}'s pod template back into the app's Deployment; returns the revision it runs. */
  String rollBack(String ns, ReplicaSet rs) {
    PodTemplateSpec template = new PodTemplateSpecBuilder(rs.getSpec().getTemplate()).build();
    if (template.getMetadata().getLabels() != null) {
      Map<String, String> labels = new LinkedHashMap<>(template.getMetadata().getLabels());
      labels.remove("pod-template-hash"); // the controller's, per ReplicaSet
      template.getMetadata().setLabels(labels);
    }
    client.apps().deployments().inNamespace(ns).withName(app).edit(d -> {
      d.getSpec().setTemplate(template);
      return d;
    });
    return templateRevision(template);
  }

  /** Marks the namespace: {@code failed} failed its gate; it runs {@code revision} now, in {@code phase}. */
  void mark(String ns, String failed, String revision, Environment.Phase phase) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(Labels.FAILED_REVISION, failed);
    annotations.put(Labels.REVISION, revision);
    annotations.put(KubernetesEnvironmentProvider.PHASE, phase.name());
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
        .addToAnnotations(annotations).addToLabels(Labels.REVISION, Names.labelValue(revision)).endMetadata().build())
        .patch(PatchContext.of(PatchType.JSON_MERGE));
  }
}
