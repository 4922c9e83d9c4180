package dev.preview.dns.route53;

import dev.preview.dns.internal.ConfigKeys;
import dev.preview.dns.internal.Ownership;
import dev.preview.dns.internal.Zones;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsProvider;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.route53.Route53Client;
import software.amazon.awssdk.services.route53.model.Change;
import software.amazon.awssdk.services.route53.model.ChangeAction;
import software.amazon.awssdk.services.route53.model.ChangeInfo;
import software.amazon.awssdk.services.route53.model.ChangeStatus;
import software.amazon.awssdk.services.route53.model.HostedZone;
import software.amazon.awssdk.services.route53.model.ListResourceRecordSetsResponse;
import software.amazon.awssdk.services.route53.model.RRType;
import software.amazon.awssdk.services.route53.model.ResourceRecord;
import software.amazon.awssdk.services.route53.model.ResourceRecordSet;
import software.amazon.awssdk.services.route53.model.Route53Exception;

/**
 * A {@link DnsProvider} on Amazon Route 53 (AWS SDK v2, JDK URLConnection HTTP client).
 *
 * <p>Ownership: as external-dns does, a TXT record beside each hostname {@code h}, at
 * {@code _preview.h}, holds {@code "heritage=preview,preview.dev/key=<key>,preview.dev/instance=<name>"}
 * (a separate name, since a CNAME may share its name with nothing). {@link #list()} returns only the
 * records whose mark names this {@linkplain Builder#installation installation}; {@link #delete} and
 * {@link #upsert} never touch a name marked by another installation (or by an earlier version that
 * wrote no instance). Records get the TTL each {@link DnsRecord} carries (the installation's
 * {@code dns.ttl}). Each upsert or delete is one change batch holding the
 * record and its mark, so Route 53 applies both or neither; new names use {@code CREATE} and deletes
 * name the exact values read, so a concurrent writer makes the batch fail instead of being
 * overwritten.
 *
 * <p>Throttling ({@code Throttling}, {@code PriorRequestNotComplete}) is retried with exponential
 * backoff by the SDK's standard retry strategy. With {@code waitForSync}, upsert and delete return
 * once Route 53 reports the change {@code INSYNC} on all its name servers.
 *
 * <p>Thread-safe.
 */
public final class Route53DnsProvider implements DnsProvider {
  private static final Logger LOG = LoggerFactory.getLogger(Route53DnsProvider.class);
  private static final Set<RRType> ADDRESS_TYPES = Set.of(RRType.A, RRType.AAAA, RRType.CNAME);

  private final Route53Client client;
  private final String zoneName;
  private final String configuredZoneId;
  private final Boolean privateZone;
  private final boolean adopt;
  private final String txtPrefix;
  private final Ownership ownership;
  private final boolean waitForSync;
  private final Duration syncPollInterval;
  private final Duration syncTimeout;
  private final AtomicLong calls = new AtomicLong();
  private volatile String zoneId;

