package dev.preview.dns.cloudflare;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.ResponseBody;
import retrofit2.Call;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.jackson.JacksonConverterFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link DnsProvider} over the Cloudflare API v4 with an API token.
 *
 * <p>Ownership lives in each record's comment:
 * {@code heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=default}. Comments are
 * limited to 100 characters on the Free plan (500 on paid plans): see {@link Builder#maxCommentLength}.
 * {@link #list()} returns only the records whose comment names this
 * {@linkplain Builder#installation installation}; {@link #delete} and {@link #upsert} never touch a
 * record marked by another installation (or by an earlier version that wrote no instance). The zone
 * id is looked up by name once and cached.
 *
 * <p>Records get the TTL each {@link DnsRecord} carries (the installation's {@code dns.ttl}), which
 * Cloudflare accepts as 1 (automatic) or {@value #MIN_TTL}-86400 seconds; proxied records are
 * always automatic.
 *
 * <p>429 responses are retried after their {@code Retry-After}, 5xx with exponential backoff; errors
 * that remain are thrown as {@link ProviderException} carrying the HTTP status and Cloudflare's codes.
 *
 * <p>Thread-safe.
 */
public final class CloudflareDnsProvider implements DnsProvider {
  private static final Logger LOG = LoggerFactory.getLogger(CloudflareDnsProvider.class);
  static final String DEFAULT_API_URL = "https://api.cloudflare.com/client/v4/";
  /** The shortest TTL Cloudflare accepts besides 1 (automatic), in seconds. */
  public static final int MIN_TTL = 60;
  private static final Set<String> ADDRESS_TYPES = Set.of("A", "AAAA", "CNAME");
  private static final int PER_PAGE = 100;

  private final CloudflareApi api;
  private final ObjectMapper mapper;
  private final OkHttpClient http;
  private final RetryInterceptor retries;
  private final String zoneName;
  private final boolean proxied;
  private final boolean adopt;
  private final int maxCommentLength;
  private final Ownership ownership;
  private volatile String zoneId;

  private CloudflareDnsProvider(Builder b) {
    this.zoneName = Zones.normalize(b.zone);
    this.zoneId = b.zoneId == null || b.zoneId.isBlank() ? null : b.zoneId.trim();
    this.proxied = b.proxied;
    this.adopt = b.adopt;
    this.maxCommentLength = b.maxCommentLength;
    this.ownership = Ownership.of(b.installation.instance());
    this.retries = new RetryInterceptor(b.maxRetries, b.retryBaseDelay, b.maxRetryWait, b.sleeper);
    Secret token = b.apiToken;
    this.http = new OkHttpClient.Builder()
        .callTimeout(b.timeout)
        .addInterceptor(chain -> chain.proceed(chain.request().newBuilder()
            .header("Authorization", "Bearer " + token.reveal())
            .header("Accept", "application/json")
            .build()))
        .addInterceptor(retries)
        .build();
    this.mapper = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    HttpUrl base = HttpUrl.get(b.apiUrl.endsWith("/") ? b.apiUrl : b.apiUrl + "/");
    this.api = new Retrofit.Builder().baseUrl(base).client(http)
        .addConverterFactory(JacksonConverterFactory.create(mapper)).build().create(CloudflareApi.class);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return "cloudflare";
  }

  /** HTTP requests sent so far, retries included, for measurements. */
  public long apiCalls() {
    return retries.requests();
  }

  @Override
  public void upsert(DnsRecord record) {
    String host = Zones.requireInside(record.hostname(), zoneName);
    String mark = ownership.mark(record.owner());
    if (mark.length() > maxCommentLength) {
      throw new ProviderException(name(), "the ownership comment for " + host + " is " + mark.length()
          + " characters, over the " + maxCommentLength + " allowed (maxCommentLength; Cloudflare allows 100 on"
          + " the Free plan, 500 on paid plans). Use a shorter repository or instance name, or raise"
          + " maxCommentLength on a paid plan.", false);
    }
    if (!proxied && !validTtl(record.ttlSeconds())) {
      throw new ProviderException(name(), "TTL " + record.ttlSeconds() + " s for " + host + ": " + TTL_RULE, false);
    }
    String zone = zoneId();
    List<CloudflareApi.Record> present = recordsAt(zone, host);
    List<CloudflareApi.Record> ours = new ArrayList<>();
    List<String> foreign = new ArrayList<>();
    for (CloudflareApi.Record r : present) {
      if (!ADDRESS_TYPES.contains(r.type())) {
        continue;
      }
      Optional<Ownership.Owner> owner = Ownership.parse(r.comment());
      if (owner.isPresent() && !ownership.isMine(owner.get())) {
        throw ownership.ownedByOtherInstallation(name(), host, owner.get(),
            "the comment of its " + r.type() + " record, id " + r.id());
      }
      if (owner.isPresent() && !owner.get().key().equals(record.owner())) {
        throw Ownership.ownedByOtherPreview(name(), host, owner.get(), record.owner());
      }
      if (owner.isPresent() || adopt) {
        ours.add(r);
      } else {
        foreign.add(r.type() + " " + r.content() + " (id " + r.id() + ")");
      }
    }
    if (!foreign.isEmpty()) {
      throw Ownership.foreignRecords(name(), host, String.join(", ", foreign));
    }
    int recordTtl = proxied ? 1 : record.ttlSeconds();
    CloudflareApi.Record desired =
        CloudflareApi.Record.of(record.type().name(), host, record.value(), recordTtl, proxied, mark);
    CloudflareApi.Record keep = ours.stream().filter(r -> r.type().equals(desired.type())).findFirst().orElse(null);
    for (CloudflareApi.Record r : ours) {
      if (r != keep) {
        // before creating: a CNAME cannot sit beside the A/AAAA it replaces
        call(api.delete(zone, r.id()), "delete " + r.type() + " " + host, true);
      }
    }
    if (keep == null) {
      call(api.create(zone, desired), "create " + desired.type() + " " + host, false);
    } else if (!same(keep, desired)) {
      call(api.update(zone, keep.id(), desired), "update " + desired.type() + " " + host, false);
    }
  }

  static final String TTL_RULE = "Cloudflare accepts 1 (automatic) or " + MIN_TTL + "-86400 seconds";

  static boolean validTtl(int ttl) {
    return ttl == 1 || (ttl >= MIN_TTL && ttl <= Installation.MAX_DNS_TTL);
  }

  private static boolean same(CloudflareApi.Record a, CloudflareApi.Record b) {
    return Objects.equals(a.content(), b.content()) && Objects.equals(a.ttl(), b.ttl())
        && Objects.equals(a.proxied(), b.proxied()) && Objects.equals(a.comment(), b.comment());
  }

  @Override
  public void delete(String hostname) {
    deleteOwned(hostname, null);
  }

  /** Deletes the records at {@code hostname} whose comment names {@code owner}; another preview's are left alone. */
  @Override
  public void delete(String hostname, PreviewKey owner) {
    deleteOwned(hostname, Objects.requireNonNull(owner, "owner"));
  }

  private void deleteOwned(String hostname, PreviewKey owner) {
    String host = Zones.requireInside(Zones.normalize(hostname), zoneName);
    String zone = zoneId();
    for (CloudflareApi.Record r : recordsAt(zone, host)) {
      Optional<PreviewKey> key = ownership.ownerIfMine(r.comment());
      if (!ADDRESS_TYPES.contains(r.type()) || key.isEmpty()) {
        continue;
      }
      if (owner != null && !key.get().equals(owner)) {
        LOG.warn("cloudflare: not deleting {} {} for {}: it belongs to {}", r.type(), host, owner, key.get());
        continue;
      }
      call(api.delete(zone, r.id()), "delete " + r.type() + " " + host, true);
    }
  }

  /** Deletions per {@code dns_records/batch} request (the Free plan's limit; paid plans allow more). */
  static final int MAX_BATCH = 200;

  /**
   * Many names at once: one listing of the owned records (as {@link #list()}) finds the ids of the
   * records at those names whose comment names the expected owner, then {@code POST
   * dns_records/batch} deletes up to {@value #MAX_BATCH} per request, all or nothing. A record whose
   * comment names another preview or installation is never in a batch. Where the batch endpoint is
   * not available (404/405) each record is deleted on its own.
   */
  @Override
  public void deleteAll(java.util.Collection<DnsRecord> records) {
    Map<String, PreviewKey> wanted = new LinkedHashMap<>();
    for (DnsRecord r : records) {
      wanted.putIfAbsent(Zones.requireInside(Zones.normalize(r.hostname()), zoneName), r.owner());
    }
    if (wanted.size() <= 1) {
      wanted.forEach(this::deleteOwned);
      return;
    }
    String zone = zoneId();
    Map<String, String> q = new LinkedHashMap<>();
    q.put("comment.startswith", Ownership.HERITAGE);
    List<CloudflareApi.Record> doomed = new ArrayList<>();
    for (CloudflareApi.Record r : pages(zone, q, "list owned records")) {
      String host = Zones.normalize(r.name());
      PreviewKey owner = wanted.get(host);
      if (owner == null || !ADDRESS_TYPES.contains(r.type())) {
        continue;
      }
      Optional<PreviewKey> key = ownership.ownerIfMine(r.comment());
      if (key.isPresent() && key.get().equals(owner)) {
        doomed.add(r);
      } else {
        LOG.warn("cloudflare: not deleting {} {} for {}: it belongs to {}", r.type(), host, owner, key.map(Object::toString).orElse("someone else"));
      }
    }
    for (int from = 0; from < doomed.size(); from += MAX_BATCH) {
      List<CloudflareApi.Record> chunk = doomed.subList(from, Math.min(doomed.size(), from + MAX_BATCH));
      try {
        call(api.batch(zone, new CloudflareApi.Batch(chunk.stream().map(r -> new CloudflareApi.Id(r.id())).toList())),
            "delete " + chunk.size() + " records", false);
      } catch (ProviderException e) {
        int status = e.httpStatus().orElse(0);
        if (status != 404 && status != 405) {
          throw e;
        }
        LOG.info("cloudflare: no batch endpoint here (HTTP {}); deleting {} records one by one", status, chunk.size());
        for (CloudflareApi.Record r : chunk) {
          call(api.delete(zone, r.id()), "delete " + r.type() + " " + Zones.normalize(r.name()), true);
        }
      }
    }
  }

  @Override
  public List<DnsRecord> list() {
    String zone = zoneId();
    Map<String, String> q = new LinkedHashMap<>();
    q.put("comment.startswith", Ownership.HERITAGE);
    List<DnsRecord> out = new ArrayList<>();
    for (CloudflareApi.Record r : pages(zone, q, "list owned records")) {
      Optional<PreviewKey> key = ownership.ownerIfMine(r.comment());
      if (key.isEmpty() || !ADDRESS_TYPES.contains(r.type())) {
        continue;
      }
      String value = "AAAA".equals(r.type()) ? Zones.ipv6(r.content()) : Zones.normalize(r.content());
      int t = r.ttl() == null || r.ttl() < 1 ? 1 : r.ttl();
      out.add(new DnsRecord(Zones.normalize(r.name()), DnsRecord.Type.valueOf(r.type()), value, t, key.get()));
    }
    return List.copyOf(out);
  }

  private List<CloudflareApi.Record> recordsAt(String zone, String host) {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("name.exact", host);
    return pages(zone, q, "read records of " + host);
  }

  private List<CloudflareApi.Record> pages(String zone, Map<String, String> filter, String what) {
    List<CloudflareApi.Record> all = new ArrayList<>();
    for (int page = 1; ; page++) {
      Map<String, String> q = new LinkedHashMap<>(filter);
      q.put("per_page", String.valueOf(PER_PAGE));
      q.put("page", String.valueOf(page));
      CloudflareApi.Envelope<List<CloudflareApi.Record>> e = call(api.records(zone, q), what, false);
      if (e.result() != null) {
        all.addAll(e.result());
      }
      CloudflareApi.ResultInfo info = e.resultInfo();
      if (info == null || page >= info.totalPages() || e.result() == null || e.result().isEmpty()) {
        return all;
      }
    }
  }

  private String zoneId() {
    String id = zoneId;
    if (id != null) {
      return id;
    }
    CloudflareApi.Envelope<List<CloudflareApi.Zone>> e = call(api.zones(zoneName), "look up zone " + zoneName, false);
    List<CloudflareApi.Zone> found = e.result() == null ? List.of() : e.result().stream()
        .filter(z -> zoneName.equals(Zones.normalize(z.name()))).collect(Collectors.toList());
    if (found.isEmpty()) {
      throw new ProviderException(name(), "zone " + zoneName + " not found: check the zone name and that the API"
          + " token has Zone:Read and DNS:Edit permission on it (or set zoneId).", false);
    }
    zoneId = found.get(0).id();
    return zoneId;
  }

  private <T> CloudflareApi.Envelope<T> call(Call<CloudflareApi.Envelope<T>> call, String what, boolean absentIsFine) {
    Response<CloudflareApi.Envelope<T>> response;
    try {
      response = call.execute();
    } catch (IOException e) {
      throw new ProviderException(name(), what + ": Cloudflare API unreachable (" + e.getClass().getSimpleName()
          + ": " + e.getMessage() + ")", true, e);
    }
    if (response.isSuccessful() && response.body() != null && response.body().success()) {
      return response.body();
    }
    List<CloudflareApi.Message> errors = response.isSuccessful() && response.body() != null
        ? response.body().errors() : errors(response.errorBody());
    int status = response.code();
    if (absentIsFine && (status == 404 || has(errors, 81044))) {
      return new CloudflareApi.Envelope<>(true, List.of(), null, null);
    }
    throw CloudflareErrors.map(name(), what, status, errors == null ? List.of() : errors, zoneName);
  }

  private static boolean has(List<CloudflareApi.Message> errors, int code) {
    return errors != null && errors.stream().anyMatch(m -> m.code() == code);
  }

  private List<CloudflareApi.Message> errors(ResponseBody body) {
    if (body == null) {
      return List.of();
    }
    try (body) {
      CloudflareApi.Envelope<?> e = mapper.readValue(body.bytes(), CloudflareApi.Envelope.class);
      return e.errors() == null ? List.of() : e.errors();
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  @Override
  public String toString() {
    return "CloudflareDnsProvider{zone=" + zoneName + "}";
  }

  /** Builds a {@link CloudflareDnsProvider}; {@link #build()} reports every invalid value at once. */
  public static final class Builder {
    private Secret apiToken;
    private String zone;
    private String zoneId;
    private boolean proxied;
    private boolean adopt;
    private Installation installation = Installation.defaults();
    private String apiUrl = DEFAULT_API_URL;
    private Duration timeout = Duration.ofSeconds(30);
    private int maxRetries = 5;
    private Duration retryBaseDelay = Duration.ofSeconds(1);
    private Duration maxRetryWait = Duration.ofSeconds(60);
    private int maxCommentLength = 100;
    private RetryInterceptor.Sleeper sleeper = d -> Thread.sleep(d.toMillis());

    private Builder() {}

    /** An API token with Zone:Read and DNS:Edit on the zone (required). */
    public Builder apiToken(Secret apiToken) {
      this.apiToken = Objects.requireNonNull(apiToken, "apiToken");
      return this;
    }

    /** The zone name, e.g. {@code example.com} (required). */
    public Builder zone(String zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /** The zone id, to skip the lookup by name; null to look it up. */
    public Builder zoneId(String zoneId) {
      this.zoneId = zoneId;
      return this;
    }

    /** Proxy through Cloudflare (orange cloud); proxied records get TTL automatic. Default false. */
    public Builder proxied(boolean proxied) {
      this.proxied = proxied;
      return this;
    }

    /** Take over records at a hostname that nobody marked as owned (default false: that is an error). */
    public Builder adopt(boolean adopt) {
      this.adopt = adopt;
      return this;
    }

    /**
     * The installation the records belong to (its instance is written in every comment; only its own
     * records are listed and deleted). Default {@link Installation#defaults()}.
     */
    public Builder installation(Installation installation) {
      this.installation = Objects.requireNonNull(installation, "installation");
      return this;
    }

    public Builder apiUrl(String apiUrl) {
      this.apiUrl = Objects.requireNonNull(apiUrl, "apiUrl");
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Retries of a 429 or 5xx answer (default 5), the first backoff (default 1 s, doubling) and the longest wait (60 s). */
    public Builder retries(int maxRetries, Duration baseDelay, Duration maxWait) {
      this.maxRetries = maxRetries;
      this.retryBaseDelay = Objects.requireNonNull(baseDelay, "baseDelay");
      this.maxRetryWait = Objects.requireNonNull(maxWait, "maxWait");
      return this;
    }

    /** Longest ownership comment the plan allows: 100 (Free, default) or 500 (paid plans). */
    public Builder maxCommentLength(int maxCommentLength) {
      this.maxCommentLength = maxCommentLength;
      return this;
    }

    Builder sleeper(RetryInterceptor.Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /** @throws ConfigurationException naming every invalid value and how to fix it */
    public CloudflareDnsProvider build() {
      List<String> problems = new ArrayList<>();
      if (apiToken == null || apiToken.isEmpty()) {
        problems.add("apiToken: is required (an API token with Zone:Read and DNS:Edit on the zone)");
      }
      if (zone == null || zone.isBlank()) {
        problems.add("zone: is required (the zone name, e.g. example.com)");
      }
      if (HttpUrl.parse(apiUrl.endsWith("/") ? apiUrl : apiUrl + "/") == null) {
        problems.add("apiUrl: must be an http or https URL, got \"" + apiUrl + "\"");
      }
      if (timeout.isZero() || timeout.isNegative()) {
        problems.add("timeout: must be positive, got " + timeout);
      }
      if (maxRetries < 0 || maxRetries > 20) {
        problems.add("maxRetries: must be 0-20, got " + maxRetries);
      }
      if (maxCommentLength < 40 || maxCommentLength > 500) {
        problems.add("maxCommentLength: must be 40-500 (100 on the Free plan, 500 on paid plans), got " + maxCommentLength);
      }
      if (!proxied && !validTtl(installation.dnsTtl())) {
        problems.add(ttlProblem(installation.dnsTtl()));
      }
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new CloudflareDnsProvider(this);
    }
  }

  static String ttlProblem(int ttl) {
    return "dns.ttl: " + TTL_RULE + " (set ttl: 1 for automatic, or at least " + MIN_TTL + "), got " + ttl;
  }

  /** Creates {@link CloudflareDnsProvider}s from {@code dns: {provider: cloudflare, ...}}. */
  public static final class Factory implements DnsProvider.Factory {
    @Override
    public String name() {
      return "cloudflare";
    }

    @Override
    public DnsProvider create(ProviderContext context) {
      ProviderConfig config = context.config();
      config.ignore("provider");
      ConfigKeys.instanceIsTopLevel(config);
      Set<String> renamed = ConfigKeys.renamed(config, "apiToken", "zoneId", "apiUrl", "maxRetries", "retryBaseDelay",
          "maxRetryWait", "maxCommentLength");
      Secret token = renamed.contains("apiToken") ? config.secret("apiToken").orElse(null) : config.requiredSecret("apiToken");
      String zone = config.requiredString("zone");
      boolean proxied = config.bool("proxied", false);
      int ttl = context.installation().dnsTtl();
      if (!proxied && !validTtl(ttl)) {
        // the installation-wide dns.ttl, read by the assembly: only its Cloudflare limit is checked here
        config.problem("ttl", ttlProblem(ttl).substring("dns.ttl: ".length()));
      }
      Builder b = builder()
          .zoneId(config.string("zoneId").orElse(null))
          .proxied(proxied)
          .adopt(config.bool("adopt", false))
          .installation(context.installation())
          .apiUrl(config.string("apiUrl", DEFAULT_API_URL))
          .timeout(config.duration("timeout", Duration.ofSeconds(30)))
          .retries(config.integer("maxRetries", 5, 0, 20), config.duration("retryBaseDelay", Duration.ofSeconds(1)),
              config.duration("maxRetryWait", Duration.ofSeconds(60)))
          .maxCommentLength(config.integer("maxCommentLength", 100, 40, 500));
      config.validate();
      return config.build(() -> b.apiToken(token).zone(zone).build());
    }
  }
}
