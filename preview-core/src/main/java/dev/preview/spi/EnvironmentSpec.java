package dev.preview.spi;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The desired state of one preview's environment: what {@link EnvironmentProvider#apply} makes real.
 * Validated at construction; immutable. Secrets are kept apart from plain env vars so that
 * providers can inject them without ever logging them or writing them into labels.
 */
public final class EnvironmentSpec {
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final PreviewKey key;
  private final String revision;
  private final String image;
  private final Path buildContext;
  private final List<String> command;
  private final int port;
  private final String healthPath;
  private final String hostname;
  private final Map<String, String> env;
  private final Map<String, Secret> secrets;
  private final Resources resources;
  private final Map<String, Boolean> flags;
  private final Map<String, String> labels;
  private final boolean secretsWithheld;
  private final boolean fromFork;

  private EnvironmentSpec(Builder b) {
    List<String> problems = new ArrayList<>();
    if (b.key == null) {
      problems.add("key is required");
    }
    if (b.revision == null || b.revision.isBlank()) {
      problems.add("revision is required");
    }
    if (b.port < 1 || b.port > 65535) {
      problems.add("port must be 1-65535, got " + b.port);
    }
    if (b.healthPath == null || !b.healthPath.startsWith("/")) {
      problems.add("healthPath must start with '/', got \"" + b.healthPath + "\"");
    }
    for (String name : b.env.keySet()) {
      if (!ENV_NAME.matcher(name).matches()) {
        problems.add("env var name \"" + name + "\" must match [A-Za-z_][A-Za-z0-9_]*");
      }
    }
    for (String name : b.secrets.keySet()) {
      if (!ENV_NAME.matcher(name).matches()) {
        problems.add("secret name \"" + name + "\" must match [A-Za-z_][A-Za-z0-9_]*");
      }
      if (b.env.containsKey(name)) {
        problems.add("\"" + name + "\" is both an env var and a secret; keep one");
      }
    }
    if (b.hostname != null && !b.hostname.matches("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")) {
      problems.add("hostname \"" + b.hostname + "\" is not a valid lower-case DNS name");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid environment spec: " + String.join("; ", problems));
    }
    this.key = b.key;
    this.revision = b.revision;
    this.image = b.image;
    this.buildContext = b.buildContext;
    this.command = List.copyOf(b.command);
    this.port = b.port;
    this.healthPath = b.healthPath;
    this.hostname = b.hostname;
    this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.secrets = Collections.unmodifiableMap(new LinkedHashMap<>(b.secrets));
    this.resources = b.resources;
    this.flags = Collections.unmodifiableMap(new LinkedHashMap<>(b.flags));
    this.labels = Collections.unmodifiableMap(new LinkedHashMap<>(b.labels));
    this.secretsWithheld = b.secretsWithheld;
    this.fromFork = b.fromFork;
  }

  public static Builder builder(PreviewKey key, String revision) {
    return new Builder().key(key).revision(revision);
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.key = key;
    b.revision = revision;
    b.image = image;
    b.buildContext = buildContext;
    b.command = new ArrayList<>(command);
    b.port = port;
    b.healthPath = healthPath;
    b.hostname = hostname;
    b.env.putAll(env);
    b.secrets.putAll(secrets);
    b.resources = resources;
    b.flags.putAll(flags);
    b.labels.putAll(labels);
    b.secretsWithheld = secretsWithheld;
    b.fromFork = fromFork;
    return b;
  }

  public PreviewKey key() { return key; }

  /** The revision (head commit SHA) to run. */
  public String revision() { return revision; }

  /** Image reference to run, or null when the provider builds from {@link #buildContext()} or runs {@link #command()}. */
  public @Nullable String image() { return image; }

  /** Directory with the branch's checkout and its Dockerfile, or null. */
  public @Nullable Path buildContext() { return buildContext; }

  /** Command (and arguments) to run; overrides the image's default command. May be empty. */
  public List<String> command() { return command; }

  /** The port the app listens on inside its environment. */
  public int port() { return port; }

  /** Path answered with 2xx when the app is healthy. */
  public String healthPath() { return healthPath; }

  /** The public hostname assigned to this preview, or null when the provider chooses the URL. */
  public @Nullable String hostname() { return hostname; }

  /** Plain env vars (never secrets). */
  public Map<String, String> env() { return env; }

  /** Secret env vars: inject, never log, never put in labels. */
  public Map<String, Secret> secrets() { return secrets; }