  private Route53DnsProvider(Builder b) {
    this.zoneName = Zones.normalize(b.zone);
    this.configuredZoneId = b.hostedZoneId == null || b.hostedZoneId.isBlank() ? null : stripZonePrefix(b.hostedZoneId.trim());
    this.zoneId = configuredZoneId;
    this.privateZone = b.privateZone;
    this.adopt = b.adopt;
    this.txtPrefix = b.txtPrefix;
    this.ownership = Ownership.of(b.installation.instance());
    this.waitForSync = b.waitForSync;
    this.syncPollInterval = b.syncPollInterval;
    this.syncTimeout = b.syncTimeout;

    AwsCredentialsProvider credentials = b.accessKeyId == null
        ? DefaultCredentialsProvider.builder().build()
        : StaticCredentialsProvider.create(b.sessionToken == null
            ? AwsBasicCredentials.create(b.accessKeyId, b.secretAccessKey.reveal())
            : AwsSessionCredentials.create(b.accessKeyId, b.secretAccessKey.reveal(), b.sessionToken.reveal()));
    StandardRetryStrategy.Builder retry = AwsRetryStrategy.standardRetryStrategy().toBuilder()
        .maxAttempts(b.maxAttempts)
        .circuitBreakerEnabled(false)
        .backoffStrategy(BackoffStrategy.exponentialDelay(b.retryBaseDelay, b.maxRetryDelay))
        .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(b.throttleBaseDelay, b.maxRetryDelay))
        // Route 53 answers a change it is still applying for the zone with 400 PriorRequestNotComplete
        .retryOnException(Route53DnsProvider::priorRequestNotComplete)
        .treatAsThrottling(Route53DnsProvider::priorRequestNotComplete);
    var builder = Route53Client.builder()
        .region(Region.of(b.region))
        .credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(b.timeout).build())
        .overrideConfiguration(c -> c.retryStrategy(retry.build()).addExecutionInterceptor(new ExecutionInterceptor() {
          @Override
          public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            calls.incrementAndGet();
          }
        }));
    if (b.endpoint != null) {
      builder.endpointOverride(URI.create(b.endpoint));
    }
    this.client = builder.build();
  }

  private static boolean priorRequestNotComplete(Throwable t) {
    return t instanceof Route53Exception e && e.awsErrorDetails() != null
        && "PriorRequestNotComplete".equals(e.awsErrorDetails().errorCode());
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "route53";
  }

  /** HTTP requests sent so far, retries included, for measurements. */
  public long apiCalls() {
    return calls.get();
  }

  @Override
  public void upsert(DnsRecord record) {
    String host = Zones.requireInside(record.hostname(), zoneName);
    String ownerName = Zones.ownerName(txtPrefix, host);
    String zone = zoneId();
    Map<String, List<ResourceRecordSet>> sets = setsAt(zone, host, ownerName);
    List<ResourceRecordSet> targets = sets.get(host).stream().filter(s -> ADDRESS_TYPES.contains(s.type())).toList();
    List<ResourceRecordSet> marks = sets.get(ownerName).stream().filter(s -> s.type() == RRType.TXT).toList();
    String mark = ownership.mark(record.owner());

    if (!marks.isEmpty()) {
      checkOwnedBy(host, ownerName, marks.get(0), record.owner());
    } else if (!targets.isEmpty() && !adopt) {
      throw Ownership.foreignRecords(name(), host, describe(targets));
    }

    RRType type = RRType.fromValue(record.type().name());
    ResourceRecordSet desired = ResourceRecordSet.builder().name(host + ".").type(type)
        .ttl((long) record.ttlSeconds())
        .resourceRecords(ResourceRecord.builder().value(Zones.absoluteValue(record)).build()).build();
    List<Change> changes = new ArrayList<>();
    ResourceRecordSet sameType = null;
    for (ResourceRecordSet s : targets) {
      if (s.type() == type) {
        sameType = s;
      } else {
        changes.add(change(ChangeAction.DELETE, s)); // a CNAME cannot sit beside the A it replaces
      }
    }
    if (sameType == null) {
      changes.add(change(ChangeAction.CREATE, desired));
    } else if (!same(sameType, desired)) {
      changes.add(change(ChangeAction.UPSERT, desired));
    }
    if (marks.isEmpty()) {
      changes.add(change(ChangeAction.CREATE, txt(ownerName, mark)));
    } else if (!quotedValues(marks.get(0)).equals(List.of(quote(mark)))) {
      changes.add(change(ChangeAction.DELETE, marks.get(0)));
      changes.add(change(ChangeAction.CREATE, txt(ownerName, mark)));
    }
    if (changes.isEmpty()) {
      return;
    }
    apply(zone, changes, "upsert " + record.type() + " " + host);
  }

  private void checkOwnedBy(String host, String ownerName, ResourceRecordSet markSet, PreviewKey expected) {
    List<String> values = quotedValues(markSet);
    Optional<Ownership.Owner> owner = values.size() == 1 ? Ownership.parse(unquote(values.get(0))) : Optional.empty();
    if (owner.isEmpty()) {
      throw new ProviderException(name(), host + " is marked by a TXT record at " + ownerName
          + " that preview did not write. Remove it or use another hostname.", false);
    }
    if (!ownership.isMine(owner.get())) {
      throw ownership.ownedByOtherInstallation(name(), host, owner.get(), "the TXT record " + ownerName);
    }
    if (!owner.get().key().equals(expected)) {
      throw Ownership.ownedByOtherPreview(name(), host, owner.get(), expected);
    }
  }

  @Override
  public void delete(String hostname) {
    deleteOwned(hostname, null);
  }

  /** Deletes the name only while its ownership TXT names {@code owner}; another preview's name is left alone. */
  @Override
  public void delete(String hostname, PreviewKey owner) {
    deleteOwned(hostname, Objects.requireNonNull(owner, "owner"));
  }

  private void deleteOwned(String hostname, PreviewKey key) {
    String host = Zones.requireInside(Zones.normalize(hostname), zoneName);
    String ownerName = Zones.ownerName(txtPrefix, host);
    String zone = zoneId();
    Map<String, List<ResourceRecordSet>> sets = setsAt(zone, host, ownerName);
    List<ResourceRecordSet> marks = sets.get(ownerName).stream().filter(s -> s.type() == RRType.TXT).toList();
    if (marks.isEmpty()) {
      LOG.debug("route53: nothing owned at {}", host);
      return;
    }
    List<String> values = quotedValues(marks.get(0));
    Optional<Ownership.Owner> owner = values.size() == 1 ? Ownership.parse(unquote(values.get(0))) : Optional.empty();
    if (owner.isEmpty() || !ownership.isMine(owner.get())) {
      LOG.warn("route53: not deleting {}: its ownership TXT {} is not this installation's", host, ownerName);
      return;
    }
    if (key != null && !owner.get().key().equals(key)) {
      LOG.warn("route53: not deleting {} for {}: it belongs to {}", host, key, owner.get().key());
      return;
    }
    List<Change> changes = new ArrayList<>();
    for (ResourceRecordSet s : sets.get(host)) {
      if (ADDRESS_TYPES.contains(s.type())) {
        changes.add(change(ChangeAction.DELETE, s));
      }
    }
    changes.add(change(ChangeAction.DELETE, marks.get(0)));
    apply(zone, changes, "delete " + host);
  }

  /** Route 53's limits per ChangeResourceRecordSets request: ResourceRecord elements, and characters of all values. */
  static final int MAX_BATCH_RECORDS = 1_000;
  static final int MAX_BATCH_CHARS = 32_000;

  /**
   * Deletes many names in as few change batches as Route 53's limits allow ({@value #MAX_BATCH_RECORDS}
   * records, {@value #MAX_BATCH_CHARS} characters of values per request), without reading the zone
   * again: each name's records and its ownership TXT are deleted with the exact values listed, and a
   * DELETE must match what is there, so a batch in which one name changed since it was listed (another
   * owner's mark now, another value) fails as a whole and nothing in it is deleted. That batch is then
   * done again name by name, each read and checked as {@link #delete(String, PreviewKey)} does.
   */
  @Override
  public void deleteAll(java.util.Collection<DnsRecord> records) {
    Map<String, List<DnsRecord>> byHost = new LinkedHashMap<>();
    for (DnsRecord r : records) {
      byHost.computeIfAbsent(Zones.requireInside(Zones.normalize(r.hostname()), zoneName), k -> new ArrayList<>()).add(r);
    }
    if (byHost.isEmpty()) {
      return;
    }
    String zone = zoneId();
    List<Map.Entry<String, PreviewKey>> batchHosts = new ArrayList<>();
    List<Change> batch = new ArrayList<>();
    int[] size = new int[2]; // records, characters
    for (Map.Entry<String, List<DnsRecord>> e : byHost.entrySet()) {
      String host = e.getKey();
      PreviewKey owner = e.getValue().get(0).owner();
      if (e.getValue().stream().anyMatch(r -> !r.owner().equals(owner))) {
        LOG.warn("route53: {} was listed with several owners; deleting it on its own", host);
        deleteOwned(host, owner);
        continue;
      }
      List<Change> changes = deletions(host, e.getValue());
      int recs = changes.stream().mapToInt(c -> c.resourceRecordSet().resourceRecords().size()).sum();
      int chars = changes.stream().flatMap(c -> c.resourceRecordSet().resourceRecords().stream()).mapToInt(r -> r.value().length()).sum();
      if (!batch.isEmpty() && (size[0] + recs > MAX_BATCH_RECORDS || size[1] + chars > MAX_BATCH_CHARS)) {
        applyBatch(zone, batch, batchHosts);
        batch = new ArrayList<>();
        batchHosts = new ArrayList<>();
        size[0] = 0;
        size[1] = 0;
      }
      batch.addAll(changes);
      batchHosts.add(Map.entry(host, owner));
      size[0] += recs;
      size[1] += chars;
    }
    if (!batch.isEmpty()) {
      applyBatch(zone, batch, batchHosts);
    }
  }

  /** The DELETE changes of one listed name: its record sets with the values listed, and its mark. */
  private List<Change> deletions(String host, List<DnsRecord> listed) {
    Map<DnsRecord.Type, List<DnsRecord>> byType = new LinkedHashMap<>();
    listed.forEach(r -> byType.computeIfAbsent(r.type(), t -> new ArrayList<>()).add(r));
    List<Change> changes = new ArrayList<>();
    byType.forEach((type, rs) -> changes.add(change(ChangeAction.DELETE, ResourceRecordSet.builder().name(host + ".")
        .type(RRType.fromValue(type.name())).ttl((long) rs.get(0).ttlSeconds())
        .resourceRecords(rs.stream().map(r -> ResourceRecord.builder().value(Zones.absoluteValue(r)).build()).toList()).build())));
    changes.add(change(ChangeAction.DELETE, txt(Zones.ownerName(txtPrefix, host), ownership.mark(listed.get(0).owner()))));
    return changes;
  }

  private void applyBatch(String zone, List<Change> changes, List<Map.Entry<String, PreviewKey>> hosts) {
    if (hosts.size() == 1) {
      deleteOwned(hosts.get(0).getKey(), hosts.get(0).getValue());
      return;
    }
    try {
      apply(zone, changes, "delete " + hosts.size() + " names");
    } catch (ProviderException e) {
      if (e.retryable()) {
        throw e;
      }
      // InvalidChangeBatch: some name is not as listed any more; nothing of the batch was applied
      LOG.info("route53: a batch of {} deletions was refused ({}); deleting them one by one", hosts.size(), e.getMessage());
      for (Map.Entry<String, PreviewKey> h : hosts) {
        deleteOwned(h.getKey(), h.getValue());
      }
    }
  }

  @Override
  public List<DnsRecord> list() {
    String zone = zoneId();
    Map<String, List<ResourceRecordSet>> byName = new LinkedHashMap<>();
    String start = null;
    RRType startType = null;
    while (true) {
      String from = start;
      RRType fromType = startType;
      ListResourceRecordSetsResponse page = call("list records of " + zoneName, () -> client.listResourceRecordSets(r -> {
        r.hostedZoneId(zone).maxItems("300");
        if (from != null) {
          r.startRecordName(from).startRecordType(fromType);
        }
      }));
      for (ResourceRecordSet s : page.resourceRecordSets()) {
        byName.computeIfAbsent(Zones.normalize(s.name()), k -> new ArrayList<>()).add(s);
      }
      if (!Boolean.TRUE.equals(page.isTruncated())) {
        break;
      }
      start = page.nextRecordName();
      startType = page.nextRecordType();
    }
    List<DnsRecord> out = new ArrayList<>();
    byName.forEach((name, sets) -> {
      String host = Zones.hostnameOfOwnerName(txtPrefix, name);
      if (host == null) {
        return;
      }
      for (ResourceRecordSet mark : sets) {
        List<String> values = mark.type() == RRType.TXT ? quotedValues(mark) : List.of();
        Optional<PreviewKey> key = values.size() == 1 ? ownership.ownerIfMine(unquote(values.get(0))) : Optional.empty();
        if (key.isEmpty()) {
          continue;
        }
        for (ResourceRecordSet t : byName.getOrDefault(host, List.of())) {
          if (!ADDRESS_TYPES.contains(t.type()) || !t.hasResourceRecords()) {
            continue;
          }
          for (ResourceRecord rr : t.resourceRecords()) {
            String v = t.type() == RRType.AAAA ? Zones.ipv6(rr.value()) : Zones.normalize(rr.value());
            int ttl = t.ttl() == null ? 1 : (int) Math.max(1, t.ttl());
            out.add(new DnsRecord(host, DnsRecord.Type.valueOf(t.typeAsString()), v, ttl, key.get()));
          }
        }
      }
    });
    return List.copyOf(out);
  }

  /**
   * The record sets at {@code host} and at its mark {@code ownerName}. Route 53 lists names in
   * reversed-label order, so a name's subtree (where the mark lives) follows the name itself: page
   * from {@code host} until the listing leaves that subtree.
   */
  private Map<String, List<ResourceRecordSet>> setsAt(String zone, String host, String ownerName) {
    Map<String, List<ResourceRecordSet>> out = new LinkedHashMap<>();
    out.put(host, new ArrayList<>());
    out.put(ownerName, new ArrayList<>());
    String start = host;
    RRType startType = null;
    while (true) {
      String from = start;
      RRType fromType = startType;
      ListResourceRecordSetsResponse page = call("read records of " + host, () -> client.listResourceRecordSets(r -> {
        r.hostedZoneId(zone).startRecordName(from).maxItems("20");
        if (fromType != null) {
          r.startRecordType(fromType);
        }
      }));
      boolean left = false;
      for (ResourceRecordSet s : page.resourceRecordSets()) {
        String n = Zones.normalize(s.name());
        if (out.containsKey(n)) {
          out.get(n).add(s);
        } else if (!n.endsWith("." + host)) {
          left = true;
        }
      }
      if (left || !Boolean.TRUE.equals(page.isTruncated())) {
        return out;
      }
      start = page.nextRecordName();
      startType = page.nextRecordType();
    }
  }

  private void apply(String zone, List<Change> changes, String what) {
    ChangeInfo info = call(what, () -> client.changeResourceRecordSets(r -> r.hostedZoneId(zone)
        .changeBatch(b -> b.comment("preview: " + what).changes(changes)))).changeInfo();
    if (waitForSync) {
      waitInSync(info, what);
    }
  }

  private void waitInSync(ChangeInfo info, String what) {
    Instant deadline = Instant.now().plus(syncTimeout);
    ChangeInfo current = info;
    while (current.status() != ChangeStatus.INSYNC) {
      if (Instant.now().isAfter(deadline)) {
        throw new ProviderException(name(), what + ": change " + info.id() + " still " + current.statusAsString()
            + " after " + syncTimeout.toSeconds() + " s (syncTimeout); it was accepted and will apply", true);
      }
      try {
        Thread.sleep(syncPollInterval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ProviderException(name(), what + ": interrupted while waiting for INSYNC", true, e);
      }
      String id = info.id();
      current = call("get change " + id, () -> client.getChange(r -> r.id(id))).changeInfo();
    }
  }

  private String zoneId() {
    String id = zoneId;
    if (id != null) {
      return id;
    }
    List<HostedZone> zones = call("look up hosted zone " + zoneName,
        () -> client.listHostedZonesByName(r -> r.dnsName(zoneName).maxItems("10"))).hostedZones();
    List<HostedZone> matching = zones.stream()
        .filter(z -> zoneName.equals(Zones.normalize(z.name())))
        .filter(z -> privateZone == null || z.config() == null
            || privateZone.equals(z.config().privateZone()))
        .collect(Collectors.toList());
    if (matching.isEmpty()) {
      throw new ProviderException(name(), "hosted zone " + zoneName + (privateZone == null ? "" : privateZone
          ? " (private)" : " (public)") + " not found: check the zone name and that the credentials may call"
          + " route53:ListHostedZonesByName (or set hostedZoneId).", false);
    }
    if (matching.size() > 1) {
      throw new ProviderException(name(), "several hosted zones are named " + zoneName + " ("
          + matching.stream().map(z -> stripZonePrefix(z.id())).collect(Collectors.joining(", "))
          + "): set hostedZoneId, or privateZone: true/false.", false);
    }
    zoneId = stripZonePrefix(matching.get(0).id());
    return zoneId;
  }

  private <T> T call(String what, java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (Route53Exception e) {
      throw Route53Errors.map(name(), what, e, zoneName);
    } catch (SdkClientException e) {
      throw new ProviderException(name(), what + ": " + e.getMessage(), true, e);
    } catch (SdkException e) {
      throw new ProviderException(name(), what + ": " + e.getMessage(), e.retryable(), e);
    }
  }

  private static Change change(ChangeAction action, ResourceRecordSet set) {
    return Change.builder().action(action).resourceRecordSet(set).build();
  }

  private static ResourceRecordSet txt(String name, String text) {
    return ResourceRecordSet.builder().name(name + ".").type(RRType.TXT).ttl(300L)
        .resourceRecords(ResourceRecord.builder().value(quote(text)).build()).build();
  }

  private static boolean same(ResourceRecordSet a, ResourceRecordSet b) {
    return Objects.equals(a.ttl(), b.ttl()) && a.hasResourceRecords()
        && a.resourceRecords().stream().map(r -> Zones.normalize(r.value())).toList()
            .equals(b.resourceRecords().stream().map(r -> Zones.normalize(r.value())).toList());
  }

  private static List<String> quotedValues(ResourceRecordSet s) {
    return s.hasResourceRecords() ? s.resourceRecords().stream().map(ResourceRecord::value).toList() : List.of();
  }

  /**
   * Route 53 TXT values are character-strings in quotes, at most 255 characters each; our marks hold
   * no quote or backslash. A longer mark (a long branch key) is several strings in one value.
   */
  private static String quote(String text) {
    return "\"" + String.join("\" \"", Ownership.txtStrings(text)) + "\"";
  }

  private static String unquote(String value) {
    String v = value.trim();
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    return v.replace("\" \"", "").replace("\\\"", "\"");
  }

  private static String describe(List<ResourceRecordSet> sets) {
    return sets.stream().map(s -> s.typeAsString() + " " + (s.aliasTarget() != null
        ? "alias " + s.aliasTarget().dnsName()
        : String.join(" ", quotedValues(s)))).collect(Collectors.joining(", "));
  }

  static String stripZonePrefix(String id) {
    return id.startsWith("/hostedzone/") ? id.substring("/hostedzone/".length()) : id;
  }

  @Override
  public void close() {
    client.close();
  }

  @Override
  public String toString() {
    return "Route53DnsProvider{zone=" + zoneName + (zoneId == null ? "" : ", id=" + zoneId) + "}";
  }

  /** Builds a {@link Route53DnsProvider}; {@link #build()} reports every invalid value at once. */
  public static final class Builder {
    private String zone;
    private String hostedZoneId;
    private Boolean privateZone;
    private String accessKeyId;
    private Secret secretAccessKey;
    private Secret sessionToken;
    private String endpoint;
    private String region = "us-east-1";
    private boolean adopt;
    private String txtPrefix = "_preview";
    private Installation installation = Installation.defaults();
    private boolean waitForSync;
    private Duration syncPollInterval = Duration.ofSeconds(5);
    private Duration syncTimeout = Duration.ofMinutes(5);
    private Duration timeout = Duration.ofSeconds(30);
    private int maxAttempts = 8;
    private Duration retryBaseDelay = Duration.ofMillis(100);
    private Duration throttleBaseDelay = Duration.ofSeconds(1);
    private Duration maxRetryDelay = Duration.ofSeconds(20);

    private Builder() {}

    /** The hosted zone's DNS name, e.g. {@code preview.example.com} (required). */
    public Builder zone(String zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /** The hosted zone id ({@code Z1D633PJN98FT9} or {@code /hostedzone/Z1D633PJN98FT9}), to skip the lookup by name. */
    public Builder hostedZoneId(String hostedZoneId) {
      this.hostedZoneId = hostedZoneId;
      return this;
    }

    /** Pick the private (true) or public (false) zone when both have the name. Default: whichever exists. */
    public Builder privateZone(Boolean privateZone) {
      this.privateZone = privateZone;
      return this;
    }

    /** Explicit credentials; without them the SDK's default chain is used (env, profile, web identity, container, instance). */
    public Builder credentials(String accessKeyId, Secret secretAccessKey, Secret sessionToken) {
      this.accessKeyId = Objects.requireNonNull(accessKeyId, "accessKeyId");
      this.secretAccessKey = Objects.requireNonNull(secretAccessKey, "secretAccessKey");
      this.sessionToken = sessionToken;
      return this;
    }

    /** Another API endpoint (a proxy, a test server). */
    public Builder endpoint(String endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    /**
     * The signing region: {@code us-east-1} (default) for Route 53's global endpoint; {@code cn-northwest-1}
     * in China, {@code us-gov-west-1} in GovCloud.
     */
    public Builder region(String region) {
      this.region = Objects.requireNonNull(region, "region");
      return this;
    }

    /** Take over records at a hostname that nobody marked as owned (default false: that is an error). */
    public Builder adopt(boolean adopt) {
      this.adopt = adopt;
      return this;
    }

    /** First label of the ownership TXT name (default {@code _preview}). */
    public Builder txtPrefix(String txtPrefix) {
      this.txtPrefix = Objects.requireNonNull(txtPrefix, "txtPrefix");
      return this;
    }

    /**
     * The installation the records belong to (its instance is written in every mark; only its own
     * records are listed and deleted). Default {@link Installation#defaults()}.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    /** Wait until Route 53 reports each change INSYNC, polling every {@code pollInterval}, at most {@code timeout}. */
    public Builder waitForSync(boolean waitForSync, Duration pollInterval, Duration timeout) {
      this.waitForSync = waitForSync;
      this.syncPollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
      this.syncTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Attempts per call (default 8), and the first backoff for errors (100 ms) and for throttling (1 s), doubling up to {@code max} (20 s). */
    public Builder retries(int maxAttempts, Duration baseDelay, Duration throttleBaseDelay, Duration max) {
      this.maxAttempts = maxAttempts;
      this.retryBaseDelay = Objects.requireNonNull(baseDelay, "baseDelay");
      this.throttleBaseDelay = Objects.requireNonNull(throttleBaseDelay, "throttleBaseDelay");
      this.maxRetryDelay = Objects.requireNonNull(max, "max");
      return this;
    }

    /** @throws ConfigurationException naming every invalid value and how to fix it */
    public Route53DnsProvider build() {
      List<String> problems = new ArrayList<>();
      if (zone == null || zone.isBlank()) {
        problems.add("zone: is required (the hosted zone's DNS name, e.g. preview.example.com)");
      }
      if (region.isBlank()) {
        problems.add("region: must not be empty (us-east-1 for Route 53's global endpoint)");
      }
      if (endpoint != null) {
        try {
          URI u = URI.create(endpoint);
          if (u.getScheme() == null || u.getHost() == null) {
            problems.add("endpoint: must be an absolute http or https URL, got \"" + endpoint + "\"");
          }
        } catch (IllegalArgumentException e) {
          problems.add("endpoint: must be an absolute http or https URL, got \"" + endpoint + "\"");
        }
      }
      if (!txtPrefix.matches("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")) {
        problems.add("txtPrefix: must be one DNS label (letters, digits, '_' or '-', at most 63), got \"" + txtPrefix + "\"");
      }
      if (maxAttempts < 1 || maxAttempts > 50) {
        problems.add("maxAttempts: must be 1-50, got " + maxAttempts);
      }
      positive(problems, "timeout", timeout);
      positive(problems, "syncPollInterval", syncPollInterval);
      positive(problems, "syncTimeout", syncTimeout);
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new Route53DnsProvider(this);
    }

    private static void positive(List<String> problems, String name, Duration d) {
      if (d.isZero() || d.isNegative()) {
        problems.add(name + ": must be positive, got " + d);
      }
    }
  }

  /** Creates {@link Route53DnsProvider}s from {@code dns: {provider: route53, ...}}. */
  public static final class Factory implements DnsProvider.Factory {
    @Override
    public String name() {
      return "route53";
    }

    @Override
    public DnsProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      ConfigKeys.instanceIsTopLevel(config);
      ConfigKeys.renamed(config, "hostedZoneId", "txtPrefix", "waitForSync", "syncPollInterval", "syncTimeout",
          "maxAttempts", "retryBaseDelay", "throttleBaseDelay", "maxRetryDelay", "privateZone", "accessKeyId",
          "secretAccessKey", "sessionToken");
      String zone = config.requiredString("zone");
      Builder b = builder()
          .hostedZoneId(config.string("hostedZoneId").orElse(null))
          .endpoint(config.string("endpoint").orElse(null))
          .region(config.string("region", "us-east-1"))
          .adopt(config.bool("adopt", false))
          .txtPrefix(config.string("txtPrefix", "_preview"))
          .installation(context.installation())
          .waitForSync(config.bool("waitForSync", false), config.duration("syncPollInterval", Duration.ofSeconds(5)),
              config.duration("syncTimeout", Duration.ofMinutes(5)))
          .timeout(config.duration("timeout", Duration.ofSeconds(30)))
          .retries(config.integer("maxAttempts", 8, 1, 50), config.duration("retryBaseDelay", Duration.ofMillis(100)),
              config.duration("throttleBaseDelay", Duration.ofSeconds(1)),
              config.duration("maxRetryDelay", Duration.ofSeconds(20)));
      if (config.has("privateZone")) {
        b.privateZone(config.bool("privateZone", false));
      }
      Optional<String> keyId = config.string("accessKeyId");
      Optional<Secret> secret = config.secret("secretAccessKey");
      Optional<Secret> session = config.secret("sessionToken");
      if (keyId.isPresent() != secret.isPresent()) {
        config.problem(keyId.isPresent() ? "secretAccessKey" : "accessKeyId",
            "is required when " + (keyId.isPresent() ? "accessKeyId" : "secretAccessKey") + " is set"
                + " (or leave both out to use the default credential chain)");
      } else if (keyId.isPresent()) {
        b.credentials(keyId.get(), secret.get(), session.orElse(null));
      } else if (session.isPresent()) {
        config.problem("sessionToken", "needs accessKeyId and secretAccessKey");
      }
      config.validate();
      return config.build(() -> b.zone(zone).build());
    }
  }
}
