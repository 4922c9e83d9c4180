package dev.preview.cli.arch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.spi.ConfigurationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Docs that cannot drift: every {@code yaml} block of the root README, {@code docs/} and the module
 * READMEs is a {@code preview.yaml} that must load, providers and all (every key read, every value
 * valid), unless the line before its fence says {@code <!-- fragment -->}. {@code ${VAR}} values
 * resolve to a placeholder (see {@link #placeholder}), so examples may reference secrets from the environment.
 */
class DocumentedConfigsLoadTest {
  private static final Pattern BLOCK = Pattern.compile("(?m)^([^\\n]*)\\R```ya?ml[ \\t]*\\R(.*?)^```[ \\t]*$", Pattern.DOTALL);
  private static final String FRAGMENT = "<!-- fragment -->";

  /** A documented block: where it is, and its text. */
  record Block(Path file, int line, String yaml, boolean fragment) {
    String where() {
      return file + ":" + line;
    }
  }

  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve(".ci/run"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("the repository root (with .ci/run) is not above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  static List<Path> documents() throws IOException {
    Path root = root();
    List<Path> docs = new ArrayList<>();
    docs.add(root.resolve("README.md"));
    try (Stream<Path> s = Files.list(root)) {
      s.filter(d -> Files.isRegularFile(d.resolve("README.md")) && Files.exists(d.resolve("pom.xml")))
          .map(d -> d.resolve("README.md")).sorted().forEach(docs::add);
    }
    try (Stream<Path> s = Files.walk(root.resolve("docs"))) {
      s.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    return docs;
  }

  static List<Block> blocks(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Block> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      int line = (int) text.substring(0, m.start(2)).lines().count() + 1;
      out.add(new Block(root().relativize(file), line, m.group(2), m.group(1).trim().equals(FRAGMENT)));
    }
    return out;
  }

  /**
   * A value for {@code ${name}}: a URL for names that end in {@code _API} or {@code _URL}, else a
   * token-like text that is also valid base64 (TSIG secrets are).
   */
  static String placeholder(String name) {
    return name.endsWith("_API") || name.endsWith("_URL") ? "https://placeholder.example.com" : "cGxhY2Vob2xkZXI=";
  }

  @TestFactory
  Stream<DynamicTest> every_documented_preview_yaml_loads() throws IOException {
    ProviderRegistry registry = ProviderRegistry.defaultRegistry();
    return documents().stream().flatMap(f -> blocks(f).stream()).filter(b -> !b.fragment())
        .map(b -> DynamicTest.dynamicTest(b.where(), () -> {
          PreviewConfig config = PreviewConfig.read(b.yaml(), DocumentedConfigsLoadTest::placeholder, b.where());
          try (ConfiguredProviders providers = config.createProviders(registry)) {
            assertThat(providers.environment()).isNotNull();
          } catch (ConfigurationException e) {
            throw new AssertionError(b.where() + " does not load (mark it <!-- fragment --> if it is not a whole"
                + " preview.yaml):\n" + e.getMessage(), e);
          }
        }));
  }

  @Test
  void the_docs_hold_whole_preview_yamls_and_a_broken_one_is_caught() throws IOException {
    long whole = documents().stream().flatMap(f -> blocks(f).stream()).filter(b -> !b.fragment()).count();
    assertThat(whole).as("documented preview.yaml examples").isGreaterThanOrEqualTo(5);

    PreviewConfig broken = PreviewConfig.read("app: {image: x}\nenvironment: {provider: local, stateDri: x}\n",
        name -> "v", "broken.yaml");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> broken.createProviders(ProviderRegistry.defaultRegistry()).close())
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("environment.stateDri: unknown key");
  }
}
