package dev.preview.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/kubernetes/preview.yaml} loaded with Fabric8 and created on its mock API server, and
 * what it must hold; the {@code Dockerfile}'s structure (it cannot be built here: no base image can
 * be pulled).
 */
@EnableKubernetesMockClient(crud = true)
class DeployFilesTest {
  KubernetesClient client;
  @TempDir Path dir;

  private List<HasMetadata> manifests() throws Exception {
    try (InputStream in = Files.newInputStream(DocumentedRoot.root().resolve("deploy/kubernetes/preview.yaml"))) {
      return client.load(in).items();
    }
  }

  @SuppressWarnings("unchecked")
  private static <T extends HasMetadata> T one(List<HasMetadata> all, Class<T> kind, String name) {
    return (T) all.stream().filter(kind::isInstance).filter(h -> h.getMetadata().getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " " + name + " in deploy/kubernetes/preview.yaml"));
  }

  private static boolean allows(List<PolicyRule> rules, String group, String resource, String... verbs) {
    return rules.stream().anyMatch(r -> r.getApiGroups().contains(group) && r.getResources().contains(resource)
        && r.getVerbs().containsAll(List.of(verbs)));
  }

  @Test
  void theManifestLoadsAndCreatesAndHoldsTwoElectingReplicasTheirServiceAndTheirRights() throws Exception {
    List<HasMetadata> all = manifests();
    assertThat(all).extracting(HasMetadata::getKind).contains("Namespace", "ServiceAccount", "Role", "RoleBinding",
        "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service");
    client.resourceList(all).create();
    assertThat(client.apps().deployments().inNamespace("preview-system").withName("preview").get()).isNotNull();

    Deployment d = one(all, Deployment.class, "preview");
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getArgs()).startsWith("serve").contains("--leader-election", "--lease-namespace", "--identity", "$(POD_NAME)");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).as("a standby is not ready: traffic goes to the leader")
        .isEqualTo("/healthz");
    assertThat(d.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    String account = d.getSpec().getTemplate().getSpec().getServiceAccountName();
    assertThat(one(all, ServiceAccount.class, account).getMetadata().getNamespace()).isEqualTo("preview-system");

    Service s = one(all, Service.class, "preview");
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(s.getSpec().getSelector());
    String target = s.getSpec().getPorts().get(0).getTargetPort().getStrVal();
    assertThat(c.getPorts()).anyMatch(p -> target.equals(p.getName()));

    Role lease = one(all, Role.class, "preview-leader-election");
    assertThat(allows(lease.getRules(), "coordination.k8s.io", "leases", "get", "create", "update")).isTrue();
    RoleBinding rb = one(all, RoleBinding.class, "preview-leader-election");
    assertThat(rb.getRoleRef().getName()).isEqualTo(lease.getMetadata().getName());
    assertThat(rb.getSubjects()).anyMatch(x -> x.getName().equals(account) && x.getNamespace().equals("preview-system"));
    assertThat(lease.getMetadata().getNamespace()).isEqualTo(c.getArgs().get(c.getArgs().indexOf("--lease-namespace") + 1));

    ClusterRole ns = one(all, ClusterRole.class, "preview-namespaces");
    assertThat(allows(ns.getRules(), "", "namespaces", "get", "list", "create", "patch", "delete")).isTrue();
    assertThat(allows(ns.getRules(), "apps", "deployments", "get", "create", "update", "delete")).isTrue();
    assertThat(allows(ns.getRules(), "networking.k8s.io", "ingresses", "create")).isTrue();
    assertThat(allows(ns.getRules(), "", "pods/log", "get")).isTrue();
    ClusterRoleBinding crb = one(all, ClusterRoleBinding.class, "preview-namespaces");
    assertThat(crb.getRoleRef().getName()).isEqualTo("preview-namespaces");
    assertThat(crb.getSubjects()).anyMatch(x -> x.getName().equals(account));
  }

  @Test
  void itsPreviewYamlIsValid() throws Exception {
    ConfigMap cm = one(manifests(), ConfigMap.class, "preview-config");
    Path f = dir.resolve("preview.yaml");
    Files.writeString(f, cm.getData().get("preview.yaml"));
    Map<String, String> env = TestEnv.withoutCi();
    env.put("GITHUB_TOKEN", "t");
    env.put("GITHUB_WEBHOOK_SECRET", "s");
    var r = ValidateCommandTest.run(env, "validate", "-c", f.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
  }

  @Test
  void theDockerfileIsMultiStageNonRootWithAHealthCheckOnLivezAndCopiesEveryModule() throws Exception {
    Path root = DocumentedRoot.root();
    List<String> lines = logicalLines(Files.readString(root.resolve("Dockerfile")));
    List<String> from = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertThat(from).hasSizeGreaterThanOrEqualTo(2);
    assertThat(from.get(0)).contains(" AS build");
    int lastFrom = lines.indexOf(from.get(from.size() - 1));
    List<String> run = lines.subList(lastFrom, lines.size());
    assertThat(run).anyMatch(l -> l.startsWith("COPY --from=build "));
    List<String> users = run.stream().filter(l -> l.startsWith("USER ")).toList();
    assertThat(users).isNotEmpty();
    String user = users.get(users.size() - 1).substring(5).trim().split(":")[0];
    assertThat(user).as("the final stage runs as a non-root user").isNotIn("root", "0");
    assertThat(run).anyMatch(l -> l.startsWith("HEALTHCHECK ") && l.contains("/livez"));
    assertThat(run).anyMatch(l -> l.startsWith("EXPOSE 8080"));
    assertThat(run).anyMatch(l -> l.startsWith("ENTRYPOINT ") && l.contains("/opt/preview/bin/preview"));
    assertThat(run).anyMatch(l -> l.startsWith("CMD ") && l.contains("\"serve\""));

    // every module of the build is copied into the build stage
    Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(root.resolve("pom.xml")));
    List<String> modules = new ArrayList<>();
    while (m.find()) {
      modules.add(m.group(1));
    }
    assertThat(modules).isNotEmpty();
    for (String module : modules) {
      assertThat(lines).as("the build stage copies " + module).contains("COPY " + module + " " + module);
    }
    assertThat(Files.isExecutable(root.resolve("preview-cli/src/main/dist/preview"))).isTrue();
  }

  /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
  private static List<String> logicalLines(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (cur.length() == 0 && (line.isEmpty() || line.startsWith("#"))) {
        continue;
      }
      if (line.endsWith("\\")) {
        cur.append(line, 0, line.length() - 1).append(' ');
      } else {
        cur.append(line);
        out.add(cur.toString().replaceAll("\\s+", " ").trim());
        cur.setLength(0);
      }
    }
    return out;
  }
}
