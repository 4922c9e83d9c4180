package dev.preview.core.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.core.AppTemplate;
import dev.preview.core.policy.ForkMode;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.core.registry.Fixtures;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Resources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreviewConfigTest {
  private static final Function<String, String> NO_ENV = name -> null;

  /** The example of docs/preview-yaml.md, with every key. */
  static final String FULL = """
      instance: shop-previews
      repository: acme/shop
      app:
        image: ghcr.io/acme/shop:${REV:-latest}
        port: 8081
        healthPath: /actuator/health
        env: {SPRING_PROFILES_ACTIVE: preview, GREETING: "hello $${USER}"}
        secrets: {STRIPE_KEY: "${STRIPE_TEST_KEY}"}
        resources: {cpu: 500m, memory: 512Mi, pids: 256}
        hostname: pr-{number}.preview.example.com
        urlScheme: https
        links: {docs: /docs}
        readiness: {timeout: 3m, interval: 2s}
      environment:
        provider: test-env
        port: 2375
        token: ${DOCKER_TOKEN:-}
      database: {provider: test-db, baseline: ./baseline.db}
      dns: {provider: test-dns, zone: preview.example.com}
      scm:
        provider: test-scm
        token: ${GITHUB_TOKEN}
      policy:
        repositories: [acme/shop]
        branches: ["**"]
        targets: [main, "release/*"]
        requireLabels: []
        excludeLabels: [no-preview]
        drafts: false
        forks: require-label
        forkLabel: preview:fork-ok
        forkSecrets: false
        maxConcurrent: 10
        ttl: 72h
        idleTimeout: 48h
        maxAge: 14d
        sleepAfter: 2h
        pinLabel: preview:pin
      flags: {new-checkout: true, dark-mode: false}
      reconcile: {interval: 10m}
      """;

  static ProviderRegistry registry() {
    return ProviderRegistry.empty()
        .withEnvironment(new Fixtures.TestEnv())
        .withEnvironment(new Fixtures.TestEnv("local"))
        .withDatabase(new Fixtures.TestDb())
        .withDns(new Fixtures.TestDns())
        .withNotifier(new Fixtures.TestScm())
        .withPullRequests(new Fixtures.TestPrs());
  }

  static Function<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m::get;
  }

  @Test
  void theFullExampleBindsEveryKey() {
    PreviewConfig c = PreviewConfig.parse(FULL, env("GITHUB_TOKEN", "ghp_x", "STRIPE_TEST_KEY", "sk_test_1"), "preview.yaml");

    assertThat(c.instance()).isEqualTo("shop-previews");
    assertThat(c.repository()).contains("acme/shop");
    AppTemplate app = c.app();
    assertThat(app.image()).isEqualTo("ghcr.io/acme/shop:latest");
    assertThat(app.port()).isEqualTo(8081);
    assertThat(app.healthPath()).isEqualTo("/actuator/health");
    assertThat(app.env()).containsExactly(Map.entry("SPRING_PROFILES_ACTIVE", "preview"), Map.entry("GREETING", "hello ${USER}"));
    assertThat(app.secrets().get("STRIPE_KEY").reveal()).isEqualTo("sk_test_1");
    assertThat(app.resources()).isEqualTo(new Resources(500, 512L << 20, 256));
    assertThat(app.hostname(PreviewKey.pr("acme/shop", 7))).isEqualTo("pr-7.preview.example.com");
    assertThat(app.urlScheme()).isEqualTo("https");
    assertThat(app.links()).containsExactly(Map.entry("docs", "/docs"));
    assertThat(app.readinessTimeout()).isEqualTo(Duration.ofMinutes(3));
    assertThat(app.readinessInterval()).isEqualTo(Duration.ofSeconds(2));

    PreviewPolicy p = c.policy();
    assertThat(p.forkMode()).isEqualTo(ForkMode.REQUIRE_LABEL);
    assertThat(p.maxConcurrent()).isEqualTo(10);
    assertThat(p.ttl()).isEqualTo(Duration.ofHours(72));
    assertThat(p.idleTimeout()).isEqualTo(Duration.ofHours(48));
    assertThat(p.maxAge()).isEqualTo(Duration.ofDays(14));
    assertThat(p.sleepAfter()).isEqualTo(Duration.ofHours(2));
    assertThat(p.pinLabel()).isEqualTo("preview:pin");
    assertThat(p.configuredFlags()).containsOnly(Map.entry("new-checkout", true), Map.entry("dark-mode", false));
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofMinutes(10));

    assertThat(c.environment().provider()).isEqualTo("test-env");
    assertThat(c.database().orElseThrow().provider()).isEqualTo("test-db");
    assertThat(c.dns().orElseThrow().provider()).isEqualTo("test-dns");
    assertThat(c.scm().provider()).isEqualTo("test-scm");
    assertThat(c.pullRequests()).isEmpty();
    ProviderConfig scm = c.scm().config();
    assertThat(scm.secret("token").orElseThrow().reveal()).isEqualTo("ghp_x");
    scm.validate();
  }

  @Test
  void theFullExampleBuildsEveryProvider() {
    PreviewConfig c = PreviewConfig.parse(FULL, env("GITHUB_TOKEN", "ghp_x", "STRIPE_TEST_KEY", "sk"), "preview.yaml");

    try (ConfiguredProviders p = c.createProviders(registry())) {
      assertThat(((Fixtures.Env) p.environment()).port).isEqualTo(2375);
      assertThat(((Fixtures.Env) p.environment()).token.reveal()).isEmpty();
      assertThat(p.database()).isPresent();
      assertThat(p.dns()).isPresent();
      assertThat(((Fixtures.Notifier) p.notifier()).token.reveal()).isEqualTo("ghp_x");
      // No pullRequests section: the source named like the scm provider reads the scm section.
      assertThat(((Fixtures.Prs) p.pullRequests().orElseThrow()).token.reveal()).isEqualTo("ghp_x");
    }
  }

  @Test
  void aMinimalFileGetsTheDefaults() {
    PreviewConfig c = PreviewConfig.parse("app: {command: java -jar app.jar}", NO_ENV, "preview.yaml");

    assertThat(c.app().command()).containsExactly("java", "-jar", "app.jar");
    assertThat(c.app().port()).isEqualTo(8080);
    assertThat(c.instance()).isEqualTo("default");
    assertThat(c.repository()).isEmpty();
    assertThat(c.environment().provider()).isEqualTo("local");
    assertThat(c.scm().provider()).isEqualTo("console");
    assertThat(c.database()).isEmpty();
    assertThat(c.dns()).isEmpty();
    assertThat(c.pullRequests()).isEmpty();
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.policy().ttl()).isNull();
    assertThat(c.section(ProviderKind.ENVIRONMENT)).isPresent();
  }

  @Test
  void fiveMistakesInFiveSectionsAreReportedTogetherWithTheirPaths() {
    String yaml = """
        app:
          image: ghcr.io/acme/shop
          port: 70000
        environment:
          provider: test-env
          greting: hi
        scm:
          provider: test-scm
          token: ${GITHUB_TOKEN}
        policy:
          ttl: 3 days
          forks: allow
        """;

    PreviewConfig lenient = PreviewConfig.read(yaml, NO_ENV, "preview.yaml");
    assertThatThrownBy(() -> lenient.createProviders(registry()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "app.port: must be 1-65535, got 70000",
            "environment.greting: unknown key (known here: greeting, port, provider, token)",
            "scm.token: environment variable GITHUB_TOKEN is not set (set it, or give a default: ${GITHUB_TOKEN:-value})",
            "policy.ttl: must be a duration like 30s, 5m, 48h or 7d, got \"3 days\"",
            "policy.forks: must be one of deny, no-secrets, require-label, got \"allow\""))
        .hasMessageStartingWith("Invalid configuration (5 problems):");

    // parse() alone reports the four it can see without the providers, at once.
    assertThatThrownBy(() -> PreviewConfig.parse(yaml, NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).hasSize(4)
            .anyMatch(p -> p.startsWith("app.port:"))
            .anyMatch(p -> p.startsWith("scm.token:"))
            .anyMatch(p -> p.startsWith("policy.ttl:"))
            .anyMatch(p -> p.startsWith("policy.forks:")));
  }

  @Test
  void problemsOfSeveralProvidersComeInOneExceptionAndWhatWasBuiltIsClosed() {
    String yaml = """
        app: {image: x}
        environment: {provider: test-env, port: 0}
        database: {provider: test-db}
        dns: {provider: route53, zone: z}
        scm: {provider: test-scm, token: t, comments: false}
        """;
    PreviewConfig c = PreviewConfig.parse(yaml, NO_ENV, "preview.yaml");

    assertThatThrownBy(() -> c.createProviders(registry()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> {
          assertThat(e.problems()).hasSize(4);
          assertThat(e.problems().get(0)).isEqualTo("environment.port: must be 1-65535, got 0");
          assertThat(e.problems().get(1)).isEqualTo("database.baseline: is required");
          assertThat(e.problems().get(2)).startsWith("dns.provider: dns provider \"route53\" not found")
              .contains("dev.preview:preview-dns");
          assertThat(e.problems().get(3)).startsWith("scm.comments: unknown key");
        });
  }

  @Test
  void providersAlreadyBuiltAreClosedWhenALaterOneFails() {
    Fixtures.Env[] built = new Fixtures.Env[1];
    ProviderRegistry r = registry().withEnvironment(new Fixtures.TestEnv("spy") {
      @Override
      public dev.preview.spi.EnvironmentProvider create(dev.preview.spi.ProviderContext config) {
        built[0] = (Fixtures.Env) super.create(config);
        return built[0];
      }
    });
    PreviewConfig c = PreviewConfig.parse("app: {image: x}\nenvironment: spy\nscm: {provider: test-scm}", NO_ENV, "p.yaml");

    assertThatThrownBy(() -> c.createProviders(r)).hasMessageContaining("scm.token: is required");
    assertThat(built[0].closed).isTrue();
  }

  @Test
  void theScmSectionReusedByThePullRequestSourceReportsItsUnknownKeysOnce() {
    String yaml = """
        app: {image: x}
        environment: test-env
        scm: {provider: test-scm, token: t, comment: false, colour: red}
        """;
    PreviewConfig c = PreviewConfig.parse(yaml, NO_ENV, "preview.yaml");

    assertThatThrownBy(() -> c.createProviders(registry()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
            .containsExactly("scm.colour: unknown key (known here: apiUrl, comment, provider, token)"));
  }

  @Test
  void withoutAPullRequestSourceOfTheScmNameThereIsNone() {
    PreviewConfig c = PreviewConfig.parse("app: {image: x}\nenvironment: test-env\nscm: {provider: test-scm, token: t}",
        NO_ENV, "preview.yaml");
    ProviderRegistry noPrs = ProviderRegistry.empty().withEnvironment(new Fixtures.TestEnv()).withNotifier(new Fixtures.TestScm());

    try (ConfiguredProviders p = c.createProviders(noPrs)) {
      assertThat(p.pullRequests()).isEmpty();
    }
    assertThat(c.pullRequestsSection(registry())).isPresent();
  }

  @Test
  void anExplicitPullRequestsSectionIsUsedAsWritten() {
    String yaml = """
        app: {image: x}
        environment: test-env
        scm: {provider: test-scm, token: a}
        pullRequests: {provider: test-scm, token: b, apiUrl: "https://ghe.example/api/v3"}
        """;
    try (ConfiguredProviders p = PreviewConfig.parse(yaml, NO_ENV, "p.yaml").createProviders(registry())) {
      Fixtures.Prs prs = (Fixtures.Prs) p.pullRequests().orElseThrow();
      assertThat(prs.token.reveal()).isEqualTo("b");
      assertThat(prs.apiUrl).isEqualTo("https://ghe.example/api/v3");
    }
  }

  @Test
  void loadResolvesABuildContextAgainstTheFilesDirectory(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("preview.yaml");
    Files.writeString(file, "app:\n  buildContext: ./app\n");

    assertThat(PreviewConfig.load(file).app().buildContext()).isEqualTo(dir.toAbsolutePath().resolve("app"));
    assertThatThrownBy(() -> PreviewConfig.load(dir.resolve("missing.yaml")))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("missing.yaml: file not found");
  }

  @Test
  void yamlSyntaxErrorsGiveLineAndColumn() {
    String yaml = "app:\n  image: x\n  port: [8080\nenvironment: local\n";

    assertThatThrownBy(() -> PreviewConfig.parse(yaml, NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).singleElement()
            .asString().matches("preview\\.yaml line \\d+, column \\d+: invalid YAML: .+"));
  }

  @Test
  void aDuplicateKeyIsAProblem() {
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x}\napp: {image: y}\n", NO_ENV, "preview.yaml"))
        .hasMessageContaining("line 2").hasMessageContaining("app");
  }

  @Test
  void unknownTopLevelKeysListTheKnownOnes() {
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x}\npolicies: {}\n", NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "policies: unknown key (known here: instance, repository, app, environment, database, dns, scm,"
                + " pullRequests, policy, flags, reconcile, build, gateway, dashboard, parallelism)"));
  }

  @Test
  void aFileWithoutAppSaysWhatToSet() {
    assertThatThrownBy(() -> PreviewConfig.parse("", NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).singleElement()
            .asString().startsWith("app: is required"));
    assertThatThrownBy(() -> PreviewConfig.parse("app: {port: 80}", NO_ENV, "preview.yaml"))
        .hasMessageContaining("app: set one of app.image, app.buildContext or app.command");
    assertThatThrownBy(() -> PreviewConfig.parse("- a\n- b\n", NO_ENV, "preview.yaml"))
        .hasMessageContaining("preview.yaml: must be a map of sections");
  }

  @Test
  void theTemplatesAndPolicysOwnRulesBecomeProblemsWithPaths() {
    String yaml = """
        app:
          image: x
          healthPath: health
          hostname: "{pr}.example.com"
          links: {docs: docs}
          readiness: {interval: 0s}
          resources: {cpu: lots}
          env: {"BAD-NAME": x}
          secrets: {BAD-NAME: x, DUP: y}
        policy:
          idleTimeout: 1h
          sleepAfter: 2h
          maxConcurrent: -1
          pinLabel: ""
        flags: {"bad flag": true, ok: maybe}
        reconcile: {interval: 0}
        instance: "not ok!"
        repository: "no-slash"
        """.replace("DUP: y}", "DUP: y}\n  env2: {}").replace("  env2: {}\n", "");
    assertThatThrownBy(() -> PreviewConfig.parse(yaml, NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
            .anyMatch(p -> p.startsWith("app.healthPath: healthPath must start with '/'"))
            .anyMatch(p -> p.startsWith("app.hostname: hostname template: unknown placeholder {pr}"))
            .anyMatch(p -> p.startsWith("app.links.docs: link docs must be a path starting with '/'"))
            .anyMatch(p -> p.startsWith("app.readiness.interval: must be positive"))
            .anyMatch(p -> p.startsWith("app.resources.cpu: CPU must look like 500m"))
            .anyMatch(p -> p.startsWith("app.env.BAD-NAME: is not a valid environment variable name"))
            .anyMatch(p -> p.startsWith("app.secrets.BAD-NAME: is not a valid environment variable name"))
            .anyMatch(p -> p.startsWith("policy.sleepAfter: must be shorter than policy.idleTimeout"))
            .anyMatch(p -> p.startsWith("policy.maxConcurrent: must be 0-100000, got -1"))
            .anyMatch(p -> p.startsWith("flags.bad flag: is not a valid flag name"))
            .anyMatch(p -> p.startsWith("flags.ok: must be true or false, got \"maybe\""))
            .anyMatch(p -> p.startsWith("reconcile.interval: must be positive"))
            .anyMatch(p -> p.startsWith("instance: must be 1-63 letters"))
            .anyMatch(p -> p.startsWith("repository: repository must look like owner/name"))
            .hasSize(14));
  }

  @Test
  void anImageTemplateWithAnUnknownPlaceholderOrNoValidReferenceIsAProblemWithItsPath() {
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: 'ghcr.io/acme/shop:{commit}', port: 0}", NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "app.image: unknown placeholder {commit} (known: sha, shortSha, number, branch, repo, owner)",
            "app.port: must be 1-65535, got 0"));
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: 'ghcr.io/Acme/shop:{sha}'}", NO_ENV, "preview.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).singleElement().asString()
            .startsWith("app.image: gives \"ghcr.io/Acme/shop:").contains("not a valid image reference"));
    assertThat(PreviewConfig.parse("app: {image: 'ghcr.io/acme/shop:pr-{number}-{shortSha}'}", NO_ENV, "preview.yaml")
        .app().image(dev.preview.spi.PreviewKey.pr("acme/shop", 7), "6dcb09b5b57875f334f61aebed695e2e4193db5e", "main"))
        .isEqualTo("ghcr.io/acme/shop:pr-7-6dcb09b");
    // ${REV} stays generic load-time interpolation
    assertThat(PreviewConfig.parse("app: {image: 'ghcr.io/acme/shop:${REV}'}", n -> n.equals("REV") ? "abc123" : null,
        "preview.yaml").app().image()).isEqualTo("ghcr.io/acme/shop:abc123");
  }

  @Test
  void durationsTooLongForAnInstantAreProblems() {
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x}\npolicy: {ttl: 100000000d, maxAge: 9223372036854775807d}",
        NO_ENV, "p.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "policy.ttl: must be at most 3650d (or off, to switch the rule off)",
            "policy.maxAge: is too long a duration, got \"9223372036854775807d\""));
  }

  @Test
  void valuesReachTheAppAsWrittenNotAsYamlWouldTypeThem() {
    PreviewConfig c = PreviewConfig.parse(
        "app: {image: x, port: 08080, env: {VERSION: 1.10, MODE: 0755, FLAG: on, BIG: 12345678901234567890, NONE: ~}}",
        NO_ENV, "p.yaml");

    assertThat(c.app().port()).isEqualTo(8080);
    assertThat(c.app().env()).containsEntry("VERSION", "1.10").containsEntry("MODE", "0755").containsEntry("FLAG", "on")
        .containsEntry("BIG", "12345678901234567890").containsEntry("NONE", "");
  }

  @Test
  void aSecretAlsoSetAsPlainEnvIsAProblem() {
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x, env: {K: a}, secrets: {K: b}}", NO_ENV, "p.yaml"))
        .hasMessageContaining("app.secrets.K: is also set in app.env");
  }

  @Test
  void lifetimeRulesCanBeSwitchedOffExplicitly() {
    PreviewConfig c = PreviewConfig.parse("app: {image: x}\npolicy: {ttl: off, idleTimeout: never, maxAge: 7d}",
        NO_ENV, "p.yaml");

    assertThat(c.policy().ttl()).isNull();
    assertThat(c.policy().idleTimeout()).isNull();
    assertThat(c.policy().maxAge()).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void providerSectionsAcceptANameAsShorthandAndNeedAProviderWhenTheyHaveNoDefault() {
    PreviewConfig c = PreviewConfig.parse("app: {image: x}\ndns: test-dns\nenvironment: {port: 1}", NO_ENV, "p.yaml");
    assertThat(c.dns().orElseThrow().provider()).isEqualTo("test-dns");
    assertThat(c.environment().provider()).isEqualTo("local");

    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x}\ndatabase: {baseline: b}\nscm: [a]", NO_ENV, "p.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "database.provider: is required (which database provider to use)",
            "scm: must be a map with a provider key (e.g. scm: {provider: console}) or a provider name"));
  }

  @Test
  void readKeepsProblemsInsteadOfThrowing() {
    PreviewConfig c = PreviewConfig.read("app: {image: x, port: 0}", NO_ENV, "p.yaml");

    assertThat(c.problems()).containsExactly("app.port: must be 1-65535, got 0");
    assertThatThrownBy(c::app).isInstanceOf(ConfigurationException.class);
    assertThat(List.copyOf(c.problems())).hasSize(1);
  }

  @Test
  void installationWideValuesAreReadOnceAndReachEveryFactoryThroughItsContext() {
    java.util.List<dev.preview.spi.ProviderContext> seen = new java.util.ArrayList<>();
    ProviderRegistry r = registry().withEnvironment(new Fixtures.TestEnv("spy") {
      @Override
      public dev.preview.spi.EnvironmentProvider create(dev.preview.spi.ProviderContext context) {
        seen.add(context);
        return super.create(context);
      }
    });
    PreviewConfig c = PreviewConfig.parse("""
        instance: blue
        app: {image: x, hostname: "pr-{number}.preview.example.com"}
        policy: {repositories: [acme/shop]}
        environment: spy
        dns: {provider: test-dns, zone: preview.example.com, target: 203.0.113.7, ttl: 300}
        scm: {provider: test-scm, token: t}
        """, NO_ENV, "p.yaml");
    dev.preview.spi.Installation i = c.installation();
    assertThat(i.instance()).isEqualTo("blue");
    assertThat(i.dnsTarget()).contains("203.0.113.7");
    assertThat(i.dnsTtl()).isEqualTo(300);
    assertThat(i.hostname(dev.preview.spi.PreviewKey.pr("acme/shop", 42))).contains("pr-42.preview.example.com");
    assertThat(c.dns().orElseThrow().config().problems()).as("target and ttl count as read for the DNS factory")
        .noneMatch(p -> p.startsWith("dns.target") || p.startsWith("dns.ttl"));

    c.createProviders(r).close();
    assertThat(seen).singleElement().satisfies(ctx -> {
      assertThat(ctx.installation().instance()).isEqualTo("blue");
      assertThat(ctx.installation().ownershipLabels(dev.preview.spi.PreviewKey.pr("acme/shop", 1), null))
          .containsEntry(dev.preview.spi.Labels.INSTANCE, "blue");
    });
  }

  @Test
  void anInstanceInAProviderSectionIsOneProblemAndABadTtlIsNamedWithItsRange() {
    PreviewConfig c = PreviewConfig.read("""
        app: {image: x}
        environment: {provider: test-env, instance: sectest}
        dns: {provider: test-dns, zone: preview.example.com, ttl: 0, instance: sectest}
        scm: {provider: test-scm, token: t}
        """, NO_ENV, "p.yaml");
    assertThatThrownBy(() -> c.createProviders(registry()))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> {
          assertThat(e.problems()).filteredOn(p -> p.startsWith("environment.instance")).singleElement()
              .asString().contains("set once, at the top level");
          assertThat(e.problems()).filteredOn(p -> p.startsWith("dns.instance")).hasSize(1);
          assertThat(e.problems()).anyMatch(p -> p.startsWith("dns.ttl: must be 1-86400"));
        });
  }

  @Test
  void theBuildSectionIsReadWithEveryProblemAtOnce() {
    PreviewConfig c = PreviewConfig.parse("""
        app: {image: "ghcr.io/acme/shop:latest"}
        build: {waitFor: [build-image], timeout: 20m, token: "${GIT_TOKEN}"}
        """, Map.of("GIT_TOKEN", "ghp_secret_value")::get, "p.yaml");
    assertThat(c.build().from()).isEqualTo(dev.preview.core.BuildSettings.From.IMAGE);
    assertThat(c.build().waitFor()).containsExactly("build-image");
    assertThat(c.build().waits()).isTrue();
    assertThat(c.build().timeout()).isEqualTo(Duration.ofMinutes(20));
    assertThat(c.build().toString()).doesNotContain("ghp_secret_value");

    assertThatThrownBy(() -> PreviewConfig.parse("""
        app: {image: x}
        build: {from: magic, timeout: soon, pollImag: true}
        """, NO_ENV, "p.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
            .anyMatch(p -> p.startsWith("build.from: must be one of image, source"))
            .anyMatch(p -> p.startsWith("build.timeout: must be a duration"))
            .anyMatch(p -> p.startsWith("build.pollImag: unknown key")));
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x}\nbuild: {from: source, pollImage: true}\n", NO_ENV, "p.yaml"))
        .hasMessageContaining("build.from: source builds the image itself");
  }

  @Test
  void buildFromSourceReadsAppBuildAndTheWorkspacesAndNeedsNoImage() {
    PreviewConfig c = PreviewConfig.parse("""
        app:
          command: [java, -jar, target/app.jar]
          build: [./mvnw, -q, package, -DskipTests]
          buildTimeout: 5m
        build: {from: source, repository: "https://github.com/acme/shop.git", workspaces: /var/previews}
        """, NO_ENV, "p.yaml");
    assertThat(c.app().build()).containsExactly("./mvnw", "-q", "package", "-DskipTests");
    assertThat(c.app().buildTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.build().workspaces()).isEqualTo(java.nio.file.Path.of("/var/previews"));
    assertThat(c.build().repository()).contains("https://github.com/acme/shop.git");
    // docker builds the checkout's Dockerfile: the app needs neither image nor command
    assertThat(PreviewConfig.parse("app: {port: 80}\nbuild: {from: source}\nenvironment: docker\n", NO_ENV, "p.yaml")
        .app().image()).isNull();
    assertThat(dev.preview.core.AppTemplate.builder().build().buildTimeout()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void buildFromSourceProblemsAreReportedTogether() {
    assertThatThrownBy(() -> PreviewConfig.parse("""
        app: {port: 80, build: "make all", buildTimeout: 0s}
        build: {from: source}
        environment: {provider: kubernetes}
        """, NO_ENV, "p.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
            .contains("build.from: environment kubernetes needs an image: set app.image (a template such as"
                + " registry/app:{sha}) built by CI; build.from: source is not supported there")
            .anyMatch(p -> p.startsWith("app.build: must be a list of arguments, run without a shell"))
            .anyMatch(p -> p.startsWith("app.buildTimeout: must be positive"))
            .anyMatch(p -> p.startsWith("app.build: runs on this machine, for environment local only")));
    assertThatThrownBy(() -> PreviewConfig.parse("app: {command: [x], build: [make]}\n", NO_ENV, "p.yaml"))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems())
            .containsExactly("app.build: builds the PR's checkout, which only build.from: source fetches; set"
                + " build.from: source or remove app.build"));
    // without build.from: source, the app still needs something to run
    assertThatThrownBy(() -> PreviewConfig.parse("app: {port: 80}\n", NO_ENV, "p.yaml"))
        .hasMessageContaining("app: set one of app.image, app.buildContext or app.command");
  }

  @Test
  void reconcileRedeployMissingIsReadAndOffByDefault() {
    assertThat(PreviewConfig.parse("app: {image: x}\n", NO_ENV, "p.yaml").redeployMissing()).isFalse();
    assertThat(PreviewConfig.parse("app: {image: x}\nreconcile: {redeployMissing: true}\n", NO_ENV, "p.yaml")
        .redeployMissing()).isTrue();
    assertThatThrownBy(() -> PreviewConfig.parse("app: {image: x}\nreconcile: {redeployMissing: sometimes}\n", NO_ENV, "p.yaml"))
        .hasMessageContaining("reconcile.redeployMissing");
  }
}
