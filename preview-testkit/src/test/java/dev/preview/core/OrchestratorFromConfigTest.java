package dev.preview.core;

import dev.preview.core.assembly.PreviewAssembly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.PullRequest;
import dev.preview.spi.PullRequestEvent;
import dev.preview.spi.ScmNotifier;
import dev.preview.testkit.FakeEnvironmentProvider;
import dev.preview.testkit.FakeScmNotifier;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OrchestratorFromConfigTest {
  final FakeEnvironmentProvider env = new FakeEnvironmentProvider();
  final FakeScmNotifier scm = new FakeScmNotifier();

  ProviderRegistry registry() {
    return ProviderRegistry.empty()
        .withEnvironment(new EnvironmentProvider.Factory() {
          @Override public String name() { return "fake"; }
          @Override public EnvironmentProvider create(dev.preview.spi.ProviderContext context) { dev.preview.spi.ProviderConfig config = context.config();
            config.validate();
            return env;
          }
        })
        .withNotifier(new ScmNotifier.Factory() {
          @Override public String name() { return "fake"; }
          @Override public ScmNotifier create(dev.preview.spi.ProviderContext context) { dev.preview.spi.ProviderConfig config = context.config();
            config.validate();
            return scm;
          }
        });
  }

  @Test
  void a_config_file_wires_providers_app_policy_and_flags() throws Exception {
    String yaml = """
        instance: ci
        app:
          image: registry.example/shop:latest
          port: 9090
          env: {MODE: "${MODE:-preview}"}
          hostname: pr-{number}.preview.example.com
          readiness: {timeout: 1s, interval: 10ms}
        environment: {provider: fake}
        scm: {provider: fake}
        policy: {repositories: [acme/shop], targets: [main], excludeLabels: [no-preview]}
        flags: {new-checkout: true}
        """;
    PreviewConfig config = PreviewConfig.parse(yaml, Map.<String, String>of()::get, "preview.yaml");
    try (PreviewOrchestrator o = PreviewAssembly.orchestrator(config, registry(), b -> b.healthCheck(url -> true))) {
      PreviewKey key = PreviewKey.pr("acme/shop", 5);
      PullRequest pr = PullRequest.open(key, "abcdef1234", "feature", "main");

      Preview p = o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, pr)).get(10, TimeUnit.SECONDS);

      assertThat(p.state()).isEqualTo(PreviewState.READY);
      assertThat(p.url()).hasToString("https://pr-5.preview.example.com/");
      assertThat(env.current(key).orElseThrow().port()).isEqualTo(9090);
      assertThat(env.current(key).orElseThrow().env())
          .containsEntry("MODE", "preview").containsEntry("FEATURE_NEW_CHECKOUT", "true");
      assertThat(env.current(key).orElseThrow().labels()).containsEntry("preview.dev/instance", "ci");
      assertThat(scm.latest(key).orElseThrow().state()).isEqualTo(PreviewState.READY);

      PullRequest toOther = PullRequest.open(PreviewKey.pr("acme/shop", 6), "abcdef1234", "feature", "release");
      assertThat(o.handle(PullRequestEvent.of(PullRequestEvent.Action.OPENED, toOther)).get(10, TimeUnit.SECONDS).state())
          .isEqualTo(PreviewState.DELETED);
    }
  }

  @Test
  void unknown_providers_and_bad_values_are_reported_together() {
    String yaml = """
        app: {port: 0}
        environment: {provider: nomad}
        dns: {provider: cloudflare}
        scm: {provider: fake, colour: blue}
        """;
    assertThatThrownBy(() -> PreviewAssembly.orchestrator(
            PreviewConfig.read(yaml, Map.<String, String>of()::get, "preview.yaml"), registry(), b -> {}))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> {
          assertThat(e.problems()).anySatisfy(m -> assertThat(m).startsWith("app.port"));
          assertThat(e.problems()).anySatisfy(m -> assertThat(m).contains("nomad").contains("fake"));
          assertThat(e.problems()).anySatisfy(m -> assertThat(m).contains("cloudflare").contains("preview-dns"));
          assertThat(e.problems()).anySatisfy(m -> assertThat(m).contains("scm.colour"));
        });
  }
}
