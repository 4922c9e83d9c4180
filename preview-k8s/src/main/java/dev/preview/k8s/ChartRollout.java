package dev.preview.k8s;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetStatus;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rollout of every Deployment, StatefulSet and Job of a chart's render: ready when each
 * Deployment and StatefulSet has all replicas updated and available and each Job has succeeded;
 * failed, with the reasons {@link Rollout} knows (image pull, crash loop, ...), as soon as one
 * workload's pod is in a state that will not fix itself, or a Job has failed.
 */
final class ChartRollout {
  private final KubernetesClient client;
  private final String namespace;
  private final List<HasMetadata> workloads;

  ChartRollout(KubernetesClient client, String namespace, List<HasMetadata> rendered) {
    this.client = client;
    this.namespace = namespace;
    this.workloads = rendered.stream().filter(ChartRollout::isWorkload).toList();
  }

  static boolean isWorkload(HasMetadata o) {
    return o instanceof Deployment || o instanceof StatefulSet || o instanceof Job;
  }

  List<HasMetadata> workloads() {
    return workloads;
  }

  /** One look at every workload: the first failure, else the first one still waiting, else ready. */
  Rollout.State observe() {
    Rollout.State waiting = null;
    for (HasMetadata w : workloads) {
      Rollout.State s = observe(w);
      if (s.failed()) {
        return s;
      }
      if (!s.ready() && waiting == null) {
        waiting = s;
      }
    }
    return waiting == null ? Rollout.State.READY : waiting;
  }

  private Rollout.State observe(HasMetadata w) {
    String what = w.getKind().toLowerCase() + " " + w.getMetadata().getName();
    HasMetadata live = client.resource(w).inNamespace(namespace).get();
    if (live == null) {
      return new Rollout.State(false, true, what + " is missing", null);
    }
    if (live instanceof Job job) {
      Optional<String> failed = jobFailed(job);
      if (failed.isPresent()) {
        List<Pod> pods = pods(live);
        return new Rollout.State(false, true, what + ": " + failed.get(), pods.isEmpty() ? null : pods.get(0).getMetadata().getName());
      }
      if (jobSucceeded(job)) {
        return Rollout.State.READY;
      }
    } else if (ready(live)) {
      return Rollout.State.READY;
    }
    List<Pod> pods = pods(live);
    for (Pod p : pods) {
      Optional<String> fatal = Rollout.fatalReason(p);
      if (fatal.isPresent()) {
        return new Rollout.State(false, true, what + ": " + fatal.get(), p.getMetadata().getName());
      }
    }
    for (Pod p : pods) {
      Optional<String> slow = Rollout.pendingReason(p);
      if (slow.isPresent()) {
        return new Rollout.State(false, false, what + ": " + slow.get(), p.getMetadata().getName());
      }
    }
    return new Rollout.State(false, false, what + ": " + progress(live), pods.isEmpty() ? null : pods.get(0).getMetadata().getName());
  }

  static boolean ready(HasMetadata live) {
    if (live instanceof Deployment d) {
      return Rollout.isReady(d);
    }
    if (live instanceof StatefulSet s) {
      int desired = s.getSpec() == null || s.getSpec().getReplicas() == null ? 1 : s.getSpec().getReplicas();
      StatefulSetStatus st = s.getStatus();
      if (desired == 0) {
        return true;
      }
      if (st == null) {
        return false;
      }
      Long generation = s.getMetadata().getGeneration();
      if (generation != null && st.getObservedGeneration() != null && st.getObservedGeneration() < generation) {
        return false;
      }
      boolean sameRevision = st.getUpdateRevision() == null || st.getUpdateRevision().equals(st.getCurrentRevision());
      return nz(st.getReadyReplicas()) >= desired && nz(st.getUpdatedReplicas()) >= desired && sameRevision;
    }
    return live instanceof Job j && jobSucceeded(j);
  }

  private static boolean jobSucceeded(Job j) {
    int completions = j.getSpec() == null || j.getSpec().getCompletions() == null ? 1 : j.getSpec().getCompletions();
    if (j.getStatus() == null) {
      return false;
    }
    if (j.getStatus().getConditions() != null && j.getStatus().getConditions().stream()
        .anyMatch(c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus()))) {
      return true;
    }
    return nz(j.getStatus().getSucceeded()) >= completions;
  }

  private static Optional<String> jobFailed(Job j) {
    if (j.getStatus() == null || j.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    for (JobCondition c : j.getStatus().getConditions()) {
      if ("Failed".equals(c.getType()) && "True".equals(c.getStatus())) {
        return Optional.of("failed: " + c.getReason() + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")"));
      }
    }
    return Optional.empty();
  }

  private static String progress(HasMetadata live) {
    if (live instanceof Deployment d) {
      int desired = d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
      return d.getStatus() == null ? "no status yet"
          : nz(d.getStatus().getAvailableReplicas()) + "/" + desired + " replicas available, " + nz(d.getStatus().getUpdatedReplicas()) + " updated";
    }
    if (live instanceof StatefulSet s) {
      int desired = s.getSpec() == null || s.getSpec().getReplicas() == null ? 1 : s.getSpec().getReplicas();
      return s.getStatus() == null ? "no status yet" : nz(s.getStatus().getReadyReplicas()) + "/" + desired + " replicas ready";
    }
    Job j = (Job) live;
    return j.getStatus() == null ? "not started" : nz(j.getStatus().getActive()) + " active, " + nz(j.getStatus().getSucceeded()) + " succeeded";
  }

  /** The workload's pods (selected by its pod template's labels, which carry this revision), newest first. */
  List<Pod> pods(HasMetadata live) {
    PodTemplateSpec t = ChartObjects.podTemplate(live);
    Map<String, String> selector = t == null || t.getMetadata() == null ? null : t.getMetadata().getLabels();
    if (selector == null || selector.isEmpty()) {
      return List.of();
    }
    List<Pod> pods = new ArrayList<>(client.pods().inNamespace(namespace).withLabels(selector).list().getItems());
    pods.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp())).reversed());
    return pods;
  }

  /** The last lines of the pod's failing container (else its first one); the previous instance's when the current has none. */
  List<String> logs(String pod, int lines) {
    if (pod == null || lines <= 0) {
      return List.of();
    }
    try {
      Pod p = client.pods().inNamespace(namespace).withName(pod).get();
      if (p == null) {
        return List.of();
      }
      return Rollout.lastLines(Rollout.tail(client, namespace, pod, failingContainer(p), lines), lines);
    } catch (RuntimeException e) {
      return List.of(); // a diagnosis aid only
    }
  }

  private static String failingContainer(Pod p) {
    if (p.getStatus() != null && p.getStatus().getContainerStatuses() != null) {
      for (ContainerStatus cs : p.getStatus().getContainerStatuses()) {
        if (cs.getState() != null && cs.getState().getWaiting() != null
            && Rollout.FATAL_REASONS.contains(cs.getState().getWaiting().getReason())) {
          return cs.getName();
        }
      }
    }
    return p.getSpec().getContainers().get(0).getName();
  }

  private static int nz(Integer i) {
    return i == null ? 0 : i;
  }
}
