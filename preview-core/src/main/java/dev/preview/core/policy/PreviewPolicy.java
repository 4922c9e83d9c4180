package dev.preview.core.policy;

import dev.preview.spi.ConfigurationException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.spi.Environment;
import dev.preview.spi.Labels;
import dev.preview.spi.PullRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which PRs get a preview, and how long it lives. Immutable and thread-safe.
 *
 * <h2>Admission</h2>
 * A PR gets a preview when it is not a draft (unless {@code drafts}), its head branch matches one of
 * {@code branches} and its target one of {@code targets} (globs: {@code *} within a segment,
 * {@code **} across), it has every required label and no excluded label, and the fork rule lets it
 * ({@link ForkMode}). When {@code maxConcurrent} previews exist, it is queued.
 *
 * <h2>Lifetime</h2>
 * <ul>
 *   <li>{@code ttl}: hard expiry, counted from the last push (a push extends it).</li>
 *   <li>{@code idleTimeout}: deleted after no push and no visit for this long.</li>
 *   <li>{@code maxAge}: deleted this long after creation, whatever the activity.</li>
 *   <li>{@code sleepAfter}: scaled to zero (suspended, where the provider supports it) after no push and
 *       no visit for this long, measured like {@code idleTimeout} from the environment's last-activity
 *       label; woken by the next push, or by a visit through the gateway.</li>
 *   <li>the {@code pinLabel} on the PR exempts a preview from all of the above.</li>
 * </ul>
 * A null duration switches a rule off.
 *
 * <h2>Feature flags</h2>
 * Flags from config, overridden by PR labels {@code flag:<name>} (on), {@code flag:<name>=off} or
 * {@code flag:!<name>} (off); delivered as {@code FEATURE_<NAME>=true|false} and {@code PREVIEW_FLAGS} (JSON).
 */
public final class PreviewPolicy {
  /** Label prefix that turns a feature flag on (or off with {@code =off}). */
  public static final String FLAG_LABEL_PREFIX = "flag:";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Glob> repositories;
  private final List<Glob> branches;
  private final List<Glob> targets;
  private final Set<String> requiredLabels;
  private final Set<String> excludedLabels;
  private final boolean drafts;
  private final ForkMode forkMode;
  private final String forkLabel;
  private final boolean forkSecrets;
  private final int maxConcurrent;
  private final Duration ttl;
  private final Duration idleTimeout;
  private final Duration maxAge;
  private final Duration sleepAfter;
  private final String pinLabel;
  private final Map<String, Boolean> flags;

  private PreviewPolicy(Builder b) {
    this.repositories = b.repositories.stream().map(Glob::new).toList();
    this.branches = b.branches.stream().map(Glob::new).toList();
    this.targets = b.targets.stream().map(Glob::new).toList();
    this.requiredLabels = Set.copyOf(b.requiredLabels);
    this.excludedLabels = Set.copyOf(b.excludedLabels);
    this.drafts = b.drafts;
    this.forkMode = b.forkMode;
    this.forkLabel = b.forkLabel;
    this.forkSecrets = b.forkSecrets;
    this.maxConcurrent = b.maxConcurrent;
    this.ttl = b.ttl;
    this.idleTimeout = b.idleTimeout;
    this.maxAge = b.maxAge;
    this.sleepAfter = b.sleepAfter;
    this.pinLabel = b.pinLabel;
    this.flags = Map.copyOf(b.flags);
    List<String> problems = new ArrayList<>();
    check(problems, "ttl", ttl);
    check(problems, "idleTimeout", idleTimeout);
    check(problems, "maxAge", maxAge);
    check(problems, "sleepAfter", sleepAfter);
    if (maxConcurrent < 0) {
      problems.add("maxConcurrent must be >= 0 (0 = no limit), got " + maxConcurrent);
    }
    for (String f : flags.keySet()) {
      if (!f.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        problems.add("flag name \"" + f + "\" must be letters, digits, '_', '.', '-'");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems.stream().map(p -> "policy: " + p).toList());
    }
  }

