package dev.preview.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.db.postgres.PostgresBaseline;
import dev.preview.db.sqlite.SqliteDatabaseProvider;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DatabaseSpec;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every preview.yaml example in the module README is accepted by its provider's factory, as written. */
class ReadmeExamplesTest {
  @Test
  @SuppressWarnings("unchecked")
  void everyYamlExampleIsAValidConfig() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("(<!-- fragment -->\\n)?```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<String> providers = new ArrayList<>();
    int whole = 0;
    while (m.find()) {
      if (m.group(1) == null) {
        // a whole preview.yaml: loads, and its providers build, as written
        PreviewConfig config = PreviewConfig.parse(m.group(2), name -> null, "README.md");
        try (ConfiguredProviders built = config.createProviders(ProviderRegistry.defaultRegistry())) {
          assertThat(built.database()).isPresent();
        }
        whole++;
        continue;
      }
      Map<String, Object> doc = yaml.readValue(m.group(2), Map.class);
      Map<String, Object> section = (Map<String, Object>) doc.get("database");
      String name = (String) section.get("provider");
      DatabaseProvider.Factory f = ServiceLoader.load(DatabaseProvider.Factory.class).stream()
          .map(ServiceLoader.Provider::get).filter(x -> x.name().equals(name)).findFirst().orElseThrow();
      DatabaseProvider p = f.create(ProviderContext.of(ProviderConfig.of("database", section))); // throws on any bad or unknown key
      assertThat(p.name()).isEqualTo(name);
      if (name.equals("postgres") && section.containsKey("build")) {
        assertThat(PostgresBaseline.fromConfig(ProviderConfig.of("database", section))).isNotNull();
      }
      providers.add(name);
    }
    assertThat(providers).contains("sqlite", "postgres", "mysql", "redis");
    assertThat(whole).isPositive();
  }

  @Test
  void theInstanceOfAWholePreviewYamlReachesTheDatabaseProvider(@TempDir Path tmp) {
    PreviewConfig config = PreviewConfig.parse("""
        instance: staging
        app: {image: "ghcr.io/acme/shop:latest", port: 8080}
        database: {provider: sqlite, directory: "%s"}
        """.formatted(tmp.toString().replace("\\", "/")), name -> null, "preview.yaml");
    try (ConfiguredProviders built = config.createProviders(ProviderRegistry.defaultRegistry())) {
      DatabaseProvider db = built.database().orElseThrow();
      PreviewKey key = PreviewKey.pr("acme/shop", 7);
      assertThat(db.create(key, DatabaseSpec.empty()).name()).startsWith("staging-shop-pr-7-");
      assertThat(db.list()).containsExactly(key);
      assertThat(SqliteDatabaseProvider.builder().directory(tmp).build().list()).as("the default installation's view").isEmpty();
    }
  }
}
