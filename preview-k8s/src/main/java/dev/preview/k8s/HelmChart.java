package dev.preview.k8s;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import dev.preview.spi.ProviderException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Renders the team's chart with Helm itself ({@code helm template}, through helm-java's bundled Go
 * library): values files and inline values get the preview's placeholders first, then Helm renders
 * the chart for release {@code release} in the preview's namespace, and the multi-document YAML is
 * parsed into Fabric8 objects. No API call is made here.
 *
 * <p>Values files with placeholders are rendered into a temporary directory (same line numbers);
 * Helm's messages name the original file again. Renders are serialised: Helm's Go library keeps
 * process-wide settings.
 */
final class HelmChart {
  private static final Object HELM = new Object();

  private final ChartSettings settings;
  /** The client's, asked for at the first render (the client is built on first use). */
  private final java.util.function.Supplier<KubernetesSerialization> serialization;

  HelmChart(ChartSettings settings, java.util.function.Supplier<KubernetesSerialization> serialization) {
    this.settings = settings;
    this.serialization = serialization;
  }

  /** What one render gave: the objects, in the chart's order, and the YAML Helm printed. */
  record Rendered(List<HasMetadata> objects, String yaml) {}

  /**
   * Renders the chart for one preview.
   *
   * @throws ProviderException (not retryable) with Helm's own message when the chart does not render,
   *     a values file is missing or unreadable, or a value uses an {@code {env.NAME}} the app lacks
   */
  Rendered render(String release, String namespace, Map<String, String> vars) {
    Path tmp;
    try {
      tmp = Files.createTempDirectory("preview-chart-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> originals = new LinkedHashMap<>();
    try {
      TreeSet<String> missing = new TreeSet<>();
      List<Path> files = new ArrayList<>();
      for (int i = 0; i < settings.valuesFiles.size(); i++) {
        String name = settings.valuesFiles.get(i);
        Path file = Path.of(name);
        if (!Files.isReadable(file)) {
          throw new ProviderException(KubernetesEnvironmentProvider.NAME, "environment.chart.valuesFiles: cannot read "
              + name + " (" + file.toAbsolutePath() + "); relative paths are resolved against the working directory", false);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        ChartSettings.problems(text).forEach(p -> {
          throw new ProviderException(KubernetesEnvironmentProvider.NAME, "environment.chart.valuesFiles: " + name + ": " + p, false);
        });
        String rendered = ChartSettings.render(text, vars, missing);
        if (rendered.equals(text)) {
          files.add(file);
        } else {
          Path copy = tmp.resolve(i + "-" + file.getFileName());
          Files.writeString(copy, rendered, StandardCharsets.UTF_8);
          originals.put(copy.toString(), name);
          files.add(copy);
        }
      }
      if (settings.values != null) {
        Path inline = tmp.resolve("values.yaml");
        Files.writeString(inline, ChartSettings.render(settings.values, vars, missing), StandardCharsets.UTF_8);
        originals.put(inline.toString(), "environment.chart.values");
        files.add(inline);
      }
      if (!settings.set.isEmpty()) {
        Path set = tmp.resolve("set.yaml");
        Files.writeString(set, serialization.get().asYaml(settings.setValues(vars, missing)), StandardCharsets.UTF_8);
        originals.put(set.toString(), "environment.chart.set");
        files.add(set);
      }
      if (!missing.isEmpty()) {
        throw new ProviderException(KubernetesEnvironmentProvider.NAME, "the chart's values use " + missing
            + " but the app has no such env var (known: " + new TreeSet<>(vars.keySet().stream()
            .filter(k -> k.startsWith("env.")).toList()) + "); set it in app.env or remove the placeholder", false);
      }
      String yaml = template(release, namespace, files);
      return new Rendered(parse(yaml), yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (IllegalStateException e) {
      // helm-java reports Go errors as IllegalStateException with Helm's own message.
      String msg = String.valueOf(e.getMessage()).strip();
      for (Map.Entry<String, String> o : originals.entrySet()) {
        msg = msg.replace(o.getKey(), o.getValue());
      }
      msg = msg.replace(tmp.toString() + "/", "");
      throw new ProviderException(KubernetesEnvironmentProvider.NAME, "the chart " + chartName()
          + " does not render: " + msg, false);
    } finally {
      delete(tmp);
    }
  }

  private String template(String release, String namespace, List<Path> valuesFiles) {
    synchronized (HELM) {
      TemplateCommand t;
      if (settings.path != null) {
        Path chart = Path.of(settings.path);
        if (!Files.isDirectory(chart) && !(Files.isRegularFile(chart) && settings.path.endsWith(".tgz"))) {
          throw new ProviderException(KubernetesEnvironmentProvider.NAME, "environment.chart.path: " + settings.path + " ("
              + chart.toAbsolutePath() + ") is neither a chart directory nor a packaged .tgz chart; relative paths are"
              + " resolved against the working directory", false);
        }
        t = new Helm(chart).template();
      } else {
        t = Helm.template(settings.ref);
        if (loopbackOci(settings.ref)) {
          t = t.plainHttp(); // a registry on this host (a test's, a developer's): plain HTTP, as Docker allows it
        }
        if (settings.version != null) {
          t = t.withVersion(settings.version);
        }
        if (settings.repositoryConfig != null) {
          t = t.withRepositoryConfig(Path.of(settings.repositoryConfig));
        }
      }
      t = t.withName(release).withNamespace(namespace);
      for (Path f : valuesFiles) {
        t = t.withValuesFile(f);
      }
      return t.call();
    }
  }

  /** Whether {@code ref} is {@code oci://} on a loopback registry (the rule of {@link dev.preview.spi.RegistryManifests#loopback}). */
  static boolean loopbackOci(String ref) {
    return ref.startsWith("oci://")
        && dev.preview.spi.RegistryManifests.loopback(ref.substring("oci://".length()).split("/", 2)[0]);
  }

  String chartName() {
    return settings.path != null ? settings.path : settings.ref + (settings.version == null ? "" : " " + settings.version);
  }

  /** The objects of a multi-document YAML, empty documents skipped; a List kind is flattened. */
  List<HasMetadata> parse(String yaml) {
    List<HasMetadata> out = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
        continue;
      }
      out.addAll(ExtraManifests.parse(doc));
    }
    return out;
  }

  private static void delete(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp dir left behind is harmless
    }
  }
}
