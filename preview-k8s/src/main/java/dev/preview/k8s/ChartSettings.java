package dev.preview.k8s;

import dev.preview.spi.ProviderConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code environment.chart}: the team's own Helm chart, rendered per preview with Helm
 * (helm-java) instead of the built-in Deployment/Service/Ingress template.
 *
 * <p>Values may use placeholders (single braces, so that {@code preview.yaml}'s {@code ${ENV}}
 * interpolation leaves them alone): the variables of {@code manifests} ({@link ExtraManifests#VARIABLES}),
 * plus {@code {sha}}, {@code {shortSha}}, {@code {hostname}}, {@code {imageRepository}},
 * {@code {imageTag}} and {@code {env.NAME}} (an env var of the app, e.g. the database's
 * {@code {env.DATABASE_URL}}).
 */
final class ChartSettings {
  /** Placeholders of chart values besides {@link ExtraManifests#VARIABLES}. */
  static final Set<String> EXTRA_VARIABLES = Set.of("sha", "shortSha", "hostname", "imageRepository", "imageTag");
  static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z][A-Za-z0-9]*|env\\.[A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern SET_PATH = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
  private static final Pattern RELEASE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?");

  /** A chart directory or a packaged {@code .tgz} on disk (relative to the working directory); or null with {@link #ref}. */
  String path;
  /** A chart reference Helm resolves itself: {@code oci://registry/repo/chart}, or {@code repo/chart} with {@link #repositoryConfig}. */
  String ref;
  String version;
  String repositoryConfig;
  /** Helm's release name ({@code .Release.Name}); the provider's {@code appName} unless set. */
  String release;
  List<String> valuesFiles = List.of();
  /** Inline values, YAML text. */
  String values;
  /** {@code --set}-like values: dotted path -> value. */
  Map<String, String> set = Map.of();
  /** Cluster-scoped kinds a chart may create (created when absent, never updated, adopted or pruned). */
  Set<String> allowClusterKinds = Set.of();

  static ChartSettings read(ProviderConfig c) {
    ChartSettings s = new ChartSettings();
    s.path = c.string("path").orElse(null);
    s.ref = c.string("ref").orElse(null);
    s.version = c.string("version").orElse(null);
    s.repositoryConfig = c.string("repositoryConfig").orElse(null);
    s.release = c.string("release").orElse(null);
    s.valuesFiles = c.strings("valuesFiles");
    s.values = c.string("values").orElse(null);
    s.set = c.stringMap("set");
    s.allowClusterKinds = Set.copyOf(c.strings("allowClusterKinds"));
    if ((s.path == null) == (s.ref == null)) {
      c.problem("path", "set exactly one of chart.path (a chart directory or .tgz) and chart.ref (oci://... or repo/chart)");
    }
    if (s.path != null && s.version != null) {
      c.problem("version", "is only used with chart.ref; a chart on disk has the version of its Chart.yaml");
    }
    if (s.repositoryConfig != null && s.ref == null) {
      c.problem("repositoryConfig", "is only used with chart.ref");
    }
    if (s.release != null && !RELEASE.matcher(s.release).matches()) {
      c.problem("release", "must be a Helm release name ([a-z0-9-], at most 53, alphanumeric at both ends), got \"" + s.release + "\"");
    }
    for (int i = 0; i < s.valuesFiles.size(); i++) {
      problems(s.valuesFiles.get(i)).forEach(p -> c.problem("valuesFiles", p));
    }
    if (s.values != null) {
      problems(s.values).forEach(p -> c.problem("values", p));
    }
    s.set.forEach((k, v) -> {
      if (!SET_PATH.matcher(k).matches()) {
        c.problem("set." + k, "must be a dotted values path such as image.tag");
      }
      problems(v).forEach(p -> c.problem("set." + k, p));
    });
    for (String kind : s.allowClusterKinds) {
      if (ChartObjects.NEVER_ALLOWED.contains(kind)) {
        c.problem("allowClusterKinds", kind + " can never be created by a preview's chart (it would reach beyond the"
            + " preview's namespace); create it once, outside preview");
      }
    }
    return s;
  }

  /** Unknown placeholders of a values text (a file name is checked when the file is read). */
  static List<String> problems(String text) {
    Set<String> unknown = new TreeSet<>();
    Matcher m = PLACEHOLDER.matcher(text);
    while (m.find()) {
      String name = m.group(1);
      if (!name.startsWith("env.") && !ExtraManifests.VARIABLES.contains(name) && !EXTRA_VARIABLES.contains(name)) {
        unknown.add(name);
      }
    }
    if (unknown.isEmpty()) {
      return List.of();
    }
    Set<String> known = new TreeSet<>(ExtraManifests.VARIABLES);
    known.addAll(EXTRA_VARIABLES);
    known.add("env.NAME");
    return List.of("unknown placeholder(s) " + unknown + "; known: " + known);
  }

  /**
   * Replaces the placeholders of {@code text}. An unknown name (only {@code env.*} can be one here,
   * the others were checked with the config) is collected in {@code missing} and left as it is.
   */
  static String render(String text, Map<String, String> vars, Set<String> missing) {
    Matcher m = PLACEHOLDER.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = vars.get(m.group(1));
      if (value == null) {
        missing.add(m.group(1));
        value = m.group();
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * The {@code set} entries as a nested values map. A value without placeholders is typed as
   * Helm's {@code --set} types it ({@code true}/{@code false}, integers); one with placeholders
   * stays a string (a short SHA of digits must not become a number), like {@code --set-string}.
   */
  Map<String, Object> setValues(Map<String, String> vars, Set<String> missing) {
    Map<String, Object> root = new LinkedHashMap<>();
    set.forEach((path, raw) -> {
      Object value = PLACEHOLDER.matcher(raw).find() ? render(raw, vars, missing) : typed(raw);
      String[] parts = path.split("\\.");
      Map<String, Object> at = root;
      for (int i = 0; i < parts.length - 1; i++) {
        Object next = at.get(parts[i]);
        if (!(next instanceof Map)) {
          next = new LinkedHashMap<String, Object>();
          at.put(parts[i], next);
        }
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) next;
        at = m;
      }
      at.put(parts[parts.length - 1], value);
    });
    return root;
  }

  private static Object typed(String raw) {
    if (raw.equals("true") || raw.equals("false")) {
      return Boolean.valueOf(raw);
    }
    if (raw.matches("-?(0|[1-9][0-9]{0,17})")) {
      return Long.valueOf(raw);
    }
    return raw;
  }
}