  /**
   * Whether the policy withheld secrets from this preview (a fork PR under {@code forks: no-secrets}):
   * a provider then adds no secret of its own config either (e.g. the Docker provider's
   * {@code services.*.secrets}); {@link #secrets()} holds only the preview's own database credentials.
   */
  public boolean secretsWithheld() { return secretsWithheld; }

  /**
   * The preview runs a fork PR's code (anyone's). A provider that would run the {@link #buildContext()}
   * on its host as the server's own user refuses it while that user is root (the local provider
   * without {@code environment.user}); container providers isolate it anyway.
   */
  public boolean fromFork() { return fromFork; }

  public Resources resources() { return resources; }

  /** Feature-flag overrides, already reflected in {@link #env()} as {@code FEATURE_*} and {@code PREVIEW_FLAGS}. */
  public Map<String, Boolean> flags() { return flags; }

  /** Ownership and lifecycle labels to put on every resource (see {@link Labels}). */
  public Map<String, String> labels() { return labels; }

  @Override
  public boolean equals(Object o) {
    return o instanceof EnvironmentSpec s && key.equals(s.key) && revision.equals(s.revision)
        && Objects.equals(image, s.image) && Objects.equals(buildContext, s.buildContext)
        && command.equals(s.command) && port == s.port && healthPath.equals(s.healthPath)
        && Objects.equals(hostname, s.hostname) && env.equals(s.env) && secrets.equals(s.secrets)
        && resources.equals(s.resources) && flags.equals(s.flags) && labels.equals(s.labels)
        && secretsWithheld == s.secretsWithheld && fromFork == s.fromFork;
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, revision, image, port);
  }

  /** Never shows secret values. */
  @Override
  public String toString() {
    return "EnvironmentSpec{key=" + key + ", revision=" + revision + ", image=" + image
        + ", buildContext=" + buildContext + ", command=" + command + ", port=" + port
        + ", healthPath=" + healthPath + ", hostname=" + hostname + ", env=" + env.keySet()
        + ", secrets=" + secrets.keySet() + ", resources=" + resources + ", flags=" + flags + "}";
  }

  /** Builds a validated {@link EnvironmentSpec}; every problem is reported at once. */
  public static final class Builder {
    private PreviewKey key;
    private String revision;
    private String image;
    private Path buildContext;
    private List<String> command = new ArrayList<>();
    private int port = 8080;
    private String healthPath = "/health";
    private String hostname;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, Secret> secrets = new LinkedHashMap<>();
    private boolean secretsWithheld;
    private boolean fromFork;
    private Resources resources = Resources.UNLIMITED;
    private final Map<String, Boolean> flags = new LinkedHashMap<>();
    private final Map<String, String> labels = new LinkedHashMap<>();

    private Builder() {}

    public Builder key(PreviewKey key) { this.key = key; return this; }
    public Builder revision(String revision) { this.revision = revision; return this; }
    public Builder image(@Nullable String image) { this.image = image; return this; }
    public Builder buildContext(@Nullable Path dir) { this.buildContext = dir; return this; }
    public Builder command(List<String> command) { this.command = new ArrayList<>(command); return this; }
    public Builder port(int port) { this.port = port; return this; }
    public Builder healthPath(String path) { this.healthPath = path; return this; }
    public Builder hostname(@Nullable String hostname) { this.hostname = hostname; return this; }
    public Builder env(String name, String value) { env.put(name, Objects.requireNonNull(value, name)); return this; }
    public Builder env(Map<String, String> vars) { vars.forEach(this::env); return this; }
    public Builder secret(String name, Secret value) { secrets.put(name, Objects.requireNonNull(value, name)); return this; }
    public Builder secrets(Map<String, Secret> vars) { vars.forEach(this::secret); return this; }
    public Builder clearSecrets() { secrets.clear(); return this; }
    /** Removes the secrets so far and marks the spec {@link EnvironmentSpec#secretsWithheld()}: none of the provider's either. */
    public Builder withholdSecrets() { secrets.clear(); secretsWithheld = true; return this; }
    /** Marks the spec {@link EnvironmentSpec#fromFork()}. */
    public Builder fromFork(boolean fork) { this.fromFork = fork; return this; }
    public Builder resources(Resources r) { this.resources = Objects.requireNonNull(r); return this; }
    public Builder flag(String name, boolean on) { flags.put(name, on); return this; }
    public Builder flags(Map<String, Boolean> f) { flags.putAll(f); return this; }
    public Builder label(String name, String value) { labels.put(name, Objects.requireNonNull(value, name)); return this; }
    public Builder labels(Map<String, String> l) { l.forEach(this::label); return this; }

    public EnvironmentSpec build() {
      return new EnvironmentSpec(this);
    }
  }
}
