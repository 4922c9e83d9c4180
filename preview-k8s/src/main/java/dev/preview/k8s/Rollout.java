package dev.preview.k8s;

import dev.preview.spi.Labels;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the rollout of the app's Deployment: ready, still progressing, or failed for a reason a
 * human can act on (taken from the pods' container and scheduling status).
 */
final class Rollout {
  /** Waiting reasons that will not fix themselves: report at once instead of waiting out the deadline. */
  static final Set<String> FATAL_REASONS = Set.of(
      "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
      "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError");

  private final KubernetesClient client;
  private final String namespace;
  private final String app;

  Rollout(KubernetesClient client, String namespace, String app) {
    this.client = client;
    this.namespace = namespace;
    this.app = app;
  }

  /** What one look at the Deployment and its pods says. */
  record State(boolean ready, boolean failed, String reason, String pod) {
    static final State READY = new State(true, false, "ready", null);
  }

  /** Whether the Deployment's status shows every desired replica updated and available. */
  static boolean isReady(Deployment d) {
    if (d == null) {
      return false;
    }
    int desired = d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    DeploymentStatus s = d.getStatus();
    if (desired == 0) {
      return true;
    }
    if (s == null) {
      return false;
    }
    Long generation = d.getMetadata().getGeneration();
    if (generation != null && s.getObservedGeneration() != null && s.getObservedGeneration() < generation) {
      return false;
    }
    int updated = nz(s.getUpdatedReplicas());
    int available = nz(s.getAvailableReplicas());
    int total = nz(s.getReplicas());
    return updated >= desired && available >= desired && total <= updated;
  }

  /** One observation: the Deployment, then (only if not ready) the pods of {@code revision}. */
  State observe(String revision) {
    Deployment d = client.apps().deployments().inNamespace(namespace).withName(app).get();
    if (d == null) {
      return new State(false, true, "deployment " + namespace + "/" + app + " is missing", null);
    }
    if (isReady(d)) {
      return State.READY;
    }
    Optional<String> stalled = progressDeadline(d);
    List<Pod> pods = pods(revision);
    for (Pod p : pods) {
      Optional<String> fatal = fatalReason(p);
      if (fatal.isPresent()) {
        return new State(false, true, fatal.get(), p.getMetadata().getName());
      }
    }
    if (stalled.isPresent()) {
      return new State(false, true, stalled.get(), pods.isEmpty() ? null : pods.get(0).getMetadata().getName());
    }
    for (Pod p : pods) {
      Optional<String> slow = pendingReason(p);
      if (slow.isPresent()) {
        return new State(false, false, slow.get(), p.getMetadata().getName());
      }
    }
    DeploymentStatus s = d.getStatus();
    String progress = s == null ? "no status yet"
        : nz(s.getAvailableReplicas()) + "/" + (d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas())
            + " replicas available, " + nz(s.getUpdatedReplicas()) + " updated";
    return new State(false, false, progress, pods.isEmpty() ? null : pods.get(0).getMetadata().getName());
  }

  /** The app's pods, newest first; those of {@code revision} when any carries it. */
  List<Pod> pods(String revision) {
    List<Pod> all = new ArrayList<>(client.pods().inNamespace(namespace).withLabel(ManifestTemplate.APP_LABEL, app).list().getItems());
    all.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).reversed());
    if (revision == null) {
      return all;
    }
    List<Pod> current = all.stream().filter(p -> p.getMetadata().getAnnotations() != null
        && revision.equals(p.getMetadata().getAnnotations().get(Labels.REVISION))).toList();
    return current.isEmpty() ? all : current;
  }

  private static Optional<String> progressDeadline(Deployment d) {
    if (d.getStatus() == null || d.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    for (DeploymentCondition c : d.getStatus().getConditions()) {
      if ("Progressing".equals(c.getType()) && "False".equals(c.getStatus())) {
        return Optional.of(c.getReason() + ": " + c.getMessage());
      }
    }
    return Optional.empty();
  }

  static Optional<String> fatalReason(Pod p) {
    if (p.getStatus() == null) {
      return Optional.empty();
    }
    List<ContainerStatus> statuses = new ArrayList<>();
    if (p.getStatus().getInitContainerStatuses() != null) {
      statuses.addAll(p.getStatus().getInitContainerStatuses());
    }
    if (p.getStatus().getContainerStatuses() != null) {
      statuses.addAll(p.getStatus().getContainerStatuses());
    }
    for (ContainerStatus cs : statuses) {
      if (cs.getState() != null && cs.getState().getWaiting() != null
          && FATAL_REASONS.contains(cs.getState().getWaiting().getReason())) {
        StringBuilder sb = new StringBuilder("container ").append(cs.getName()).append(": ")
            .append(cs.getState().getWaiting().getReason());
        if (cs.getState().getWaiting().getMessage() != null) {
          sb.append(" (").append(cs.getState().getWaiting().getMessage()).append(')');
        }
        ContainerStateTerminated last = cs.getLastState() == null ? null : cs.getLastState().getTerminated();
        if (last != null) {
          sb.append("; last exit code ").append(last.getExitCode());
          if (last.getReason() != null) {
            sb.append(" (").append(last.getReason()).append(')');
          }
        }
        if (cs.getRestartCount() != null && cs.getRestartCount() > 0) {
          sb.append("; restarted ").append(cs.getRestartCount()).append(" times");
        }
        return Optional.of(sb.toString());
      }
    }
    return Optional.empty();
  }

  /** Reasons a pod is not running yet that may still resolve (e.g. the cluster autoscaler adds a node). */
  static Optional<String> pendingReason(Pod p) {
    if (p.getStatus() == null || p.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    for (PodCondition c : p.getStatus().getConditions()) {
      if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
        return Optional.of((c.getReason() == null ? "Unschedulable" : c.getReason())
            + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")"));
      }
    }
    return Optional.empty();
  }

  /** The last lines of a pod's app container; the previous instance's when the current one has none (crash loops). */
  List<String> logs(String pod, int lines) {
    if (pod == null || lines <= 0) {
      return List.of();
    }
    try {
      return lastLines(tail(client, namespace, pod, app, lines), lines);
    } catch (RuntimeException e) {
      // Logs are a diagnosis aid: a pod that never started has none, which must not hide the real reason.
      return List.of();
    }
  }

  /**
   * The last {@code lines} of {@code container}'s log, or of its previous instance when the current one has
   * none (a crash loop); null when the pod is gone. One GET each: Fabric8's {@code getLog()} first waits for
   * the pod to be ready through an informer (a LIST and a watch per read, even with a zero wait), and closing
   * that watch at once, while the API server still writes its first event, is what stalled Fabric8's mock
   * API server for 30 s (its {@code WatchEventsListener.onClosed} blocks the one event loop).
   */
  static String tail(KubernetesClient client, String namespace, String pod, String container, int lines) {
    String path = "/api/v1/namespaces/" + namespace + "/pods/" + pod + "/log?pretty=false&container=" + container;
    String text = client.raw(path + "&tailLines=" + lines);
    if (text == null || text.isEmpty()) {
      text = client.raw(path + "&previous=true&tailLines=" + lines);
    }
    return text;
  }

  static List<String> lastLines(String text, int lines) {
    if (text == null || text.isEmpty()) {
      return List.of();
    }
    List<String> all = List.of(text.split("\\R"));
    return all.size() <= lines ? all : all.subList(all.size() - lines, all.size());
  }

  private static int nz(Integer i) {
    return i == null ? 0 : i;
  }
}
