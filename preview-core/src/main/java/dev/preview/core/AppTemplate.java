package dev.preview.core;

import dev.preview.spi.ConfigurationException;
import com.google.common.hash.Hashing;
import dev.preview.spi.EnvironmentSpec;
import dev.preview.spi.Names;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.Resources;
import dev.preview.spi.Secret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What every preview of an app runs: the image (or build context, or command), its port and health
 * path, its settings and secrets, its public hostname pattern, links to show on the PR, and how long
 * the readiness gate waits. The orchestrator turns it into one {@link EnvironmentSpec} per preview.
 *
 * <p>The hostname template may use {@code {number}}, {@code {name}} (a DNS label unique to the
 * preview, see {@link Names#dnsLabel}), {@code {repo}}, {@code {owner}}, {@code {branch}} and
 * {@code {hash}}; every value is cleaned to DNS characters. Example: {@code pr-{number}.preview.example.com}.
 * Immutable and thread-safe.
 */
public final class AppTemplate {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z]+)}");
  private static final List<String> PLACEHOLDERS = List.of("number", "name", "repo", "owner", "branch", "hash");

  private final String image;
  private final ImageTemplate imageTemplate;
  private final Path buildContext;
  private final List<String> command;
  private final int port;
  private final String healthPath;
  private final Map<String, String> env;
  private final Map<String, Secret> secrets;
  private final Resources resources;
  private final String hostnameTemplate;
  private final String urlScheme;
  private final Map<String, String> links;
  private final Duration readinessTimeout;
  private final Duration readinessInterval;
  private final List<String> build;
  private final Duration buildTimeout;

  private AppTemplate(Builder b) {
    this.image = b.image;
    this.buildContext = b.buildContext;
    this.command = List.copyOf(b.command);
    this.port = b.port;
    this.healthPath = b.healthPath;
    this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.secrets = Collections.unmodifiableMap(new LinkedHashMap<>(b.secrets));
    this.resources = b.resources;
    this.hostnameTemplate = b.hostnameTemplate;
    this.urlScheme = b.urlScheme;
    this.links = Collections.unmodifiableMap(new LinkedHashMap<>(b.links));
    this.readinessTimeout = b.readinessTimeout;
    this.readinessInterval = b.readinessInterval;
    this.build = List.copyOf(b.build);
    this.buildTimeout = b.buildTimeout;
    List<String> problems = new ArrayList<>();
    if (port < 1 || port > 65535) {
      problems.add("port must be 1-65535, got " + port);
    }
    if (!healthPath.startsWith("/")) {
      problems.add("healthPath must start with '/', got \"" + healthPath + "\"");
    }
    if (hostnameTemplate != null) {
      Matcher m = PLACEHOLDER.matcher(hostnameTemplate);
      while (m.find()) {
        if (!PLACEHOLDERS.contains(m.group(1))) {
          problems.add("hostname template: unknown placeholder {" + m.group(1) + "} (known: "
              + String.join(", ", PLACEHOLDERS) + ")");
        }
      }
    }
    if (readinessTimeout.isNegative() || readinessInterval.isNegative() || readinessInterval.isZero()) {
      problems.add("readiness timeout must be >= 0 and interval > 0");
    }
    links.forEach((name, path) -> {
      if (!path.startsWith("/")) {
        problems.add("link " + name + " must be a path starting with '/', got \"" + path + "\"");
      }
    });
    if (build.stream().anyMatch(a -> a == null || a.isBlank())) {
      problems.add("build: every argument must be non-empty, e.g. [./mvnw, -q, package, -DskipTests]");
    }
    if (buildTimeout.isNegative() || buildTimeout.isZero()) {
      problems.add("buildTimeout must be positive, got " + buildTimeout);
    }
    List<String> all = new ArrayList<>(problems.stream().map(p -> "app: " + p).toList());
    if (image != null) {
      ImageTemplate.problems(image).forEach(p -> all.add("app.image: " + p));
    }
    if (!all.isEmpty()) {
      throw new ConfigurationException(all);
    }
    this.imageTemplate = image == null ? null : ImageTemplate.of(image);
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.image = image;
    b.buildContext = buildContext;
    b.command = new ArrayList<>(command);
    b.port = port;
    b.healthPath = healthPath;
    b.env.putAll(env);
    b.secrets.putAll(secrets);
    b.resources = resources;
    b.hostnameTemplate = hostnameTemplate;
    b.urlScheme = urlScheme;
    b.links.putAll(links);
    b.readinessTimeout = readinessTimeout;
    b.readinessInterval = readinessInterval;
    b.build = new ArrayList<>(build);
    b.buildTimeout = buildTimeout;
    return b;
  }

  /**
   * The hostname of {@code key}'s preview, or null when the template has none (the provider picks the
   * URL). Whatever the key, every label the placeholders produce is a valid DNS label: at most 63 of
   * {@code [a-z0-9-]}, never empty (a valid template stays valid for every key).
   */
  public String hostname(PreviewKey key) {
    if (hostnameTemplate == null) {
      return null;
    }
    Matcher m = PLACEHOLDER.matcher(hostnameTemplate);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = switch (m.group(1)) {
        case "number" -> key.isPullRequest() ? Integer.toString(key.number()) : Names.dnsLabel(key);
        case "name" -> Names.dnsLabel(key);
        case "repo" -> dns(key.repositoryName());
        case "owner" -> dns(key.owner());
        case "branch" -> key.isPullRequest() ? Integer.toString(key.number()) : dns(key.branch());
        case "hash" -> Names.hash(key);
        default -> throw new IllegalStateException(m.group(1));
      };
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    String[] labels = sb.toString().toLowerCase(Locale.ROOT).split("\\.", -1);
    for (int i = 0; i < labels.length; i++) {
      labels[i] = fitLabel(labels[i]);
    }
    return String.join(".", labels);
  }

  /** A placeholder value: DNS characters, at most 40; never empty (a hash stands in for text with no letter or digit). */
  /** The public URL of {@code key}'s preview ({@code https://pr-42.preview.example.com/}), or null without a hostname template. */
  public java.net.URI publicUrl(PreviewKey key) {
    String hostname = hostname(key);
    return hostname == null ? null : java.net.URI.create(urlScheme + "://" + hostname + "/");
  }

  private static String dns(String s) {
    String c = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    if (c.isEmpty()) {
      return "x" + shortHash(s);
    }
    // cut text keeps the hash of the whole: two long branches with one prefix never share a hostname
    int room = 40 - Names.HASH_LENGTH - 1;
    return c.length() > 40 ? c.substring(0, room).replaceAll("-+$", "") + "-" + shortHash(s) : c;
  }

  /** Several placeholders in one label can pass 63 characters: cut, and keep the whole label's hash. */
  private static String fitLabel(String label) {
    if (label.length() <= Names.DNS_LABEL_MAX) {
      return label;
    }
    return label.substring(0, Names.DNS_LABEL_MAX - Names.HASH_LENGTH - 1).replaceAll("-+$", "") + "-" + shortHash(label);
  }

  private static String shortHash(String s) {
    return Hashing.sha256().hashUnencodedChars(s).toString().substring(0, Names.HASH_LENGTH);
  }

  /** A spec builder for {@code key} at {@code revision}, carrying this template's settings. */
  public EnvironmentSpec.Builder specBuilder(PreviewKey key, String revision) {
    return specBuilder(key, revision, null);
  }

  /**
   * A spec builder for {@code key} at {@code revision}, carrying this template's settings, with the
   * revision's own image ({@link #image(PreviewKey, String, String)}).
   *
   * @param headBranch the PR's head branch, for {@code {branch}} in the image; null: {@code pr-<number>}
   */
  public EnvironmentSpec.Builder specBuilder(PreviewKey key, String revision, String headBranch) {
    return EnvironmentSpec.builder(key, revision)
        .image(image(key, revision, headBranch))
        .buildContext(buildContext)
        .command(command)
        .port(port)
        .healthPath(healthPath)
        .hostname(hostname(key))
        .env(env)
        .secrets(secrets)
        .resources(resources);
  }

  /** The image template as written ({@code ghcr.io/acme/shop:{sha}}), or null without an image. */
  public String image() { return image; }

  /**
   * The image of {@code key} at {@code revision}: the {@code app.image} template resolved (see
   * {@link ImageTemplate}), or null without an image.
   *
   * @param headBranch the PR's head branch, for {@code {branch}}; null: {@code pr-<number>}
   */
  public String image(PreviewKey key, String revision, String headBranch) {
    return imageTemplate == null ? null : imageTemplate.resolve(key, revision, headBranch);
  }
  public Path buildContext() { return buildContext; }
  public List<String> command() { return command; }
  public int port() { return port; }
  public String healthPath() { return healthPath; }
  public Map<String, String> env() { return env; }
  public Map<String, Secret> secrets() { return secrets; }
  public Resources resources() { return resources; }
  public String hostnameTemplate() { return hostnameTemplate; }
  /** {@code https} (default) or {@code http}: the scheme of URLs built from the hostname. */
  public String urlScheme() { return urlScheme; }
  /** Named paths to show on the PR beside the URL, e.g. {@code docs -> /docs}. */
  public Map<String, String> links() { return links; }
  public Duration readinessTimeout() { return readinessTimeout; }
  public Duration readinessInterval() { return readinessInterval; }
  /**
   * The command (program and arguments, no shell) that builds the PR's checkout before
   * {@link #command()} runs there, with {@code build.from: source} and the local provider; empty: none.
   * It runs without any secret.
   */
  public List<String> build() { return build; }
  /** How long {@link #build()} may run (default 10 minutes). */
  public Duration buildTimeout() { return buildTimeout; }

  @Override
  public String toString() {
    return "AppTemplate{image=" + image + ", command=" + command + ", port=" + port + ", env=" + env.keySet()
        + ", secrets=" + secrets.keySet() + ", hostname=" + hostnameTemplate + "}";
  }

  /** Builds an {@link AppTemplate}. Defaults: port 8080, health path /health, readiness 2 minutes polled every second. */
  public static final class Builder {
    private String image;
    private Path buildContext;
    private List<String> command = new ArrayList<>();
    private int port = 8080;
    private String healthPath = "/health";
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, Secret> secrets = new LinkedHashMap<>();
    private Resources resources = Resources.UNLIMITED;
    private String hostnameTemplate;
    private String urlScheme = "https";
    private final Map<String, String> links = new LinkedHashMap<>();
    private Duration readinessTimeout = Duration.ofMinutes(2);
    private Duration readinessInterval = Duration.ofSeconds(1);
    private List<String> build = new ArrayList<>();
    private Duration buildTimeout = Duration.ofMinutes(10);

    private Builder() {}

    public Builder image(String image) { this.image = image; return this; }
    public Builder buildContext(Path dir) { this.buildContext = dir; return this; }
    public Builder command(List<String> command) { this.command = new ArrayList<>(command); return this; }
    public Builder command(String... command) { return command(List.of(command)); }
    public Builder port(int port) { this.port = port; return this; }
    public Builder healthPath(String path) { this.healthPath = Objects.requireNonNull(path); return this; }
    public Builder env(String name, String value) { env.put(name, value); return this; }
    public Builder env(Map<String, String> vars) { env.putAll(vars); return this; }
    public Builder secret(String name, Secret value) { secrets.put(name, value); return this; }
    public Builder secrets(Map<String, Secret> vars) { secrets.putAll(vars); return this; }
    public Builder resources(Resources r) { this.resources = Objects.requireNonNull(r); return this; }
    public Builder hostnameTemplate(String template) { this.hostnameTemplate = template; return this; }
    public Builder urlScheme(String scheme) { this.urlScheme = Objects.requireNonNull(scheme); return this; }
    public Builder link(String name, String path) { links.put(name, path); return this; }
    public Builder links(Map<String, String> l) { links.putAll(l); return this; }
    public Builder readinessTimeout(Duration d) { this.readinessTimeout = Objects.requireNonNull(d); return this; }
    public Builder readinessInterval(Duration d) { this.readinessInterval = Objects.requireNonNull(d); return this; }
    public Builder build(List<String> command) { this.build = new ArrayList<>(command); return this; }
    public Builder build(String... command) { return build(List.of(command)); }
    public Builder buildTimeout(Duration d) { this.buildTimeout = Objects.requireNonNull(d); return this; }

    public AppTemplate build() {
      return new AppTemplate(this);
    }
  }
}
