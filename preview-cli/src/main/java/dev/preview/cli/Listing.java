package dev.preview.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.spi.Environment;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.server.ui.PreviewJson;
import dev.preview.server.ui.PreviewRow;
import dev.preview.spi.PreviewState;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code preview list}: what the environment provider observes. The providers are built (every problem
 * of the file is reported at once) but no orchestrator (its readiness gate's HTTP client alone takes
 * a third of a second to start), so that it answers fast.
 */
final class Listing {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One preview as observed; the states are those of the orchestrator's {@code list()}. */
  record Row(String key, String repository, Integer number, PreviewState state, String revision, URI url,
      Instant expires, Instant lastActivity, PreviewRow view) {}

  private Listing() {}

  static List<Row> rows(PreviewConfig config) {
    List<Row> rows = new ArrayList<>();
    // every provider is built, so that every problem of the file is reported at once; only the
    // environment provider is asked
    try (ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry())) {
      EnvironmentProvider env = providers.environment();
      for (Environment e : env.list().stream().sorted((a, b) -> a.key().compareTo(b.key())).toList()) {
        PreviewState state = switch (e.phase()) {
          case RUNNING -> PreviewState.READY;
          case STARTING -> PreviewState.PROVISIONING;
          case SUSPENDED -> PreviewState.SLEEPING;
          case FAILED -> PreviewState.FAILED;
        };
        URI publicUrl = config.app().publicUrl(e.key());
        rows.add(new Row(e.key().toString(), e.key().repository(),
            e.key().isPullRequest() ? e.key().number() : null, state, e.revision(),
            publicUrl != null ? publicUrl : e.url(), e.expires().orElse(null), e.lastActivity().orElse(null),
            PreviewRow.observed(e, publicUrl)));
      }
    }
    return rows;
  }

  /** The JSON of {@code GET /api/previews} (one serializer: {@link PreviewJson}). */
  static String json(List<Row> rows) {
    return PreviewJson.pretty(rows.stream().map(Row::view).toList());
  }

}
