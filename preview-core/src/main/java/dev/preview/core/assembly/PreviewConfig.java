package dev.preview.core.assembly;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.preview.core.AppTemplate;
import dev.preview.core.BuildSettings;
import dev.preview.core.PreviewOrchestrator;
import dev.preview.core.ImageTemplate;
import dev.preview.core.policy.ForkMode;
import dev.preview.core.policy.PreviewPolicy;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.EnvironmentProvider;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.Redactor;
import dev.preview.spi.ProviderNotFoundException;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.Resources;
import dev.preview.spi.ScmNotifier;
import dev.preview.spi.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A parsed {@code preview.yaml}: the app template, the policy, and one {@link ProviderSection} per
 * provider kind. See {@code docs/preview-yaml.md} for every key.
 *
 * <pre>{@code
 * PreviewConfig config = PreviewConfig.load(Path.of("preview.yaml"));
 * try (ConfiguredProviders providers = config.createProviders(ProviderRegistry.defaultRegistry())) {
 *   ...
 * }
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Every string value may use {@code ${NAME}} or {@code ${NAME:-default}} (the default also
 *       applies when NAME is set but empty); <code>$${</code> writes a literal <code>${</code>. An unset variable
 *       without default is a problem ({@code scm.token: environment variable GITHUB_TOKEN is not set}).</li>
 *   <li>{@link #parse}/{@link #load} report every problem of the sections read here (top level,
 *       {@code app}, {@code policy}, {@code flags}, {@code reconcile}, provider names, interpolation,
 *       YAML syntax with line and column) at once, as one {@link ConfigurationException}.</li>
 *   <li>The keys of a provider section are checked by the provider itself when it is built;
 *       {@link #createProviders} builds them all and reports every provider's problems, plus any of
 *       this file's own (see {@link #read}), in one exception.</li>
 *   <li>Immutable; {@link #toString()} and every message leave secret values out.</li>
 * </ul>
 */
public final class PreviewConfig {
  /** The top-level keys of {@code preview.yaml}. */
  public static final List<String> TOP_LEVEL_KEYS = List.of(
      "instance", "repository", "app", "environment", "database", "dns", "scm", "pullRequests",
      "policy", "flags", "reconcile", "build", "gateway", "dashboard", "parallelism");
  /**
   * Top-level sections this class keeps whole for the server to read and check (the gateway, the
   * dashboard): {@link #serverSection}.
   */
  public static final List<String> SERVER_SECTIONS = List.of("gateway", "dashboard");
  /** {@code environment.provider} when the section or the key is absent. */
  public static final String DEFAULT_ENVIRONMENT = "local";
  /** {@code scm.provider} when the section or the key is absent. */
  public static final String DEFAULT_SCM = "console";
  /** {@code instance} when absent. */
  public static final String DEFAULT_INSTANCE = Installation.DEFAULT_INSTANCE;
  /** {@code reconcile.interval} when absent. */
  public static final Duration DEFAULT_RECONCILE_INTERVAL = Duration.ofMinutes(5);
  private static final Duration MAX_DURATION = Duration.ofDays(3650);

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern FLAG_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  private static final Pattern DNS_NAME = Pattern.compile(
      "(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  // YAML 1.1 reads a bare off as false.
  private static final Set<String> OFF = Set.of("off", "none", "never", "false");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final String source;
  private final String instance;
  private final String repository;
  private final AppTemplate app;
  private final PreviewPolicy policy;
  private final Duration reconcileInterval;
  private final boolean redeployMissing;
  private final int reconcileParallelism;
  private final int parallelism;
  private final BuildSettings build;
  private final Map<ProviderKind, ProviderSection> sections;
  private final Installation installation;
  private final List<String> problems;
  private final Set<String> unresolved;
  /** Removes every value interpolated from the environment from problems (see {@link #redact}). */
  private final Redactor interpolated;
  private final List<Secret> secrets;
  private final Map<String, Map<String, Object>> serverSections;

  private PreviewConfig(Reader r) {
    this.source = r.source;
    this.instance = r.instance;
    this.repository = r.repository;
    this.app = r.app;
    this.policy = r.policy;
    this.reconcileInterval = r.reconcileInterval;
    this.redeployMissing = r.redeployMissing;
    this.reconcileParallelism = r.reconcileParallelism;
    this.parallelism = r.parallelism;
    this.build = r.build;
    this.sections = Map.copyOf(r.sections);
    this.interpolated = r.interpolated.build();
    this.secrets = List.copyOf(r.secrets);
    this.problems = redact(r.problems);
    this.unresolved = Set.copyOf(r.unresolved);
    this.installation = r.installation();
    this.serverSections = Map.copyOf(r.serverSections);
  }

  /**
   * A top-level section read by {@code preview serve} rather than here ({@link #SERVER_SECTIONS}:
   * {@code gateway}, {@code dashboard}), with {@code ${...}} already resolved; an empty section when the
   * file has none. Its reader checks the keys and reports all their problems at once.
   */
  public ProviderConfig serverSection(String name) {
    if (!SERVER_SECTIONS.contains(name)) {
      throw new IllegalArgumentException(name + " is not a server section (known: " + SERVER_SECTIONS + ")");
    }
    return ProviderConfig.of(name, serverSections.getOrDefault(name, Map.of()));
  }

  /**
   * Reads {@code file}, taking {@code ${...}} values from the process environment. A relative
   * {@code app.buildContext} is resolved against the file's directory.
   *
   * @throws ConfigurationException listing every problem (a missing file is one too)
   */
  public static PreviewConfig load(Path file) {
    return strict(read(file, System::getenv));
  }

  /**
   * Parses {@code yaml}.
   *
   * @param env where {@code ${NAME}} values come from (e.g. {@code System::getenv} or a map's {@code get})
   * @param sourceName the file name, for syntax errors ({@code preview.yaml line 3, column 7: ...})
   * @throws ConfigurationException listing every problem
   */
  public static PreviewConfig parse(String yaml, Function<String, String> env, String sourceName) {
    return strict(read(yaml, env, sourceName, null));
  }

  /**
   * Like {@link #load} but never throws for problems in the file: they are kept in {@link #problems()}
   * and reported by {@link #createProviders} together with the providers' own, so a command line can
   * show every problem of the file in one round. Values with problems fall back to their defaults.
   */
  public static PreviewConfig read(Path file, Function<String, String> env) {
    Objects.requireNonNull(file, "file");
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigurationException(file + ": file not found (working directory: "
          + Path.of("").toAbsolutePath() + ")");
    } catch (IOException e) {
      throw new ConfigurationException(file + ": cannot be read: " + e.getMessage());
    }
    Path dir = file.toAbsolutePath().getParent();
    return read(text, env, file.toString(), dir);
  }

  /** Like {@link #parse} but keeps problems in {@link #problems()}; see {@link #read(Path, Function)}. */
  public static PreviewConfig read(String yaml, Function<String, String> env, String sourceName) {
    return read(yaml, env, sourceName, null);
  }

  private static PreviewConfig read(String yaml, Function<String, String> env, String sourceName, Path baseDir) {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(env, "env");
    Reader r = new Reader(sourceName == null ? "preview.yaml" : sourceName, env, baseDir);
    r.read(yaml);
    return new PreviewConfig(r);
  }

  /**
   * {@code problems} without any value that came from an environment variable (it may be a secret):
   * each such value of at least {@value Redactor#MIN_LENGTH} characters is shown as the reference
   * written in the file ({@code ${DB_PASSWORD}}), and every secret of the config as {@code ******}.
   */
  List<String> redact(java.util.Collection<String> problems) {
    Redactor r = interpolated.plus(redactor());
    return problems.stream().map(r::redact).toList();
  }

  /**
   * Every secret of this config: {@code app.secrets}, {@code build.token}, and each value a provider
   * read as a secret from its section (known once {@link #createProviders} has built it). The
   * orchestrator keeps them out of every PR status, log line and listener message.
   */
  public Redactor redactor() {
    Redactor.Builder b = Redactor.builder();
    if (app != null) {
      b.secrets(app.secrets());
    }
    secrets.forEach(b::secret);
    sections.values().forEach(s -> s.secretsRead().forEach(b::secret));
    return b.build();
  }

  private static PreviewConfig strict(PreviewConfig c) {
    if (!c.problems.isEmpty()) {
      throw new ConfigurationException(c.problems);
    }
    return c;
  }

  /**
   * Builds every configured provider through {@code registry} and reports, in ONE
   * {@link ConfigurationException}, every problem: this file's own ({@link #problems()}), unknown
   * provider names (with the artifact to add), and each provider's {@code ProviderConfig} problems.
   * On failure, the providers already built are closed.
   *
   * <p>Without a {@code pullRequests} section, the pull request source named like the {@code scm}
   * provider is built from the {@code scm} section when the registry has one (GitHub notifies and
   * lists PRs with the same token); otherwise there is none.
   */
  public ConfiguredProviders createProviders(ProviderRegistry registry) {
    return createProviders(registry, installation);
  }

  /**
   * Like {@link #createProviders(ProviderRegistry)}, but the providers belong to {@code installation}
   * instead of {@link #installation()} (e.g. the same values with a test clock).
   */
  public ConfiguredProviders createProviders(ProviderRegistry registry, Installation installation) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(installation, "installation");
    Set<String> all = new LinkedHashSet<>(problems);
    List<AutoCloseable> created = new ArrayList<>();
    EnvironmentProvider env = create(all, created, sections.get(ProviderKind.ENVIRONMENT),
        s -> registry.environment(s, installation));
    DatabaseProvider db = create(all, created, sections.get(ProviderKind.DATABASE), s -> registry.database(s, installation));
    DnsProvider dns = create(all, created, sections.get(ProviderKind.DNS), s -> registry.dns(s, installation));
    ScmNotifier notifier = create(all, created, sections.get(ProviderKind.SCM), s -> registry.notifier(s, installation));
    PullRequestSource prs = create(all, created, pullRequestsSection(registry).orElse(null),
        s -> registry.pullRequests(s, installation));
    if (!all.isEmpty() || env == null || notifier == null) {
      ConfiguredProviders.closeAll(created);
      throw new ConfigurationException(all.isEmpty() ? List.of("environment: no provider could be built") : redact(all));
    }
    return new ConfiguredProviders(env, db, dns, notifier, prs);
  }

  /**
   * The section the pull request source is built from: {@code pullRequests} if present, else the
   * {@code scm} section when {@code registry} has a pull request source of the scm provider's name.
   */
  public Optional<ProviderSection> pullRequestsSection(ProviderRegistry registry) {
    ProviderSection explicit = sections.get(ProviderKind.PULL_REQUESTS);
    if (explicit != null) {
      return Optional.of(explicit);
    }
    ProviderSection scm = sections.get(ProviderKind.SCM);
    if (scm != null && registry.has(ProviderKind.PULL_REQUESTS, scm.provider())) {
      return Optional.of(scm.reusedAs(ProviderKind.PULL_REQUESTS));
    }
    return Optional.empty();
  }

  private <T extends AutoCloseable> T create(Set<String> all, List<AutoCloseable> created, ProviderSection s,
      Function<ProviderSection, T> factory) {
    if (s == null) {
      return null;
    }
    try {
      T t = factory.apply(s);
      created.add(t);
      return t;
    } catch (ConfigurationException e) {
      for (String p : e.problems()) {
        if (!unresolved.contains(pathOf(p))) {
          all.add(p);
        }
      }
    } catch (ProviderNotFoundException e) {
      all.add(s.path() + ".provider: " + e.getMessage());
    } catch (RuntimeException | Error e) {
      ConfiguredProviders.closeAll(created);
      throw e;
    }
    return null;
  }

  private static String pathOf(String problem) {
    int i = problem.indexOf(": ");
    return i < 0 ? problem : problem.substring(0, i);
  }

  static String child(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** The file name given at parsing, for messages. */
  public String source() {
    return source;
  }

  /** The installation's name, written in the {@code preview.dev/instance} label. Default {@code default}. */
  public String instance() {
    return instance;
  }

  /**
   * The installation-wide values every provider gets through its context: {@code instance},
   * the hostname rule of {@code app.hostname}, {@code dns.target} and {@code dns.ttl}; the system clock.
   */
  public Installation installation() {
    return installation;
  }

  /** The default repository ({@code owner/name}) for commands that take one, if set. */
  public Optional<String> repository() {
    return Optional.ofNullable(repository);
  }

  /**
   * What every preview runs.
   *
   * @throws ConfigurationException when the {@code app} section had problems (only possible after {@link #read})
   */
  public AppTemplate app() {
    if (app == null) {
      throw new ConfigurationException(problems.isEmpty() ? List.of("app: is required") : problems);
    }
    return app;
  }

  /** Which PRs get a preview and how long it lives, with the {@code flags} section as default flags. */
  public PreviewPolicy policy() {
    return policy;
  }

  /** How often the orchestrator reconciles. Default 5 minutes. */
  public Duration reconcileInterval() {
    return reconcileInterval;
  }

  /**
   * {@code reconcile.redeployMissing}: whether reconcile deploys open PRs whose environment is missing
   * or runs another commit than the PR's head. Default false.
   */
  public boolean redeployMissing() {
    return redeployMissing;
  }

  /**
   * {@code parallelism}: how many PRs are deployed or torn down at once, the bound of the
   * orchestrator's own worker pool (default 4). Webhooks are answered on the server's request
   * threads whatever it is: an event beyond the bound waits in its PR's queue, never in a request.
   */
  public int parallelism() {
    return parallelism;
  }

  /** {@code reconcile.parallelism}: how many repairs one reconcile runs at once. */
  public int reconcileParallelism() {
    return reconcileParallelism;
  }

  /** How previews get their PR's own build (the {@code build} section); {@link BuildSettings#defaults()} when absent. */
  public BuildSettings build() {
    return build;
  }

  /** The {@code environment} section; provider {@code local} by default. */
  public ProviderSection environment() {
    return section(ProviderKind.ENVIRONMENT).orElseThrow(() -> new ConfigurationException(problems));
  }

  /** The {@code database} section, if present. */
  public Optional<ProviderSection> database() {
    return section(ProviderKind.DATABASE);
  }

  /** The {@code dns} section, if present. */
  public Optional<ProviderSection> dns() {
    return section(ProviderKind.DNS);
  }

  /** The {@code scm} section; provider {@code console} by default. */
  public ProviderSection scm() {
    return section(ProviderKind.SCM).orElseThrow(() -> new ConfigurationException(problems));
  }

  /** The {@code pullRequests} section as written; see {@link #pullRequestsSection} for the default. */
  public Optional<ProviderSection> pullRequests() {
    return section(ProviderKind.PULL_REQUESTS);
  }

  /** The section of {@code kind}, if present (or defaulted). */
  public Optional<ProviderSection> section(ProviderKind kind) {
    return Optional.ofNullable(sections.get(kind));
  }

  /** The problems found in this file; always empty after {@link #parse} or {@link #load}. */
  public List<String> problems() {
    return problems;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("PreviewConfig{source=").append(source)
        .append(", instance=").append(instance)
        .append(", repository=").append(repository)
        .append(", app=").append(app);
    for (ProviderKind k : ProviderKind.values()) {
      ProviderSection s = sections.get(k);
      if (s != null) {
        sb.append(", ").append(k.key()).append('=').append(s.provider()).append(s.keys());
      }
    }
    return sb.append(", reconcileInterval=").append(reconcileInterval).append('}').toString();
  }

  /** One parsing run: collects values and problems. */
  private static final class Reader {
    private final String source;
    private final Function<String, String> env;
    private final Path baseDir;
    private final List<String> problems = new ArrayList<>();
    private final Set<String> unresolved = new LinkedHashSet<>();
    /** Each value taken from the environment -> the reference it stands for, to redact problems with. */
    private final Redactor.Builder interpolated = Redactor.builder();
    /** Secrets read outside provider sections (build.token). */
    private final List<Secret> secrets = new ArrayList<>();
    private String instance = DEFAULT_INSTANCE;
    private String repository;
    private AppTemplate app;
    private PreviewPolicy policy = PreviewPolicy.defaults();
    private Duration reconcileInterval = DEFAULT_RECONCILE_INTERVAL;
    private boolean redeployMissing;
    private int reconcileParallelism = PreviewOrchestrator.DEFAULT_RECONCILE_PARALLELISM;
    private int parallelism = 4; // PreviewOrchestrator.Builder's default
    private BuildSettings build = BuildSettings.defaults();
    private String dnsTarget;
    private int dnsTtl = Installation.DEFAULT_DNS_TTL;
    private final Map<ProviderKind, ProviderSection> sections = new LinkedHashMap<>();
    private final Map<String, Map<String, Object>> serverSections = new LinkedHashMap<>();

    Reader(String source, Function<String, String> env, Path baseDir) {
      this.source = source;
      this.env = env;
      this.baseDir = baseDir;
    }

    void read(String yaml) {
      Map<String, Object> root = tree(yaml);
      if (root == null) {
        return;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> resolved = (Map<String, Object>) new Interpolation(env, problems, unresolved,
          (name, value) -> interpolated.value(value, "${" + name + "}")).resolve(root, "");
      for (String key : resolved.keySet()) {
        if (!TOP_LEVEL_KEYS.contains(key)) {
          add(key + ": unknown key (known here: " + String.join(", ", TOP_LEVEL_KEYS) + ")");
        }
      }
      instance = instance(resolved.get("instance"));
      repository = repository(resolved.get("repository"));
      String workers = resolved.containsKey("parallelism") ? String.valueOf(resolved.get("parallelism")).trim() : null;
      if (workers != null && workers.matches("[0-9]{1,4}") && Integer.parseInt(workers) >= 1 && Integer.parseInt(workers) <= 1024) {
        parallelism = Integer.parseInt(workers);
      } else if (workers != null) {
        add("parallelism: must be a whole number 1-1024 (how many PRs are deployed or torn down at once), got "
            + resolved.get("parallelism"));
      }
      app = app(resolved, map(resolved, "build").get("from") instanceof String f
          && f.trim().equalsIgnoreCase("source"));
      policy = policy(map(resolved, "policy"), map(resolved, "flags"));
      hostnamesUnique();
      reconcileInterval = reconcile(map(resolved, "reconcile"));
      build = build(map(resolved, "build"));
      provider(ProviderKind.ENVIRONMENT, resolved, DEFAULT_ENVIRONMENT);
      provider(ProviderKind.DATABASE, resolved, null);
      provider(ProviderKind.DNS, resolved, null);
      provider(ProviderKind.SCM, resolved, DEFAULT_SCM);
      provider(ProviderKind.PULL_REQUESTS, resolved, null);
      installationKeys(resolved);
      fromSource(map(resolved, "app"));
      for (String name : SERVER_SECTIONS) {
        if (resolved.containsKey(name)) {
          serverSections.put(name, map(resolved, name));
        }
      }
    }

    /**
     * Two previews must never get one hostname: a template without a part that tells repositories
     * apart ({@code {name}}, {@code {hash}}, or {@code {owner}} with {@code {repo}}; {@code {repo}}
     * alone when every repository served has one owner) is refused unless the config pins one
     * repository: {@code policy.repositories} with one entry that is not a glob. Without
     * {@code policy.repositories} every repository that sends events is served (no PR source or
     * webhook section restricts that), so such a template is refused too, at load rather than at a
     * second repository's DNS step.
     */
    private void hostnamesUnique() {
      String template = app == null ? null : app.hostnameTemplate();
      if (template == null || template.contains("{name}") || template.contains("{hash}")
          || (template.contains("{owner}") && template.contains("{repo}"))) {
        return;
      }
      List<String> served = policy.repositories();
      String fix = ": add {repo} and {owner}, or {name} (e.g. {repo}-{owner}-{number}.preview.example.com or"
          + " {name}.preview.example.com), or serve one repository";
      if (served.isEmpty()) {
        add("app.hostname: \"" + template + "\" gives PRs of different repositories the same hostname, and without"
            + " policy.repositories every repository that sends events is served" + fix + " by listing it alone in"
            + " policy.repositories (e.g. policy: {repositories: [" + (repository == null ? "acme/shop" : repository)
            + "]})");
        return;
      }
      boolean one = served.size() == 1 && !served.get(0).contains("*") && !served.get(0).contains("?");
      if (one) {
        return;
      }
      Set<String> owners = new LinkedHashSet<>();
      boolean ownerGlob = false;
      for (String r : served) {
        int slash = r.lastIndexOf('/');
        String owner = slash < 0 ? r : r.substring(0, slash);
        ownerGlob |= owner.contains("*") || owner.contains("?");
        owners.add(owner);
      }
      if (template.contains("{repo}") && owners.size() == 1 && !ownerGlob) {
        return;
      }
      add("app.hostname: \"" + template + "\" gives PRs of different repositories the same hostname (policy.repositories"
          + " lets in " + String.join(", ", served) + ")" + fix + " (list only it in policy.repositories)");
    }

    /** What {@code build.from: source} and {@code app.build} need of the environment provider. */
    private void fromSource(Map<String, Object> rawApp) {
      ProviderSection env = sections.get(ProviderKind.ENVIRONMENT);
      String provider = env == null ? null : env.provider();
      boolean source = build.from() == BuildSettings.From.SOURCE;
      boolean appBuild = rawApp.containsKey("build");
      if (source && "kubernetes".equals(provider)) {
        add("build.from: environment kubernetes needs an image: set app.image (a template such as registry/app:{sha})"
            + " built by CI; build.from: source is not supported there");
      }
      if (appBuild && !source) {
        add("app.build: builds the PR's checkout, which only build.from: source fetches; set build.from: source"
            + " or remove app.build");
      } else if (appBuild && provider != null && !"local".equals(provider)) {
        add("app.build: runs on this machine, for environment local only; with environment " + provider
            + " the PR's Dockerfile builds it (remove app.build)");
      }
    }

    /**
     * The installation-wide keys that live inside provider sections ({@code dns.target}, {@code dns.ttl}),
     * read once here; and {@code instance} written in a provider section, which belongs at the top level.
     */
    private void installationKeys(Map<String, Object> root) {
      for (ProviderKind kind : ProviderKind.values()) {
        if (root.get(kind.key()) instanceof Map<?, ?> m && m.containsKey("instance")) {
          add(kind.key() + ".instance: the instance is set once, at the top level of the file (instance: "
              + (m.get("instance") == null ? "name" : m.get("instance")) + "); remove it here");
          unresolved.add(kind.key() + ".instance"); // reported: the provider's own word on it would repeat it
        }
      }
      ProviderSection dns = sections.get(ProviderKind.DNS);
      if (dns == null) {
        return;
      }
      ProviderConfig c = ProviderConfig.of(dns.path(), dns.values());
      c.string("target").ifPresent(t -> {
        if (t.isBlank()) {
          c.problem("target", "must not be empty (an IP address for A/AAAA records or a hostname for CNAME)");
        } else {
          dnsTarget = t.trim();
        }
      });
      dnsTtl = c.integer("ttl", Installation.DEFAULT_DNS_TTL, 1, Installation.MAX_DNS_TTL);
      c.ignore(c.keys().toArray(String[]::new));
      addAll(c.problems());
    }

    /** The installation of this file; values with problems fall back to their defaults. */
    Installation installation() {
      Installation.Builder b = Installation.builder().dnsTarget(dnsTarget).dnsTtl(dnsTtl);
      if (instance != null && Installation.INSTANCE_NAME.matcher(instance).matches()) {
        b.instance(instance);
      }
      AppTemplate template = app;
      if (template != null) {
        b.hostnames(key -> Optional.ofNullable(template.hostname(key)));
      }
      return b.build();
    }

    /**
     * The YAML document as maps, lists and scalars; null (with a problem) when it cannot be used.
     * Scalars stay the text that was written: YAML would read {@code VERSION: 1.10} as the number
     * 1.1, {@code MODE: 0755} as 493 and {@code FLAG: on} as true, which is not what an env var
     * should receive. Typed accessors of {@link ProviderConfig} parse the text where a number is meant.
     */
    private Map<String, Object> tree(String yaml) {
      Object root;
      try (JsonParser p = YAML.getFactory().createParser(yaml)) {
        JsonToken first = p.nextToken();
        root = first == null ? null : value(p, first);
      } catch (JsonProcessingException e) {
        JsonLocation l = e.getLocation();
        String where = l == null ? "" : " line " + l.getLineNr() + ", column " + l.getColumnNr();
        problems.add(source + where + ": invalid YAML: " + firstLine(e.getOriginalMessage()));
        return null;
      } catch (IOException e) {
        problems.add(source + ": cannot be read: " + e.getMessage());
        return null;
      }
      if (root == null) {
        return new LinkedHashMap<>();
      }
      if (!(root instanceof Map)) {
        problems.add(source + ": must be a map of sections (app:, environment:, ...), got a "
            + (root instanceof List ? "list" : "single value"));
        return null;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) root;
      return m;
    }

    private static String firstLine(String s) {
      if (s == null) {
        return "syntax error";
      }
      int nl = s.indexOf('\n');
      return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    private static Object value(JsonParser p, JsonToken token) throws IOException {
      switch (token) {
        case START_OBJECT: {
          Map<String, Object> m = new LinkedHashMap<>();
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            m.put(key, value(p, p.nextToken()));
          }
          return m;
        }
        case START_ARRAY: {
          List<Object> l = new ArrayList<>();
          for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            l.add(value(p, t));
          }
          return l;
        }
        case VALUE_NULL:
          return null;
        default:
          return p.getText();
      }
    }

    /** Adds a problem unless its value could not be interpolated (that problem is already there). */
    private void add(String problem) {
      if (!unresolved.contains(pathOf(problem)) && !problems.contains(problem)) {
        problems.add(problem);
      }
    }

    private void addAll(List<String> more) {
      more.forEach(this::add);
    }

    /** A section's map; a non-map is a problem and reads as empty. */
    private Map<String, Object> map(Map<String, Object> root, String key) {
      Object v = root.get(key);
      if (v == null) {
        return Map.of();
      }
      if (v instanceof Map<?, ?> m) {
        @SuppressWarnings("unchecked")
        Map<String, Object> typed = (Map<String, Object>) m;
        return typed;
      }
      add(key + ": must be a map of settings");
      return Map.of();
    }

    private String instance(Object v) {
      if (v == null) {
        return DEFAULT_INSTANCE;
      }
      if (v instanceof Map || v instanceof List || !Installation.INSTANCE_NAME.matcher(v.toString()).matches()) {
        add("instance: must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or"
            + " digit (it is written in labels)" + (v instanceof Map || v instanceof List ? "" : ", got \"" + v + "\""));
        return DEFAULT_INSTANCE;
      }
      return v.toString();
    }

    private String repository(Object v) {
      if (v == null) {
        return null;
      }
      if (v instanceof Map || v instanceof List) {
        add("repository: must be owner/name");
        return null;
      }
      try {
        return PreviewKey.pr(v.toString(), 1).repository();
      } catch (IllegalArgumentException e) {
        add("repository: " + e.getMessage());
        return null;
      }
    }

    private AppTemplate app(Map<String, Object> root, boolean fromSource) {
      if (!root.containsKey("app")) {
        add("app: is required: set app.image, app.buildContext or app.command (what each preview runs)");
        return null;
      }
      Map<String, Object> raw = map(root, "app");
      ProviderConfig c = ProviderConfig.of("app", raw);
      AppTemplate.Builder b = AppTemplate.builder();
      List<String> local = new ArrayList<>();
      Optional<String> image = c.string("image");
      Optional<String> context = c.string("buildContext");
      List<String> command = c.strings("command");
      if (raw.get("command") instanceof String s) {
        command = List.of(s.trim().split("\\s+"));
      }
      if (image.isPresent() && context.isPresent()) {
        c.problem("buildContext", "set either app.image or app.buildContext, not both");
      }
      if (!fromSource && image.isEmpty() && context.isEmpty() && command.stream().allMatch(String::isBlank)) {
        local.add("app: set one of app.image, app.buildContext or app.command (what each preview runs)");
      }
      image.ifPresent(i -> {
        List<String> wrong = ImageTemplate.problems(i);
        wrong.forEach(p -> c.problem("image", p));
        if (wrong.isEmpty()) {
          b.image(i);
        }
      });
      context.ifPresent(p -> b.buildContext(baseDir == null ? Path.of(p) : baseDir.resolve(p).normalize()));
      b.command(command);
      List<String> build = c.strings("build");
      if (raw.get("build") instanceof String s) {
        c.problem("build", "must be a list of arguments, run without a shell, e.g. [./mvnw, -q, package, -DskipTests]");
      } else if (build.stream().anyMatch(String::isBlank)) {
        c.problem("build", "every argument must be non-empty, e.g. [./mvnw, -q, package, -DskipTests]");
      } else {
        b.build(build);
      }
      b.buildTimeout(positive(c, "buildTimeout", Duration.ofMinutes(10), false));
      b.port(c.integer("port", 8080, 1, 65535));
      String health = c.string("healthPath", "/health");
      checked(c, "healthPath", health, x -> x.healthPath(health)).ifPresent(x -> b.healthPath(health));
      envMap(c, "env").forEach(b::env);
      Map<String, Secret> secrets = new LinkedHashMap<>();
      c.secretMap("secrets").forEach((k, v) -> {
        if (!ENV_NAME.matcher(k).matches()) {
          c.problem("secrets." + k, "is not a valid environment variable name (letters, digits and '_', not starting with a digit)");
        } else if (raw.get("env") instanceof Map<?, ?> e && e.containsKey(k)) {
          c.problem("secrets." + k, "is also set in app.env; set it in one place");
        } else {
          secrets.put(k, v);
        }
      });
      b.secrets(secrets);
      b.resources(resources(c.section("resources")));
      c.string("hostname").ifPresent(h -> hostname(c, h).ifPresent(b::hostnameTemplate));
      b.urlScheme(c.choice("urlScheme", "https", "https", "http"));
      c.stringMap("links").forEach((name, path) -> {
        if (checked(c, "links." + name, path, x -> x.link(name, path)).isPresent()) {
          b.link(name, path);
        }
      });
      ProviderConfig readiness = c.section("readiness");
      b.readinessTimeout(positive(readiness, "timeout", Duration.ofMinutes(2), false));
      b.readinessInterval(positive(readiness, "interval", Duration.ofSeconds(1), false));
      local.addAll(c.problems());
      addAll(local);
      if (!local.isEmpty()) {
        return null;
      }
      try {
        return b.build();
      } catch (ConfigurationException e) {
        addAll(e.problems());
        return null;
      }
    }

    /**
     * Lets {@link AppTemplate} judge one value alone, so its own rules are reported with this path;
     * returns empty (and records the problem) when it refuses the value.
     */
    private static Optional<String> checked(ProviderConfig c, String key, String value, Consumer<AppTemplate.Builder> set) {
      AppTemplate.Builder probe = AppTemplate.builder().image("probe");
      set.accept(probe);
      try {
        probe.build();
        return Optional.of(value);
      } catch (ConfigurationException e) {
        c.problem(key, String.join("; ", e.problems().stream().map(p -> p.replaceFirst("^app: ", "")).toList()));
        return Optional.empty();
      }
    }

    private static Optional<String> hostname(ProviderConfig c, String template) {
      if (checked(c, "hostname", template, x -> x.hostnameTemplate(template)).isEmpty()) {
        return Optional.empty();
      }
      String sample = AppTemplate.builder().image("probe").hostnameTemplate(template).build()
          .hostname(PreviewKey.pr("acme/shop", 42));
      if (!DNS_NAME.matcher(sample).matches()) {
        c.problem("hostname", "must give a valid DNS name (letters, digits, '-' and '.'), but gives \""
            + sample + "\" for acme/shop#42");
        return Optional.empty();
      }
      return Optional.of(template);
    }

    private static Map<String, String> envMap(ProviderConfig c, String key) {
      Map<String, String> out = new LinkedHashMap<>();
      c.stringMap(key).forEach((k, v) -> {
        if (ENV_NAME.matcher(k).matches()) {
          out.put(k, v);
        } else {
          c.problem(key + "." + k, "is not a valid environment variable name (letters, digits and '_', not starting with a digit)");
        }
      });
      return out;
    }

    private static Resources resources(ProviderConfig r) {
      long cpu = parsed(r, "cpu", Resources::parseCpu);
      long memory = parsed(r, "memory", Resources::parseMemory);
      long pids = r.longValue("pids", 0, 0, Integer.MAX_VALUE);
      return new Resources(cpu, memory, pids);
    }

    private static long parsed(ProviderConfig r, String key, Function<String, Long> parse) {
      Optional<String> v = r.string(key);
      if (v.isEmpty()) {
        return 0;
      }
      try {
        return parse.apply(v.get());
      } catch (IllegalArgumentException | ArithmeticException e) {
        r.problem(key, e instanceof ArithmeticException ? "is too large" : e.getMessage());
        return 0;
      }
    }

    /** A positive duration; {@code off}/{@code none}/{@code never} give null where {@code offAllowed}. */
    private static Duration positive(ProviderConfig c, String key, Duration def, boolean offAllowed) {
      Optional<String> raw = c.string(key);
      if (offAllowed && raw.isPresent() && OFF.contains(raw.get().trim().toLowerCase(Locale.ROOT))) {
        return null;
      }
      Duration d = c.duration(key, def);
      if (d != null && (d.isNegative() || d.isZero())) {
        c.problem(key, "must be positive" + (offAllowed ? " (or off, to switch the rule off)" : ""));
        return def;
      }
      if (d != null && d.compareTo(MAX_DURATION) > 0) {
        // Instants computed from it (now + ttl) must stay representable.
        c.problem(key, "must be at most 3650d" + (offAllowed ? " (or off, to switch the rule off)" : ""));
        return def;
      }
      return d;
    }

    private PreviewPolicy policy(Map<String, Object> raw, Map<String, Object> rawFlags) {
      ProviderConfig c = ProviderConfig.of("policy", raw);
      PreviewPolicy.Builder b = PreviewPolicy.builder();
      b.repositories(c.strings("repositories"));
      b.branches(c.strings("branches"));
      b.targets(c.strings("targets"));
      b.requireLabels(new LinkedHashSet<>(c.strings("requireLabels")));
      b.excludeLabels(new LinkedHashSet<>(c.strings("excludeLabels")));
      b.drafts(c.bool("drafts", false));
      String forks = c.choice("forks", "no-secrets", "deny", "no-secrets", "require-label");
      b.forks(ForkMode.valueOf(forks.toUpperCase(Locale.ROOT).replace('-', '_')));
      c.string("forkLabel").ifPresent(l -> {
        if (l.isBlank()) {
          c.problem("forkLabel", "must not be empty");
        } else {
          b.forkLabel(l);
        }
      });
      b.forkSecrets(c.bool("forkSecrets", false));
      b.maxConcurrent(c.integer("maxConcurrent", 0, 0, 100_000));
      Duration ttl = positive(c, "ttl", null, true);
      Duration idle = positive(c, "idleTimeout", null, true);
      Duration maxAge = positive(c, "maxAge", null, true);
      Duration sleep = positive(c, "sleepAfter", null, true);
      if (sleep != null && idle != null && sleep.compareTo(idle) >= 0) {
        c.problem("sleepAfter", "must be shorter than policy.idleTimeout, or a preview is deleted before it can sleep");
      }
      b.ttl(ttl).idleTimeout(idle).maxAge(maxAge).sleepAfter(sleep);
      c.string("pinLabel").ifPresent(l -> b.pinLabel(l.isBlank() ? null : l));
      ProviderConfig f = ProviderConfig.of("flags", rawFlags);
      for (String name : f.keys()) {
        if (!FLAG_NAME.matcher(name).matches()) {
          f.ignore(name);
          f.problem(name, "is not a valid flag name (letters, digits, '_', '.', '-')");
        } else {
          b.flag(name, f.bool(name, false));
        }
      }
      List<String> local = new ArrayList<>(c.problems());
      local.addAll(f.problems());
      addAll(local);
      if (!local.isEmpty()) {
        return PreviewPolicy.defaults();
      }
      try {
        return b.build();
      } catch (ConfigurationException e) {
        addAll(e.problems());
        return PreviewPolicy.defaults();
      }
    }

    private BuildSettings build(Map<String, Object> raw) {
      ProviderConfig c = ProviderConfig.of("build", raw).onSecretRead(secrets::add);
      BuildSettings.Builder b = BuildSettings.builder();
      String from = c.choice("from", "image", "image", "source");
      b.from(BuildSettings.From.valueOf(from.toUpperCase(Locale.ROOT)));
      b.waitFor(c.strings("waitFor"));
      b.pollImage(c.bool("pollImage", false));
      b.timeout(positive(c, "timeout", Duration.ofMinutes(30), false));
      b.pollInterval(positive(c, "pollInterval", Duration.ofSeconds(15), false));
      b.repository(c.string("repository").orElse(null));
      c.secret("token").ifPresent(b::token);
      c.string("migrations").ifPresent(m -> {
        if (m.isBlank() || Path.of(m.trim()).isAbsolute() || m.contains("..")) {
          c.problem("migrations", "must be a directory inside the app's checkout, e.g. src/main/resources/db/migration");
        } else {
          b.migrations(m);
        }
      });
      c.string("workspaces").ifPresent(w -> {
        if (w.isBlank()) {
          c.problem("workspaces", "must be a directory, e.g. .preview/workspaces");
        } else {
          b.workspaces(Path.of(w.trim()));
        }
      });
      List<String> local = new ArrayList<>(c.problems());
      addAll(local);
      if (!local.isEmpty()) {
        return BuildSettings.defaults();
      }
      try {
        return b.build();
      } catch (ConfigurationException e) {
        addAll(e.problems());
        return BuildSettings.defaults();
      }
    }

    private Duration reconcile(Map<String, Object> raw) {
      ProviderConfig c = ProviderConfig.of("reconcile", raw);
      Duration d = positive(c, "interval", DEFAULT_RECONCILE_INTERVAL, false);
      redeployMissing = c.bool("redeployMissing", false);
      reconcileParallelism = c.integer("parallelism", PreviewOrchestrator.DEFAULT_RECONCILE_PARALLELISM, 1, 1024);
      addAll(c.problems());
      return d;
    }

    private void provider(ProviderKind kind, Map<String, Object> root, String defaultProvider) {
      String key = kind.key();
      Object v = root.get(key);
      if (v == null) {
        if (defaultProvider != null) {
          sections.put(kind, ProviderSection.of(kind, defaultProvider, Map.of()));
        }
        return;
      }
      if (v instanceof String s) {
        // Shorthand: "dns: none" is "dns: {provider: none}".
        if (s.isBlank()) {
          add(key + ": must name a provider");
        } else {
          sections.put(kind, ProviderSection.of(kind, s.trim(), Map.of()));
        }
        return;
      }
      if (!(v instanceof Map<?, ?> m)) {
        add(key + ": must be a map with a provider key (e.g. " + key + ": {provider: "
            + (defaultProvider != null ? defaultProvider : "name") + "}) or a provider name");
        return;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> values = (Map<String, Object>) m;
      Object p = values.get("provider");
      String name;
      if (p == null) {
        if (defaultProvider == null) {
          add(key + ".provider: is required (which " + kind.displayName() + " provider to use)");
          return;
        }
        name = defaultProvider;
      } else if (p instanceof Map || p instanceof List || p.toString().isBlank()) {
        add(key + ".provider: must be a provider name");
        return;
      } else {
        name = p.toString().trim();
      }
      sections.put(kind, ProviderSection.of(kind, name, values));
    }
  }
}
