package dev.preview.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The pure parts of chart support: values typing and placeholders, install order, StatefulSet and Job readiness. */
class ChartPartsTest {

  @Test
  void setValuesAreTypedLikeHelmsSetUnlessTheyHoldPlaceholders() {
    ChartSettings s = new ChartSettings();
    s.set = new java.util.LinkedHashMap<>(Map.of("worker.enabled", "false", "api.replicas", "2", "image.tag", "{shortSha}",
        "ingress.host", "pr-{number}.example.com", "name", "plain"));
    Set<String> missing = new TreeSet<>();
    Map<String, Object> v = s.setValues(Map.of("shortSha", "1234567", "number", "42"), missing);
    assertThat(v).containsEntry("name", "plain");
    assertThat(map(v.get("worker"))).containsEntry("enabled", false);
    assertThat(map(v.get("api"))).containsEntry("replicas", 2L);
    assertThat(map(v.get("image"))).containsEntry("tag", "1234567"); // digits, but a string
    assertThat(map(v.get("ingress"))).containsEntry("host", "pr-42.example.com");
    assertThat(missing).isEmpty();
  }

  @Test
  void anEnvPlaceholderTheAppLacksIsCollectedNotBlanked() {
    Set<String> missing = new TreeSet<>();
    assertThat(ChartSettings.render("url: \"{env.DATABASE_URL}\" n: {number}", Map.of("number", "7"), missing))
        .isEqualTo("url: \"{env.DATABASE_URL}\" n: 7");
    assertThat(missing).containsExactly("env.DATABASE_URL");
    assertThat(ChartSettings.problems("{nmber} {env.X} {shortSha}")).singleElement().asString().contains("[nmber]");
  }

  @Test
  void objectsAreAppliedInHelmsInstallOrder() {
    List<HasMetadata> rendered = List.of(
        new IngressBuilder().withNewMetadata().withName("i").endMetadata().build(),
        new JobBuilder().withNewMetadata().withName("j").endMetadata().build(),
        new DeploymentBuilder().withNewMetadata().withName("d").endMetadata().build(),
        new ServiceBuilder().withNewMetadata().withName("s").endMetadata().build(),
        new RoleBuilder().withNewMetadata().withName("r").endMetadata().build(),
        new ConfigMapBuilder().withNewMetadata().withName("c").endMetadata().build());
    assertThat(ChartObjects.installOrder(rendered)).extracting(HasMetadata::getKind)
        .containsExactly("ConfigMap", "Role", "Service", "Deployment", "Job", "Ingress");
  }

  @Test
  void aStatefulSetIsReadyWhenEveryReplicaIsReadyAndUpdatedToTheSameRevision() {
    assertThat(ChartRollout.ready(sts(2, 2, 2, "r1", "r1"))).isTrue();
    assertThat(ChartRollout.ready(sts(2, 1, 2, "r1", "r1"))).as("one replica not ready").isFalse();
    assertThat(ChartRollout.ready(sts(2, 2, 1, "r1", "r1"))).as("one replica not updated").isFalse();
    assertThat(ChartRollout.ready(sts(2, 2, 2, "r1", "r2"))).as("rolling to r2").isFalse();
    assertThat(ChartRollout.ready(new StatefulSetBuilder().withNewMetadata().withName("db").endMetadata()
        .withNewSpec().withReplicas(1).endSpec().build())).as("no status yet").isFalse();
  }

  @Test
  void aJobIsReadyOnceItSucceeded() {
    assertThat(ChartRollout.ready(new JobBuilder().withNewMetadata().withName("m").endMetadata().withNewSpec().endSpec()
        .withNewStatus().withActive(1).endStatus().build())).isFalse();
    assertThat(ChartRollout.ready(new JobBuilder().withNewMetadata().withName("m").endMetadata().withNewSpec().endSpec()
        .withNewStatus().withSucceeded(1).endStatus().build())).isTrue();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  private static StatefulSet sts(int replicas, int ready, int updated, String current, String update) {
    return new StatefulSetBuilder().withNewMetadata().withName("db").withGeneration(3L).endMetadata()
        .withNewSpec().withReplicas(replicas).endSpec()
        .withNewStatus().withObservedGeneration(3L).withReplicas(replicas).withReadyReplicas(ready)
        .withUpdatedReplicas(updated).withCurrentRevision(current).withUpdateRevision(update).endStatus().build();
  }
}
