package dev.preview.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * User manifests from config ({@code manifests:}): YAML text with {@code {variable}} placeholders
 * (single braces, like the app's hostname template, so that {@code preview.yaml}'s own
 * {@code ${ENV_VAR}} interpolation leaves them alone), rendered per preview and applied into its
 * namespace. Values are substituted as plain text before the YAML is parsed, so templates quote
 * them ({@code image: "{image}"}): a bare {@code {image}} at the start of a value is a YAML map.
 */
final class ExtraManifests {
  /** The variables a template may use. */
  static final Set<String> VARIABLES = Set.of(
      "namespace", "key", "repository", "owner", "repo", "number", "branch", "revision",
      "host", "url", "image", "app");
  private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z][A-Za-z0-9]*)}");
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private ExtraManifests() {}

  /** Problems of a host or manifest template's variables (unknown names), for config validation. */
  static List<String> checkVariables(String template) {
    List<String> problems = new ArrayList<>();
    Matcher m = VARIABLE.matcher(template);
    Set<String> unknown = new TreeSet<>();
    while (m.find()) {
      if (!VARIABLES.contains(m.group(1))) {
        unknown.add(m.group(1));
      }
    }
    if (!unknown.isEmpty()) {
      problems.add("unknown variable(s) " + unknown + "; known: " + new TreeSet<>(VARIABLES));
    }
    return problems;
  }

  /** Problems of a manifest template: unknown variables, YAML that does not parse, cluster-scoped or named-namespace objects. */
  static List<String> check(String template) {
    List<String> problems = checkVariables(template);
    if (!problems.isEmpty()) {
      return problems;
    }
    Map<String, String> sample = new java.util.HashMap<>();
    VARIABLES.forEach(v -> sample.put(v, "x"));
    sample.put("number", "1");
    try {
      List<HasMetadata> items = parse(render(template, sample));
      if (items.isEmpty()) {
        problems.add("holds no Kubernetes object");
      }
      for (HasMetadata item : items) {
        if (item.getMetadata() == null || item.getMetadata().getName() == null) {
          problems.add(item.getKind() + " has no metadata.name");
        } else if (!(item instanceof Namespaced) && !(item instanceof GenericKubernetesResource)) {
          problems.add(item.getKind() + " " + item.getMetadata().getName()
              + " is cluster-scoped: it would outlive the preview's namespace; create it once, outside preview");
        } else if (item.getMetadata().getNamespace() != null) {
          problems.add(item.getKind() + " " + item.getMetadata().getName()
              + " sets metadata.namespace; remove it, objects go into the preview's namespace");
        }
      }
    } catch (RuntimeException e) {
      problems.add("is not valid Kubernetes YAML: " + firstLine(e.getMessage()));
    }
    return problems;
  }

  static String render(String template, Map<String, String> variables) {
    Matcher m = VARIABLE.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = variables.getOrDefault(m.group(1), "");
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  static List<HasMetadata> parse(String yaml) {
    Object parsed = SERIALIZATION.unmarshal(yaml);
    List<HasMetadata> out = new ArrayList<>();
    collect(parsed, out);
    return out;
  }

  private static void collect(Object parsed, List<HasMetadata> out) {
    if (parsed == null) {
      return;
    }
    if (parsed instanceof KubernetesResourceList<?> list) {
      list.getItems().forEach(i -> collect(i, out));
    } else if (parsed instanceof List<?> list) {
      list.forEach(i -> collect(i, out));
    } else if (parsed instanceof HasMetadata h) {
      out.add(h);
    } else {
      throw new IllegalArgumentException("not a Kubernetes object: " + parsed.getClass().getSimpleName());
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
