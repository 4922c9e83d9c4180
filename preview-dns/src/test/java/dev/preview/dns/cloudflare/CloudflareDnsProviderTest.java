package dev.preview.dns.cloudflare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/** Over MockWebServer with Cloudflare-shaped JSON, asserting every request sent. */
class CloudflareDnsProviderTest {
  static final String TOKEN = "cf-token-Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQ";
  static final String ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
  static final String HOST = "pr-42.preview.example.com";
  static final String MARK = "heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=default";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);
  static final ObjectMapper JSON = new ObjectMapper();

  @StartStop final MockWebServer server = new MockWebServer();
  final List<Duration> waits = new ArrayList<>();

  CloudflareDnsProvider.Builder builder() {
    return CloudflareDnsProvider.builder().apiToken(Secret.of(TOKEN)).zone("example.com")
        .apiUrl(server.url("/client/v4/").toString())
        .retries(3, Duration.ofMillis(500), Duration.ofSeconds(30)).sleeper(waits::add);
  }

  static MockResponse ok(String result) {
    return json(200, "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":" + result + "}");
  }

  static MockResponse page(String result, int page, int totalPages, int totalCount) {
    return json(200, "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":" + result
        + ",\"result_info\":{\"page\":" + page + ",\"per_page\":100,\"count\":1,\"total_count\":" + totalCount
        + ",\"total_pages\":" + totalPages + "}}");
  }

  static MockResponse error(int status, int code, String message) {
    return json(status, "{\"success\":false,\"errors\":[{\"code\":" + code + ",\"message\":\"" + message
        + "\"}],\"messages\":[],\"result\":null}");
  }

  static MockResponse json(int status, String body) {
    return new MockResponse.Builder().code(status).addHeader("Content-Type", "application/json").body(body).build();
  }

  static String zones() {
    return "[{\"id\":\"" + ZONE_ID + "\",\"name\":\"example.com\",\"status\":\"active\",\"paused\":false}]";
  }

  static String record(String id, String type, String name, String content, int ttl, String comment) {
    return "{\"id\":\"" + id + "\",\"zone_id\":\"" + ZONE_ID + "\",\"zone_name\":\"example.com\",\"name\":\"" + name
        + "\",\"type\":\"" + type + "\",\"content\":\"" + content + "\",\"proxiable\":true,\"proxied\":false,\"ttl\":"
        + ttl + ",\"settings\":{},\"meta\":{},\"comment\":" + (comment == null ? "null" : "\"" + comment + "\"")
        + ",\"tags\":[],\"created_on\":\"2026-01-01T05:20:00.12345Z\",\"modified_on\":\"2026-01-01T05:20:00.12345Z\"}";
  }

  RecordedRequest take(String method, String target) throws InterruptedException {
    RecordedRequest r = server.takeRequest();
    assertThat(r.getMethod()).isEqualTo(method);
    assertThat(r.getTarget()).isEqualTo(target);
    assertThat(r.getHeaders().get("Authorization")).isEqualTo("Bearer " + TOKEN);
    return r;
  }

  static JsonNode body(RecordedRequest r) throws Exception {
    return JSON.readTree(r.getBody().utf8());
  }

  static final String AT_HOST = "/client/v4/zones/" + ZONE_ID + "/dns_records?name.exact=" + HOST + "&per_page=100&page=1";

  @Test
  void createsARecordWithTheOwnershipCommentAndCachesTheZone() throws Exception {
    CloudflareDnsProvider dns = builder().build();
    server.enqueue(ok(zones()));
    server.enqueue(page("[]", 1, 0, 0));
    server.enqueue(ok(record("r1", "A", HOST, "192.0.2.10", 60, MARK)));

    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));

    take("GET", "/client/v4/zones?name=example.com");
    take("GET", AT_HOST);
    RecordedRequest post = take("POST", "/client/v4/zones/" + ZONE_ID + "/dns_records");
    assertThat(post.getHeaders().get("Content-Type")).startsWith("application/json");
    assertThat(body(post)).isEqualTo(JSON.readTree("{\"type\":\"A\",\"name\":\"" + HOST
        + "\",\"content\":\"192.0.2.10\",\"ttl\":60,\"proxied\":false,\"comment\":\"" + MARK + "\"}"));

    // the same record again: the zone id is cached and nothing is written
    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + "]", 1, 1, 1));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    take("GET", AT_HOST);
    assertThat(server.getRequestCount()).isEqualTo(4);
    assertThat(dns.apiCalls()).isEqualTo(4);
  }

  @Test
  void updatesItsOwnRecordInPlaceAndReplacesAnotherType() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).proxied(true).build();
    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + "]", 1, 1, 1));
    server.enqueue(ok(record("r1", "A", HOST, "192.0.2.11", 1, MARK)));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.11", 60, KEY));

    take("GET", AT_HOST);
    RecordedRequest put = take("PUT", "/client/v4/zones/" + ZONE_ID + "/dns_records/r1");
    assertThat(body(put)).isEqualTo(JSON.readTree("{\"type\":\"A\",\"name\":\"" + HOST
        + "\",\"content\":\"192.0.2.11\",\"ttl\":1,\"proxied\":true,\"comment\":\"" + MARK + "\"}"));

    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.11", 1, MARK) + "]", 1, 1, 1));
    server.enqueue(ok("{\"id\":\"r1\"}"));
    server.enqueue(ok(record("r2", "CNAME", HOST, "ingress.example.net", 1, MARK)));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.CNAME, "ingress.example.net", 60, KEY));
    take("GET", AT_HOST);
    take("DELETE", "/client/v4/zones/" + ZONE_ID + "/dns_records/r1");
    assertThat(body(take("POST", "/client/v4/zones/" + ZONE_ID + "/dns_records")).get("type").asText())
        .isEqualTo("CNAME");
  }

  @Test
  void aDuplicateLeftByARetriedCreateIsRemovedByTheNextUpsert() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("r2", "A", HOST, "192.0.2.10", 60, MARK) + "]", 1, 1, 2));
    server.enqueue(ok("{\"id\":\"r2\"}"));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    take("GET", AT_HOST);
    take("DELETE", "/client/v4/zones/" + ZONE_ID + "/dns_records/r2");
    assertThat(server.getRequestCount()).as("r1 already right: no PUT").isEqualTo(2);
  }

  @Test
  void neverTouchesARecordItDoesNotOwn() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    server.enqueue(page("[" + record("x1", "A", HOST, "198.51.100.7", 300, "set by hand") + "]", 1, 1, 1));

    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("already has records that preview does not own (A 198.51.100.7 (id x1))")
        .hasMessageContaining("adopt: true");
    assertThat(server.getRequestCount()).isEqualTo(1);

    server.enqueue(page("[" + record("x1", "A", HOST, "198.51.100.7", 300, "set by hand") + "]", 1, 1, 1));
    dns.delete(HOST);
    assertThat(server.getRequestCount()).isEqualTo(2); // read only: nothing deleted
  }

  @Test
  void adoptTakesAnUnownedRecordButNeverAnotherPreviews() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).adopt(true).build();
    server.enqueue(page("[" + record("x1", "A", HOST, "198.51.100.7", 300, null) + "]", 1, 1, 1));
    server.enqueue(ok(record("x1", "A", HOST, "192.0.2.10", 60, MARK)));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    server.takeRequest();
    assertThat(body(take("PUT", "/client/v4/zones/" + ZONE_ID + "/dns_records/x1")).get("comment").asText())
        .isEqualTo(MARK);

    String other = "heritage=preview,preview.dev/key=acme/shop#7,preview.dev/instance=default";
    server.enqueue(page("[" + record("o1", "A", HOST, "192.0.2.7", 60, other) + "]", 1, 1, 1));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .hasMessageContaining("owned by preview acme/shop#7");
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void listPagesThroughOwnedRecordsOfThisInstanceOnly() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("r9", "A", "pr-9.preview.example.com", "192.0.2.9", 60,
            "heritage=preview,preview.dev/key=acme/shop#9,preview.dev/instance=ci") + "]", 1, 2, 3));
    server.enqueue(page("[" + record("r2", "AAAA", "pr-43.preview.example.com", "2001:db8:0:0:0:0:0:1", 120,
        "heritage=preview,preview.dev/key=acme/shop#43,preview.dev/instance=default") + ","
        + record("r3", "A", "pr-44.preview.example.com", "192.0.2.44", 60, "heritage=preview,preview.dev/key=acme/shop#44")
        + "]", 2, 2, 3));

    assertThat(dns.list()).containsExactly(
        new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY),
        new DnsRecord("pr-43.preview.example.com", DnsRecord.Type.AAAA, "2001:db8::1", 120, PreviewKey.pr("acme/shop", 43)));
    String base = "/client/v4/zones/" + ZONE_ID + "/dns_records?comment.startswith=heritage%3Dpreview&per_page=100&page=";
    take("GET", base + "1");
    take("GET", base + "2");
  }

  @Test
  void deleteRemovesOnlyOwnedRecordsAndToleratesOneAlreadyGone() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("t1", "TXT", HOST, "v=spf1 -all", 60, MARK) + "]", 1, 1, 2));
    server.enqueue(error(404, 81044, "Record does not exist."));
    dns.delete(HOST);
    take("GET", AT_HOST);
    take("DELETE", "/client/v4/zones/" + ZONE_ID + "/dns_records/r1");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void waitsWhatRetryAfterSaysThenBacksOffOnServerErrors() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    server.enqueue(new MockResponse.Builder().code(429).addHeader("Retry-After", "7")
        .body("{\"success\":false,\"errors\":[{\"code\":971,\"message\":\"Please wait and consider throttling your request speed\"}]}").build());
    server.enqueue(error(502, 0, "Bad gateway"));
    server.enqueue(error(503, 0, "Service unavailable"));
    server.enqueue(page("[]", 1, 0, 0));
    server.enqueue(ok(record("r1", "A", HOST, "192.0.2.10", 60, MARK)));

    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    assertThat(waits).containsExactly(Duration.ofSeconds(7), Duration.ofMillis(1000), Duration.ofMillis(2000));
    for (int i = 0; i < 4; i++) {
      take("GET", AT_HOST);
    }
    take("POST", "/client/v4/zones/" + ZONE_ID + "/dns_records");
  }

  @Test
  void givesUpAfterTheLastRetryWithARetryableError() {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    for (int i = 0; i < 4; i++) {
      server.enqueue(error(503, 0, "Service unavailable"));
    }
    assertThatThrownBy(dns::list).isInstanceOfSatisfying(ProviderException.class, e -> {
      assertThat(e.retryable()).isTrue();
      assertThat(e.httpStatus()).hasValue(503);
      assertThat(e.getMessage()).contains("HTTP 503").contains("retries were exhausted");
    });
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void aBadTokenSaysWhatPermissionIsNeededWithoutShowingIt() {
    CloudflareDnsProvider dns = builder().build();
    server.enqueue(error(403, 9109, "Invalid access token"));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.httpStatus()).hasValue(403);
          assertThat(e.getMessage()).contains("9109: Invalid access token").contains("DNS:Edit")
              .doesNotContain(TOKEN);
        });
  }

  @Test
  void anUnknownZoneIsAClearError() {
    CloudflareDnsProvider dns = builder().build();
    server.enqueue(ok("[]"));
    assertThatThrownBy(dns::list).hasMessageContaining("zone example.com not found");
  }

  @Test
  void aCommentOverThePlanLimitIsRefusedBeforeAnyCall() {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    PreviewKey longKey = PreviewKey.branch("acme/" + "s".repeat(40), "feature/" + "x".repeat(40));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, longKey)))
        .hasMessageContaining("over the 100 allowed (maxCommentLength");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aHostnameOutsideTheZoneIsRejected() {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    assertThatThrownBy(() -> dns.upsert(new DnsRecord("pr-1.example.org", DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not inside zone example.com");
  }

  @Test
  void factoryReportsEveryProblemAtOnce() {
    // dns.ttl is installation-wide: the assembly reads (and checks) it, before any factory runs
    assertThatThrownBy(() -> PreviewConfig.parse("app:\n  image: shop:1\n  hostname: \"pr-{number}.example.com\"\n"
        + "policy: {repositories: [acme/shop]}\ndns:\n  provider: cloudflare\n  ttl: soon\n", k -> null, "preview.yaml")
        .createProviders(ProviderRegistry.defaultRegistry()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("dns.ttl: must be a whole number");
    assertThatThrownBy(() -> new CloudflareDnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns",
        Map.of("provider", "cloudflare", "proxied", "maybe", "zonne", "example.com")))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("dns.apiToken: is required")
        .hasMessageContaining("dns.zone: is required")
        .hasMessageContaining("dns.proxied: must be true or false")
        .hasMessageContaining("dns.zonne: unknown key");
  }

  @Test
  void kebabKeysAreReportedAsRenamedWithEveryOtherProblem() {
    Map<String, Object> m = Map.of("provider", "cloudflare", "api-token", TOKEN, "zone-id", ZONE_ID, "max-retries", 3,
        "proxied", "maybe");
    assertThatThrownBy(() -> new CloudflareDnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", m))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "dns.api-token: renamed to apiToken",
            "dns.zone-id: renamed to zoneId",
            "dns.max-retries: renamed to maxRetries",
            "dns.zone: is required",
            "dns.proxied: must be true or false, got \"maybe\""))
        .hasMessageNotContaining(TOKEN);
  }

  @Test
  void aTtlCloudflareDoesNotAcceptIsAProblemAtDnsTtl() {
    Installation thirty = Installation.builder().dnsTtl(30).build();
    Map<String, Object> m = Map.of("apiToken", TOKEN, "zone", "example.com");
    assertThatThrownBy(() -> new CloudflareDnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", m), thirty)))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "dns.ttl: Cloudflare accepts 1 (automatic) or 60-86400 seconds (set ttl: 1 for automatic, or at least 60), got 30"));
    assertThatThrownBy(() -> builder().installation(thirty).build())
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("dns.ttl: Cloudflare accepts 1 (automatic) or 60-86400");
    // proxied records are always automatic, so the TTL does not matter; 1 and 60 are fine
    assertThat(new CloudflareDnsProvider.Factory().create(ProviderContext.of(
        ProviderConfig.of("dns", Map.of("apiToken", TOKEN, "zone", "example.com", "proxied", true)), thirty))).isNotNull();
    assertThat(builder().installation(Installation.builder().dnsTtl(1).build()).build()).isNotNull();

    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 30, KEY)))
        .isInstanceOf(ProviderException.class).hasMessageContaining("TTL 30 s for " + HOST + ": Cloudflare accepts 1");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void buildReportsEveryProblemOfCodeBuiltConfigurationAtOnce() {
    assertThatThrownBy(() -> CloudflareDnsProvider.builder().apiUrl("not a url").maxCommentLength(20)
        .retries(-1, Duration.ofSeconds(1), Duration.ofSeconds(1)).build())
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "apiToken: is required (an API token with Zone:Read and DNS:Edit on the zone)",
            "zone: is required (the zone name, e.g. example.com)",
            "apiUrl: must be an http or https URL, got \"not a url\"",
            "maxRetries: must be 0-20, got -1",
            "maxCommentLength: must be 40-500 (100 on the Free plan, 500 on paid plans), got 20"));
    assertThatThrownBy(() -> CloudflareDnsProvider.builder().zone(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("zone");
  }

  @Test
  void aRecordMarkedByAnotherInstallationIsNeitherListedNorDeleted() throws Exception {
    String ciMark = "heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=ci";
    String legacyMark = "heritage=preview,preview.dev/key=acme/shop#42";
    String list = "[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("c1", "A", "pr-42.ci.example.com", "192.0.2.20", 60, ciMark) + ","
        + record("l1", "A", "pr-42.old.example.com", "192.0.2.30", 60, legacyMark) + "]";
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    CloudflareDnsProvider ci = builder().zoneId(ZONE_ID).installation(Installation.builder().instance("ci").build()).build();
    String base = "/client/v4/zones/" + ZONE_ID + "/dns_records?";
    server.enqueue(page(list, 1, 1, 3));
    server.enqueue(page(list, 1, 1, 3));

    // the same key in two installations: each lists only its own
    assertThat(dns.list()).containsExactly(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    assertThat(ci.list()).containsExactly(new DnsRecord("pr-42.ci.example.com", DnsRecord.Type.A, "192.0.2.20", 60, KEY));
    take("GET", base + "comment.startswith=heritage%3Dpreview&per_page=100&page=1");
    take("GET", base + "comment.startswith=heritage%3Dpreview&per_page=100&page=1");

    server.enqueue(page("[" + record("c1", "A", "pr-42.ci.example.com", "192.0.2.20", 60, ciMark) + "]", 1, 1, 1));
    server.enqueue(page("[" + record("l1", "A", "pr-42.old.example.com", "192.0.2.30", 60, legacyMark) + "]", 1, 1, 1));
    server.enqueue(page("[" + record("r1", "A", HOST, "192.0.2.10", 60, MARK) + "]", 1, 1, 1));
    dns.delete("pr-42.ci.example.com");
    dns.delete("pr-42.old.example.com");
    ci.delete(HOST);
    take("GET", base + "name.exact=pr-42.ci.example.com&per_page=100&page=1");
    take("GET", base + "name.exact=pr-42.old.example.com&per_page=100&page=1");
    take("GET", base + "name.exact=" + HOST + "&per_page=100&page=1");
    assertThat(server.getRequestCount()).as("reads only: no DELETE went out").isEqualTo(5);

    // and a hostname the other installation holds is refused, naming both
    server.enqueue(page("[" + record("c1", "A", "pr-42.ci.example.com", "192.0.2.20", 60, ciMark) + "]", 1, 1, 1));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord("pr-42.ci.example.com", DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("pr-42.ci.example.com is owned by another preview installation (acme/shop#42 (instance ci));"
            + " this one is instance \"default\"");
    server.enqueue(page("[" + record("l1", "A", "pr-42.old.example.com", "192.0.2.30", 60, legacyMark) + "]", 1, 1, 1));
    assertThatThrownBy(() -> builder().zoneId(ZONE_ID).adopt(true).build()
        .upsert(new DnsRecord("pr-42.old.example.com", DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .hasMessageContaining("earlier version of preview that wrote no instance")
        .hasMessageContaining("the comment of its A record, id l1");
    server.takeRequest();
    server.takeRequest();
    assertThat(server.getRequestCount()).as("still no write").isEqualTo(7);
  }

  static final String OWNED = "/client/v4/zones/" + ZONE_ID + "/dns_records?comment.startswith=heritage%3Dpreview&per_page=100&page=1";
  static final String BATCH = "/client/v4/zones/" + ZONE_ID + "/dns_records/batch";

  static String markOf(int pr) {
    return "heritage=preview,preview.dev/key=acme/shop#" + pr + ",preview.dev/instance=default";
  }

  @Test
  void deleteAllListsOnceAndDeletesInOneBatchOnlyTheRecordsOfTheExpectedOwners() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    String h43 = "pr-43.preview.example.com";
    String h44 = "pr-44.preview.example.com";
    server.enqueue(page("[" + record("r42", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("r43", "CNAME", h43, "lb.example.net", 60, markOf(43)) + ","
        // pr-44 now belongs to another preview: never in the batch
        + record("r44", "A", h44, "192.0.2.44", 60, markOf(99)) + ","
        + record("r45", "A", "pr-45.preview.example.com", "192.0.2.45", 60, markOf(45)) + "]", 1, 1, 4));
    server.enqueue(ok("{\"deletes\":[" + record("r42", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("r43", "CNAME", h43, "lb.example.net", 60, markOf(43)) + "],\"patches\":[],\"puts\":[],\"posts\":[]}"));

    dns.deleteAll(List.of(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY),
        new DnsRecord(h43, DnsRecord.Type.CNAME, "lb.example.net", 60, PreviewKey.pr("acme/shop", 43)),
        new DnsRecord(h44, DnsRecord.Type.A, "192.0.2.44", 60, PreviewKey.pr("acme/shop", 44))));

    take("GET", OWNED);
    RecordedRequest batch = take("POST", BATCH);
    assertThat(JSON.readTree(batch.getBody().utf8())).isEqualTo(JSON.readTree("{\"deletes\":[{\"id\":\"r42\"},{\"id\":\"r43\"}]}"));
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void deleteAllSendsAtMostTwoHundredDeletionsPerBatch() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    StringBuilder result = new StringBuilder("[");
    List<DnsRecord> records = new ArrayList<>();
    for (int i = 1; i <= 250; i++) {
      String h = "pr-" + i + ".preview.example.com";
      result.append(i == 1 ? "" : ",").append(record("r" + i, "A", h, "192.0.2.1", 60, markOf(i)));
      records.add(new DnsRecord(h, DnsRecord.Type.A, "192.0.2.1", 60, PreviewKey.pr("acme/shop", i)));
    }
    server.enqueue(page(result.append("]").toString(), 1, 1, 250));
    server.enqueue(ok("{\"deletes\":[]}"));
    server.enqueue(ok("{\"deletes\":[]}"));

    dns.deleteAll(records);

    take("GET", OWNED);
    assertThat(JSON.readTree(take("POST", BATCH).getBody().utf8()).path("deletes").size()).isEqualTo(200);
    assertThat(JSON.readTree(take("POST", BATCH).getBody().utf8()).path("deletes").size()).isEqualTo(50);
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void withoutTheBatchEndpointEachRecordIsDeletedOnItsOwn() throws Exception {
    CloudflareDnsProvider dns = builder().zoneId(ZONE_ID).build();
    String h43 = "pr-43.preview.example.com";
    server.enqueue(page("[" + record("r42", "A", HOST, "192.0.2.10", 60, MARK) + ","
        + record("r43", "A", h43, "192.0.2.43", 60, markOf(43)) + "]", 1, 1, 2));
    server.enqueue(error(404, 7003, "Could not route to /zones/" + ZONE_ID + "/dns_records/batch, perhaps your object identifier is invalid?"));
    server.enqueue(ok(record("r42", "A", HOST, "192.0.2.10", 60, MARK)));
    server.enqueue(ok(record("r43", "A", h43, "192.0.2.43", 60, markOf(43))));

    dns.deleteAll(List.of(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY),
        new DnsRecord(h43, DnsRecord.Type.A, "192.0.2.43", 60, PreviewKey.pr("acme/shop", 43))));

    take("GET", OWNED);
    take("POST", BATCH);
    take("DELETE", "/client/v4/zones/" + ZONE_ID + "/dns_records/r42");
    take("DELETE", "/client/v4/zones/" + ZONE_ID + "/dns_records/r43");
  }
}
