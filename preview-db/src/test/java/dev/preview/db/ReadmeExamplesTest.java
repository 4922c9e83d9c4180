package dev.preview.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.preview.db.postgres.PostgresBaseline;
import dev.preview.spi.DatabaseProvider;
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

/** Every preview.yaml example in the module README is accepted by its provider's factory, as written. */
class ReadmeExamplesTest {
  @Test
  @SuppressWarnings("unchecked")
  void everyYamlExampleIsAValidConfig() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<String> providers = new ArrayList<>();
    while (m.find()) {
      Map<String, Object> doc = yaml.readValue(m.group(1), Map.class);
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
  }
}
