package dev.preview.spi;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The values that belong to a whole installation of preview, not to one provider: its name (the
 * {@link Labels#INSTANCE} label on everything it creates), the clock, the rule that forms every
 * preview's hostname, and where DNS records point with which TTL.
 *
 * <p>Written once (in {@code preview.yaml}: top-level {@code instance}, {@code app.hostname},
 * {@code dns.target}, {@code dns.ttl}) and handed to every provider through its
 * {@link ProviderContext}, so that no provider re-reads or re-derives them. Several installations
 * may share one Docker host, cluster, DNS zone or database server: a provider's {@code list()} and
 * {@code find()} see only the resources whose labels {@link #owns} accepts, so one installation
 * never lists, expires or deletes another's.
 *
 * <p>Immutable and thread-safe.
 */
public final class Installation {
  /** The instance name when none is configured. */
  public static final String DEFAULT_INSTANCE = "default";
  /** The DNS TTL when none is configured, in seconds. */
  public static final int DEFAULT_DNS_TTL = 60;
  /** The largest DNS TTL accepted, in seconds (one day). */
  public static final int MAX_DNS_TTL = 86_400;
  /** What an instance name may be: a valid label value on every platform (Kubernetes' rules). */
  public static final Pattern INSTANCE_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?");

  private static final Installation DEFAULTS = builder().build();

  private final String instance;
  private final Clock clock;
  private final Function<PreviewKey, Optional<String>> hostnames;
  private final @Nullable String dnsTarget;
  private final int dnsTtl;

  private Installation(Builder b) {
    this.instance = b.instance;
    this.clock = b.clock;
    this.hostnames = b.hostnames;
    this.dnsTarget = b.dnsTarget;
    this.dnsTtl = b.dnsTtl;
  }

  /** Instance {@code default}, the system clock, no hostnames, no DNS target, TTL 60 s. */
  public static Installation defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this installation's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.instance = instance;
    b.clock = clock;
    b.hostnames = hostnames;
    b.dnsTarget = dnsTarget;
    b.dnsTtl = dnsTtl;
    return b;
  }

  /** The installation's name; never null ({@value #DEFAULT_INSTANCE} when none was set). */
  public String instance() {
    return instance;
  }

  /**
   * Whether this is the {@value #DEFAULT_INSTANCE} installation, whose generated names are those of
   * earlier versions (see {@link Names}).
   */
  public boolean isDefault() {
    return DEFAULT_INSTANCE.equals(instance);
  }

  /** The clock every deadline and timestamp is computed with. */
  public Clock clock() {
    return clock;
  }

  /**
   * The hostname {@code key}'s preview answers on, formed by the one hostname rule of the
   * installation ({@code app.hostname}); empty when there is no rule (the provider picks the URL).
   */
  public Optional<String> hostname(PreviewKey key) {
    return hostnames.apply(Objects.requireNonNull(key, "key"));
  }

  /** Where preview hostnames point (an IP for A/AAAA records, a name for CNAME); empty: the environment URL's host. */
  public Optional<String> dnsTarget() {
    return Optional.ofNullable(dnsTarget);
  }

  /** The TTL of preview DNS records, in seconds (1 to {@value #MAX_DNS_TTL}). */
  public int dnsTtl() {
    return dnsTtl;
  }

  /**
   * The labels that mark a resource as owned by {@code key}'s preview at {@code revision} in this
   * installation: {@link Labels#ownership} plus {@link Labels#INSTANCE}.
   */
  public Map<String, String> ownershipLabels(PreviewKey key, @Nullable String revision) {
    Map<String, String> m = new LinkedHashMap<>(Labels.ownership(key, revision));
    m.put(Labels.INSTANCE, instance);
    return m;
  }

  /**
   * The labels to select this installation's resources with: {@code managed=true} and
   * {@code instance=<name>}. A resource without an instance label belongs to no installation and is
   * never selected (it is not provably ours).
   */
  public Map<String, String> selector() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(Labels.MANAGED, "true");
    m.put(Labels.INSTANCE, instance);
    return m;
  }

  /** Whether {@code labels} mark a managed resource of THIS installation (exact instance match). */
  public boolean owns(Map<String, String> labels) {
    return Labels.isManaged(labels) && instance.equals(labels.get(Labels.INSTANCE));
  }

  @Override
  public String toString() {
    return "Installation{instance=" + instance + ", dnsTarget=" + dnsTarget + ", dnsTtl=" + dnsTtl + "}";
  }

  /** Builds an {@link Installation}; {@link #build()} reports every invalid value at once. */
  public static final class Builder {
    private String instance = DEFAULT_INSTANCE;
    private Clock clock = Clock.systemUTC();
    private Function<PreviewKey, Optional<String>> hostnames = k -> Optional.empty();
    private @Nullable String dnsTarget;
    private int dnsTtl = DEFAULT_DNS_TTL;

    private Builder() {}

    /** The installation's name: 1-63 of letters, digits, {@code _ . -}, starting and ending alphanumeric. */
    public Builder instance(String name) {
      this.instance = Objects.requireNonNull(name, "instance");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The one rule that forms preview hostnames (usually {@code app::hostname}); returns empty for none. */
    public Builder hostnames(Function<PreviewKey, Optional<String>> rule) {
      this.hostnames = Objects.requireNonNull(rule, "hostnames");
      return this;
    }

    /** Where preview hostnames point; null for the environment URL's host. */
    public Builder dnsTarget(@Nullable String target) {
      this.dnsTarget = target == null || target.isBlank() ? null : target.trim();
      return this;
    }

    /** The TTL of preview DNS records, 1 to {@value #MAX_DNS_TTL} seconds. */
    public Builder dnsTtl(int seconds) {
      this.dnsTtl = seconds;
      return this;
    }

    /** @throws ConfigurationException naming every invalid value and how to fix it */
    public Installation build() {
      List<String> problems = new ArrayList<>();
      if (!INSTANCE_NAME.matcher(instance).matches()) {
        problems.add("instance: must be 1-63 letters, digits, '_', '.' or '-', starting and ending with a letter"
            + " or digit, got \"" + instance + "\"");
      }
      if (dnsTtl < 1 || dnsTtl > MAX_DNS_TTL) {
        problems.add("dns.ttl: must be 1-" + MAX_DNS_TTL + " seconds, got " + dnsTtl);
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new Installation(this);
    }
  }
}