  private static void check(List<String> problems, String name, Duration d) {
    if (d != null && (d.isNegative() || d.isZero())) {
      problems.add(name + " must be positive, got " + d);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Every PR except drafts; forks without secrets; no limits, no expiry. */
  public static PreviewPolicy defaults() {
    return builder().build();
  }

  /**
   * Decides whether {@code pr} gets a preview.
   *
   * @param activeOthers how many other previews exist now (for {@code maxConcurrent})
   */
  public Admission admit(PullRequest pr, int activeOthers) {
    Objects.requireNonNull(pr, "pr");
    if (!pr.isOpen()) {
      return Admission.skip("the PR is " + pr.state().name().toLowerCase(Locale.ROOT));
    }
    if (!repositories.isEmpty() && repositories.stream().noneMatch(g -> g.matches(pr.key().repository()))) {
      return Admission.skip("repository " + pr.key().repository() + " matches none of policy.repositories " + repositories);
    }
    if (pr.draft() && !drafts) {
      return Admission.skip("draft PRs get no preview (mark it ready for review, or set policy.drafts: true)");
    }
    if (!branches.isEmpty() && branches.stream().noneMatch(g -> g.matches(pr.headRef()))) {
      return Admission.skip("branch " + pr.headRef() + " matches none of policy.branches " + branches);
    }
    if (!targets.isEmpty() && targets.stream().noneMatch(g -> g.matches(pr.baseRef()))) {
      return Admission.skip("target branch " + pr.baseRef() + " matches none of policy.targets " + targets);
    }
    for (String l : excludedLabels) {
      if (pr.labels().contains(l)) {
        return Admission.skip("the PR has the label \"" + l + "\", which turns previews off");
      }
    }
    for (String l : requiredLabels) {
      if (!pr.labels().contains(l)) {
        return Admission.skip("the PR needs the label \"" + l + "\" for a preview");
      }
    }
    boolean secrets = true;
    String note = "";
    if (pr.fromFork()) {
      switch (forkMode) {
        case DENY:
          return Admission.skip("PRs from forks get no preview (policy.forks: deny)");
        case REQUIRE_LABEL:
          if (!pr.labels().contains(forkLabel)) {
            return Admission.skip("PRs from forks need a maintainer to add the label \"" + forkLabel + "\"");
          }
          break;
        default:
          break;
      }
      secrets = forkSecrets;
      if (!secrets) {
        note = "PR from a fork: deployed without secrets";
      }
    }
    if (maxConcurrent > 0 && activeOthers >= maxConcurrent) {
      return Admission.queue("all " + maxConcurrent + " preview slots are in use; queued until one frees up");
    }
    return Admission.deploy(secrets, note);
  }

  /**
   * The lifecycle labels to put on a preview's resources at a deploy. A deploy of a new revision (a
   * push, or the first deploy) counts as activity and extends the TTL; a re-apply of the revision
   * already running (label, draft or retarget events) keeps the last activity and expiry it had.
   *
   * @param existing the environment as found before this deploy, if any
   * @param pr the PR being deployed
   * @param now the current time
   */
  public Map<String, String> lifecycleLabels(Optional<Environment> existing, PullRequest pr, Instant now) {
    Map<String, String> m = new LinkedHashMap<>();
    Instant created = existing.flatMap(Environment::created).orElse(now);
    m.put(Labels.CREATED, created.toString());
    // Only a push (a new revision) is activity and extends the TTL; a label or draft event
    // re-applies the same revision and keeps the deadlines it had.
    boolean push = existing.map(e -> !pr.headSha().equals(e.revision())).orElse(true);
    Instant last = push ? now : existing.flatMap(Environment::lastActivity).orElse(now);
    m.put(Labels.LAST_ACTIVITY, last.toString());
    // last push and last visit apart, for the dashboard (unknown stays unknown)
    (push ? Optional.of(now) : existing.flatMap(e -> Labels.instant(e.labels(), Labels.LAST_PUSH)))
        .ifPresent(t -> m.put(Labels.LAST_PUSH, t.toString()));
    existing.flatMap(e -> Labels.instant(e.labels(), Labels.LAST_VISIT)).ifPresent(t -> m.put(Labels.LAST_VISIT, t.toString()));
    if (ttl != null) {
      Instant expires = push ? now.plus(ttl) : existing.flatMap(Environment::expires).orElse(now.plus(ttl));
      // an operator's extension (PreviewActions.extend) beyond what the push gives is kept
      Optional<Instant> extended = existing.flatMap(Environment::expires);
      if (push && extended.isPresent() && extended.get().isAfter(expires)) {
        expires = extended.get();
      }
      m.put(Labels.EXPIRES, expires.toString());
    }
    if (pinned(pr.labels())) {
      m.put(Labels.PINNED, "true");
    } else if (existing.map(e -> PINNED_BY_OPERATOR.equals(e.labels().get(Labels.PINNED))).orElse(false)) {
      m.put(Labels.PINNED, PINNED_BY_OPERATOR); // an operator's pin lasts until an operator unpins
    }
    return m;
  }

  /**
   * The value of {@link Labels#PINNED} that an operator's pin (dashboard, PR comment command) writes:
   * it holds whatever the PR's labels say, until an operator unpins. A pin by the PR's pin label is
   * {@code "true"} and goes with the label.
   */
  public static final String PINNED_BY_OPERATOR = "operator";

  /** Whether these PR labels pin the preview. */
  public boolean pinned(Set<String> prLabels) {
    return pinLabel != null && prLabels.contains(pinLabel);
  }

  /**
   * What the lifetime rules say about {@code env} at {@code now}.
   *
   * @param prLabels the PR's current labels if known (the pin label is looked up there first), else null
   */
  public Verdict evaluate(Environment env, Set<String> prLabels, Instant now) {
    String pin = env.labels().get(Labels.PINNED);
    boolean pinned = PINNED_BY_OPERATOR.equals(pin) || (prLabels != null ? pinned(prLabels) : "true".equals(pin));
    if (pinned) {
      return Verdict.KEEP;
    }
    Optional<Instant> expires = env.expires();
    if (ttl != null && expires.isPresent() && now.isAfter(expires.get())) {
      return new Verdict(Verdict.Action.EXPIRE, "its TTL ran out at " + expires.get() + " (no push since)");
    }
    Optional<Instant> created = env.created();
    if (maxAge != null && created.isPresent() && now.isAfter(created.get().plus(maxAge))) {
      return new Verdict(Verdict.Action.EXPIRE, "it is older than policy.maxAge " + human(maxAge));
    }
    Instant last = env.lastActivity().or(() -> created).orElse(null);
    if (idleTimeout != null && last != null && now.isAfter(last.plus(idleTimeout))) {
      return new Verdict(Verdict.Action.EXPIRE, "it was idle for more than " + human(idleTimeout));
    }
    if (sleepAfter != null && last != null && now.isAfter(last.plus(sleepAfter))
        && env.phase() == Environment.Phase.RUNNING) {
      return new Verdict(Verdict.Action.SLEEP, "it was idle for more than " + human(sleepAfter));
    }
    return Verdict.KEEP;
  }

  /**
   * The feature flags of {@code pr}'s preview: config values overridden by {@code flag:} labels. A
   * label matches a configured flag whatever its case, and keeps the configured spelling.
   */
  public Map<String, Boolean> flags(PullRequest pr) {
    Map<String, Boolean> out = new TreeMap<>(flags);
    for (String label : pr.labels()) {
      if (!label.startsWith(FLAG_LABEL_PREFIX)) {
        continue;
      }
      String spec = label.substring(FLAG_LABEL_PREFIX.length()).trim();
      boolean on = true;
      if (spec.startsWith("!")) {
        on = false;
        spec = spec.substring(1);
      }
      int eq = spec.indexOf('=');
      if (eq >= 0) {
        String v = spec.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
        on = !(v.equals("off") || v.equals("false") || v.equals("0") || v.equals("no"));
        spec = spec.substring(0, eq).trim();
      }
      if (spec.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        // Label names are case-insensitive on GitHub and both spellings would become one
        // FEATURE_ variable: flag:New-Checkout=off must override the configured new-checkout.
        String name = spec;
        for (String known : out.keySet()) {
          if (known.equalsIgnoreCase(spec)) {
            name = known;
            break;
          }
        }
        out.put(name, on);
      }
    }
    return out;
  }

  /**
   * The env vars that deliver {@code flags} to the app: {@code FEATURE_<NAME>=true|false} (name
   * upper-cased, other characters as {@code _}) and {@code PREVIEW_FLAGS} as a JSON object.
   */
  public static Map<String, String> flagEnv(Map<String, Boolean> flags) {
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, Boolean> sorted = new TreeMap<>(flags);
    sorted.forEach((name, on) -> env.put(
        "FEATURE_" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"), Boolean.toString(on)));
    try {
      env.put("PREVIEW_FLAGS", JSON.writeValueAsString(sorted));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return env;
  }

  private static String human(Duration d) {
    return d.toString().substring(2).toLowerCase(Locale.ROOT);
  }

  public int maxConcurrent() { return maxConcurrent; }
  /** The repositories served ({@code owner/name} globs); empty: every repository that sends events. */
  public List<String> repositories() { return repositories.stream().map(Glob::toString).toList(); }
  public Duration ttl() { return ttl; }
  public Duration idleTimeout() { return idleTimeout; }
  public Duration maxAge() { return maxAge; }
  public Duration sleepAfter() { return sleepAfter; }
  public String pinLabel() { return pinLabel; }
  public ForkMode forkMode() { return forkMode; }
  public Map<String, Boolean> configuredFlags() { return flags; }

  /** Builds a {@link PreviewPolicy}. */
  public static final class Builder {
    private final List<String> repositories = new ArrayList<>();
    private final List<String> branches = new ArrayList<>();
    private final List<String> targets = new ArrayList<>();
    private final Set<String> requiredLabels = new LinkedHashSet<>();
    private final Set<String> excludedLabels = new LinkedHashSet<>();
    private boolean drafts;
    private ForkMode forkMode = ForkMode.NO_SECRETS;
    private String forkLabel = "preview:fork-ok";
    private boolean forkSecrets;
    private int maxConcurrent;
    private Duration ttl;
    private Duration idleTimeout;
    private Duration maxAge;
    private Duration sleepAfter;
    private String pinLabel = "preview:pin";
    private final Map<String, Boolean> flags = new LinkedHashMap<>();

    private Builder() {}

    /** Only PRs of these repositories ({@code owner/name}; {@code *} within a segment, {@code **} across) get a preview. */
    public Builder repositories(List<String> globs) { repositories.addAll(globs); return this; }
    /** Head branch globs; none means every branch. */
    public Builder branches(List<String> globs) { branches.addAll(globs); return this; }
    /** Target branch globs; none means every target. */
    public Builder targets(List<String> globs) { targets.addAll(globs); return this; }
    public Builder requireLabels(Set<String> labels) { requiredLabels.addAll(labels); return this; }
    public Builder excludeLabels(Set<String> labels) { excludedLabels.addAll(labels); return this; }
    public Builder drafts(boolean allowed) { this.drafts = allowed; return this; }
    public Builder forks(ForkMode mode) { this.forkMode = Objects.requireNonNull(mode); return this; }
    public Builder forkLabel(String label) { this.forkLabel = Objects.requireNonNull(label); return this; }
    public Builder forkSecrets(boolean allowed) { this.forkSecrets = allowed; return this; }
    public Builder maxConcurrent(int n) { this.maxConcurrent = n; return this; }
    public Builder ttl(Duration d) { this.ttl = d; return this; }
    public Builder idleTimeout(Duration d) { this.idleTimeout = d; return this; }
    public Builder maxAge(Duration d) { this.maxAge = d; return this; }
    public Builder sleepAfter(Duration d) { this.sleepAfter = d; return this; }
    public Builder pinLabel(String label) { this.pinLabel = label; return this; }
    public Builder flag(String name, boolean on) { flags.put(name, on); return this; }
    public Builder flags(Map<String, Boolean> f) { flags.putAll(f); return this; }

    public PreviewPolicy build() {
      return new PreviewPolicy(this);
    }
  }
}
