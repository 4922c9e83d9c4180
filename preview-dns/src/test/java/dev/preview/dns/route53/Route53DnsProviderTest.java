package dev.preview.dns.route53;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.preview.spi.ConfigurationException;
import dev.preview.spi.DnsRecord;
import dev.preview.spi.Installation;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderConfig;
import dev.preview.spi.ProviderContext;
import dev.preview.spi.ProviderException;
import dev.preview.spi.Secret;
import java.time.Duration;
import java.util.Map;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.Test;

/** Over MockWebServer with Route 53-shaped XML, asserting the signed requests and change batches. */
class Route53DnsProviderTest {
  static final String NS = "https://route53.amazonaws.com/doc/2013-04-01/";
  static final String ZONE_ID = "Z1D633PJN98FT9";
  static final String HOST = "pr-42.example.com";
  static final String MARK = "heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=default";
  static final String CI_MARK = "heritage=preview,preview.dev/key=acme/shop#42,preview.dev/instance=ci";
  static final String LEGACY_MARK = "heritage=preview,preview.dev/key=acme/shop#42";
  static final PreviewKey KEY = PreviewKey.pr("acme/shop", 42);

  @StartStop final MockWebServer server = new MockWebServer();

  Route53DnsProvider.Builder builder() {
    return Route53DnsProvider.builder().zone("example.com").endpoint(server.url("/").toString())
        .credentials("AKIDEXAMPLE", Secret.of("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), null)
        .retries(3, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(20));
  }

  static MockResponse xml(int status, String body) {
    return new MockResponse.Builder().code(status).addHeader("Content-Type", "text/xml")
        .addHeader("x-amzn-RequestId", "f6a5bb66-5a3e-4b2a-9e2b-1d8e9b2c3d4e")
        .body("<?xml version=\"1.0\"?>\n" + body).build();
  }

  static MockResponse zones(String... names) {
    StringBuilder sb = new StringBuilder("<ListHostedZonesByNameResponse xmlns=\"" + NS + "\"><HostedZones>");
    for (String n : names) {
      sb.append("<HostedZone><Id>/hostedzone/").append(ZONE_ID).append("</Id><Name>").append(n)
          .append("</Name><CallerReference>preview-1</CallerReference><Config><Comment>previews</Comment>"
              + "<PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>7</ResourceRecordSetCount></HostedZone>");
    }
    return xml(200, sb.append("</HostedZones><DNSName>example.com.</DNSName><IsTruncated>false</IsTruncated>"
        + "<MaxItems>10</MaxItems></ListHostedZonesByNameResponse>").toString());
  }

  static String set(String name, String type, int ttl, String... values) {
    StringBuilder sb = new StringBuilder("<ResourceRecordSet><Name>" + name + "</Name><Type>" + type + "</Type><TTL>"
        + ttl + "</TTL><ResourceRecords>");
    for (String v : values) {
      sb.append("<ResourceRecord><Value>").append(v).append("</Value></ResourceRecord>");
    }
    return sb.append("</ResourceRecords></ResourceRecordSet>").toString();
  }

  static MockResponse sets(String next, String... sets) {
    return xml(200, "<ListResourceRecordSetsResponse xmlns=\"" + NS + "\"><ResourceRecordSets>" + String.join("", sets)
        + "</ResourceRecordSets><IsTruncated>" + (next != null) + "</IsTruncated>"
        + (next == null ? "" : "<NextRecordName>" + next + "</NextRecordName><NextRecordType>A</NextRecordType>")
        + "<MaxItems>20</MaxItems></ListResourceRecordSetsResponse>");
  }

  static MockResponse changed(String status) {
    return xml(200, "<ChangeResourceRecordSetsResponse xmlns=\"" + NS + "\"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id>"
        + "<Status>" + status + "</Status><SubmittedAt>2026-11-22T01:36:41.958Z</SubmittedAt>"
        + "<Comment>preview</Comment></ChangeInfo></ChangeResourceRecordSetsResponse>");
  }

  static MockResponse change(String status) {
    return xml(200, "<GetChangeResponse xmlns=\"" + NS + "\"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id>"
        + "<Status>" + status + "</Status><SubmittedAt>2026-11-22T01:36:41.958Z</SubmittedAt></ChangeInfo></GetChangeResponse>");
  }

  static MockResponse error(int status, String code, String message) {
    return xml(status, "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>Sender</Type><Code>" + code + "</Code><Message>"
        + message + "</Message></Error><RequestId>f6a5bb66-5a3e</RequestId></ErrorResponse>");
  }

  static String mark(String text) {
    return "\"" + text + "\"";
  }

  RecordedRequest take(String method, String path) throws InterruptedException {
    RecordedRequest r = server.takeRequest();
    assertThat(r.getMethod()).isEqualTo(method);
    assertThat(r.getUrl().encodedPath()).isEqualTo(path);
    String auth = r.getHeaders().get("Authorization");
    assertThat(auth).as("SigV4-signed").startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        .contains("/us-east-1/route53/aws4_request").contains("SignedHeaders=").contains("Signature=")
        .doesNotContain("wJalrXUtnFEMI");
    assertThat(r.getHeaders().get("X-Amz-Date")).matches("\\d{8}T\\d{6}Z");
    return r;
  }

  RecordedRequest takeListAt(String name) throws InterruptedException {
    RecordedRequest r = take("GET", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset");
    assertThat(r.getUrl().queryParameter("name")).isEqualTo(name);
    return r;
  }

  static String batch(String comment, String changes) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ChangeResourceRecordSetsRequest xmlns=\"" + NS + "\"><ChangeBatch>"
        + "<Comment>" + comment + "</Comment><Changes>" + changes + "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";
  }

  static String c(String action, String set) {
    return "<Change><Action>" + action + "</Action>" + set + "</Change>";
  }

  static String markSet(String text) {
    return set("_preview." + HOST + ".", "TXT", 300, "&quot;" + text + "&quot;");
  }

  @Test
  void createsTheRecordAndItsMarkInOneSignedChangeBatch() throws Exception {
    Route53DnsProvider dns = builder().build();
    server.enqueue(zones("example.com."));
    server.enqueue(sets(null, set("pr-43.example.com.", "A", 60, "192.0.2.43")));
    server.enqueue(changed("PENDING"));

    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));

    RecordedRequest lookup = take("GET", "/2013-04-01/hostedzonesbyname");
    assertThat(lookup.getUrl().queryParameter("dnsname")).isEqualTo("example.com");
    RecordedRequest at = takeListAt(HOST);
    assertThat(at.getUrl().queryParameter("maxitems")).isEqualTo("20");
    RecordedRequest post = take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/");
    assertThat(post.getBody().utf8()).isEqualTo(batch("preview: upsert A " + HOST,
        c("CREATE", set(HOST + ".", "A", 60, "192.0.2.10"))
            + c("CREATE", markSet(MARK))));
    assertThat(dns.apiCalls()).isEqualTo(3);
  }

  @Test
  void aMarkLongerThanOneTxtStringIsSentAsSeveralStringsOfOneValue() throws Exception {
    PreviewKey longBranch = PreviewKey.branch("acme/shop", "feature/" + "x".repeat(242));
    String mark = dev.preview.dns.internal.Ownership.of("default").mark(longBranch);
    assertThat(mark).hasSizeGreaterThan(255);
    Route53DnsProvider dns = builder().build();
    server.enqueue(zones("example.com."));
    server.enqueue(sets(null));
    server.enqueue(changed("PENDING"));

    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, longBranch));

    take("GET", "/2013-04-01/hostedzonesbyname");
    takeListAt(HOST);
    RecordedRequest post = take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/");
    String split = "&quot;" + mark.substring(0, 255) + "&quot; &quot;" + mark.substring(255) + "&quot;";
    assertThat(post.getBody().utf8()).isEqualTo(batch("preview: upsert A " + HOST,
        c("CREATE", set(HOST + ".", "A", 60, "192.0.2.10"))
            + c("CREATE", set("_preview." + HOST + ".", "TXT", 300, split))));
  }

  @Test
  void updatesItsOwnRecordWithOneUpsertAndChangesTypeWithDeleteThenCreate() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId("/hostedzone/" + ZONE_ID).build();
    server.enqueue(sets(null, set(HOST + ".", "A", 60, "192.0.2.10"), markSet(MARK)));
    server.enqueue(changed("PENDING"));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.11", 120, KEY));
    takeListAt(HOST);
    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .isEqualTo(batch("preview: upsert A " + HOST, c("UPSERT", set(HOST + ".", "A", 120, "192.0.2.11"))));

    server.enqueue(sets(null, set(HOST + ".", "A", 120, "192.0.2.11"), markSet(MARK)));
    server.enqueue(changed("PENDING"));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.CNAME, "ingress.example.net", 60, KEY));
    takeListAt(HOST);
    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .isEqualTo(batch("preview: upsert CNAME " + HOST,
            c("DELETE", set(HOST + ".", "A", 120, "192.0.2.11"))
                + c("CREATE", set(HOST + ".", "CNAME", 60, "ingress.example.net."))));

    server.enqueue(sets(null, set(HOST + ".", "CNAME", 60, "ingress.example.net."), markSet(MARK)));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.CNAME, "ingress.example.net", 60, KEY));
    assertThat(server.getRequestCount()).as("nothing to change: no change batch").isEqualTo(5);
  }

  @Test
  void neverTouchesARecordItDoesNotOwnUnlessToldToAdopt() throws Exception {
    server.enqueue(sets(null, set(HOST + ".", "A", 300, "198.51.100.7")));
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("already has records that preview does not own (A 198.51.100.7)")
        .hasMessageContaining("adopt: true");
    assertThat(server.getRequestCount()).isEqualTo(1);

    server.enqueue(sets(null, set(HOST + ".", "A", 300, "198.51.100.7")));
    dns.delete(HOST);
    assertThat(server.getRequestCount()).as("delete only read").isEqualTo(2);

    Route53DnsProvider adopting = builder().hostedZoneId(ZONE_ID).adopt(true).build();
    server.enqueue(sets(null, set(HOST + ".", "A", 300, "198.51.100.7")));
    server.enqueue(changed("PENDING"));
    adopting.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    server.takeRequest();
    server.takeRequest();
    takeListAt(HOST);
    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .isEqualTo(batch("preview: upsert A " + HOST,
            c("UPSERT", set(HOST + ".", "A", 60, "192.0.2.10")) + c("CREATE", markSet(MARK))));
  }

  @Test
  void aNameOwnedByAnotherPreviewOrInstanceIsRefused() {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).adopt(true).build();
    server.enqueue(sets(null, set(HOST + ".", "A", 60, "192.0.2.7"), markSet("heritage=preview,preview.dev/key=acme/shop#7,preview.dev/instance=default")));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .hasMessageContaining("owned by preview acme/shop#7");
    server.enqueue(sets(null, set(HOST + ".", "A", 60, "192.0.2.7"), markSet(CI_MARK)));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .hasMessageContaining("another preview installation (acme/shop#42 (instance ci))");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void deleteRemovesRecordAndMarkInOneBatchWithTheirExactValues() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    server.enqueue(sets(null, set(HOST + ".", "AAAA", 60, "2001:db8::1"), markSet(MARK),
        set("a.pr-42.example.com.", "A", 60, "192.0.2.99"), set("pr-43.example.com.", "A", 60, "192.0.2.43")));
    server.enqueue(changed("PENDING"));
    dns.delete(HOST);
    takeListAt(HOST);
    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .isEqualTo(batch("preview: delete " + HOST,
            c("DELETE", set(HOST + ".", "AAAA", 60, "2001:db8::1")) + c("DELETE", markSet(MARK))));

    server.enqueue(sets(null, set("pr-43.example.com.", "A", 60, "192.0.2.43")));
    dns.delete(HOST);
    assertThat(server.getRequestCount()).as("absent: read only").isEqualTo(3);
  }

  @Test
  void readsOnUntilItLeavesTheNamesSubtree() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    server.enqueue(sets("-x.pr-42.example.com.", set(HOST + ".", "A", 60, "192.0.2.10")));
    server.enqueue(sets(null, markSet(MARK), set("pr-43.example.com.", "A", 60, "192.0.2.43")));
    server.enqueue(changed("PENDING"));
    dns.delete(HOST);
    takeListAt(HOST);
    RecordedRequest second = takeListAt("-x.pr-42.example.com.");
    assertThat(second.getUrl().queryParameter("type")).isEqualTo("A");
    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .contains("<Action>DELETE</Action>").contains("heritage=preview");
  }

  @Test
  void listPagesTheZoneAndPairsRecordsWithTheirMarks() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    server.enqueue(sets("pr-43.example.com.", set("example.com.", "NS", 172800, "ns-1.awsdns-00.com."),
        set(HOST + ".", "A", 60, "192.0.2.10"), markSet(MARK)));
    server.enqueue(sets(null, set("pr-43.example.com.", "AAAA", 60, "2001:db8:0:0:0:0:0:1"),
        set("_preview.pr-43.example.com.", "TXT", 300, "&quot;heritage=preview,preview.dev/key=acme/shop#43,preview.dev/instance=default&quot;"),
        set("pr-46.example.com.", "A", 60, "192.0.2.46"),
        set("_preview.pr-46.example.com.", "TXT", 300, "&quot;heritage=preview,preview.dev/key=acme/shop#46&quot;"),
        set("pr-44.example.com.", "A", 60, "192.0.2.44"),
        set("_preview.pr-44.example.com.", "TXT", 300, "&quot;heritage=preview,preview.dev/key=acme/shop#44,preview.dev/instance=ci&quot;"),
        set("_preview.pr-45.example.com.", "TXT", 300, "&quot;v=spf1 -all&quot;"),
        set("pr-45.example.com.", "A", 60, "192.0.2.45")));

    assertThat(dns.list()).containsExactly(
        new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY),
        new DnsRecord("pr-43.example.com", DnsRecord.Type.AAAA, "2001:db8::1", 60, PreviewKey.pr("acme/shop", 43)));
    RecordedRequest first = take("GET", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset");
    assertThat(first.getUrl().queryParameter("name")).isNull();
    RecordedRequest second = take("GET", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset");
    assertThat(second.getUrl().queryParameter("name")).isEqualTo("pr-43.example.com.");
  }

  @Test
  void throttlingIsBackedOffAndRetried() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    server.enqueue(error(400, "Throttling", "Rate exceeded"));
    server.enqueue(error(400, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request."));
    server.enqueue(sets(null));
    server.enqueue(changed("PENDING"));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    takeListAt(HOST);
    takeListAt(HOST);
    takeListAt(HOST);
    take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/");
    assertThat(dns.apiCalls()).isEqualTo(4);
  }

  @Test
  void persistentThrottlingEndsInARetryableError() {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    for (int i = 0; i < 3; i++) {
      server.enqueue(error(400, "Throttling", "Rate exceeded"));
    }
    assertThatThrownBy(dns::list).isInstanceOfSatisfying(ProviderException.class, e -> {
      assertThat(e.retryable()).isTrue();
      assertThat(e.httpStatus()).hasValue(400);
      assertThat(e.getMessage()).contains("Throttling: Rate exceeded").contains("try again later");
    });
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void waitsForInSyncWhenAsked() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID)
        .waitForSync(true, Duration.ofMillis(10), Duration.ofSeconds(10)).build();
    server.enqueue(sets(null));
    server.enqueue(changed("PENDING"));
    server.enqueue(change("PENDING"));
    server.enqueue(change("INSYNC"));
    dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    takeListAt(HOST);
    take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/");
    take("GET", "/2013-04-01/change/C2682N5HXP0BZ4");
    take("GET", "/2013-04-01/change/C2682N5HXP0BZ4");
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void errorsSayWhatToFix() {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    server.enqueue(error(403, "AccessDenied", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: route53:ListResourceRecordSets"));
    assertThatThrownBy(dns::list).isInstanceOfSatisfying(ProviderException.class, e -> {
      assertThat(e.retryable()).isFalse();
      assertThat(e.httpStatus()).hasValue(403);
      assertThat(e.getMessage()).contains("AccessDenied").contains("route53:ListHostedZonesByName, ListResourceRecordSets");
    });

    server.enqueue(sets(null));
    server.enqueue(error(400, "InvalidChangeBatch",
        "[Tried to create resource record set [name='pr-42.example.com.', type='A'] but it already exists]"));
    assertThatThrownBy(() -> dns.upsert(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOfSatisfying(ProviderException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).contains("InvalidChangeBatch").contains("already exists").contains("nothing was changed");
        });
  }

  @Test
  void anUnknownZoneIsAClearError() {
    Route53DnsProvider dns = builder().build();
    server.enqueue(zones("example.net."));
    assertThatThrownBy(dns::list).hasMessageContaining("hosted zone example.com not found");
  }

  @Test
  void factoryReportsEveryProblemAtOnce() {
    assertThatThrownBy(() -> new Route53DnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns",
        Map.of("provider", "route53", "accessKeyId", "AKIDEXAMPLE", "waitForSync", "sometimes", "zone-id", "Z1")))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("dns.zone: is required")
        .hasMessageContaining("dns.secretAccessKey: is required when accessKeyId is set")
        .hasMessageContaining("dns.waitForSync: must be true or false")
        .hasMessageContaining("dns.zone-id: unknown key");
  }

  @Test
  void kebabKeysAreReportedAsRenamedWithEveryOtherProblem() {
    Map<String, Object> m = Map.of("zone", "example.com", "hosted-zone-id", ZONE_ID, "secret-access-key", "wJalrXUtnFEMI",
        "accessKeyId", "AKIDEXAMPLE", "ttl", 300, "instance", "ci");
    assertThatThrownBy(() -> new Route53DnsProvider.Factory().create(ProviderContext.of(ProviderConfig.of("dns", m))))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).hasSize(5).contains(
            "dns.hosted-zone-id: renamed to hostedZoneId",
            "dns.secret-access-key: renamed to secretAccessKey",
            "dns.secretAccessKey: is required when accessKeyId is set (or leave both out to use the default credential chain)",
            "dns.instance: the instance is set once, at the top level of the file (instance: ci); remove it here")
            // installation-wide: the assembly reads it (and marks it read); a raw section handed in code does not
            .anyMatch(p -> p.startsWith("dns.ttl: unknown key (known here: accessKeyId, adopt,")))
        .hasMessageNotContaining("wJalrXUtnFEMI");
  }

  @Test
  void buildReportsEveryProblemOfCodeBuiltConfigurationAtOnce() {
    assertThatThrownBy(() -> Route53DnsProvider.builder().endpoint("no-scheme").txtPrefix("a.b")
        .retries(0, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1)).build())
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.problems()).containsExactly(
            "zone: is required (the hosted zone's DNS name, e.g. preview.example.com)",
            "endpoint: must be an absolute http or https URL, got \"no-scheme\"",
            "txtPrefix: must be one DNS label (letters, digits, '_' or '-', at most 63), got \"a.b\"",
            "maxAttempts: must be 1-50, got 0"));
  }

  @Test
  void aRecordMarkedByAnotherInstallationIsNeitherListedNorDeleted() throws Exception {
    String ciHost = "pr-42.ci.example.com";
    String oldHost = "pr-42.old.example.com";
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    Route53DnsProvider ci = builder().hostedZoneId(ZONE_ID)
        .installation(Installation.builder().instance("ci").build()).build();
    for (int i = 0; i < 2; i++) {
      server.enqueue(sets(null, set(HOST + ".", "A", 60, "192.0.2.10"), markSet(MARK),
          set(ciHost + ".", "A", 60, "192.0.2.20"), set("_preview." + ciHost + ".", "TXT", 300, "&quot;" + CI_MARK + "&quot;"),
          set(oldHost + ".", "A", 60, "192.0.2.30"), set("_preview." + oldHost + ".", "TXT", 300, "&quot;" + LEGACY_MARK + "&quot;")));
    }
    // the same key in two installations: each lists only its own; the legacy mark is nobody's
    assertThat(dns.list()).containsExactly(new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY));
    assertThat(ci.list()).containsExactly(new DnsRecord(ciHost, DnsRecord.Type.A, "192.0.2.20", 60, KEY));
    take("GET", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset");
    take("GET", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset");

    server.enqueue(sets(null, set(ciHost + ".", "A", 60, "192.0.2.20"),
        set("_preview." + ciHost + ".", "TXT", 300, "&quot;" + CI_MARK + "&quot;")));
    server.enqueue(sets(null, set(oldHost + ".", "A", 60, "192.0.2.30"),
        set("_preview." + oldHost + ".", "TXT", 300, "&quot;" + LEGACY_MARK + "&quot;")));
    server.enqueue(sets(null, set(HOST + ".", "A", 60, "192.0.2.10"), markSet(MARK)));
    dns.delete(ciHost);
    dns.delete(oldHost);
    ci.delete(HOST);
    takeListAt(ciHost);
    takeListAt(oldHost);
    takeListAt(HOST);
    assertThat(server.getRequestCount()).as("reads only: no change batch went out").isEqualTo(5);

    server.enqueue(sets(null, set(oldHost + ".", "A", 60, "192.0.2.30"),
        set("_preview." + oldHost + ".", "TXT", 300, "&quot;" + LEGACY_MARK + "&quot;")));
    assertThatThrownBy(() -> builder().hostedZoneId(ZONE_ID).adopt(true).build()
        .upsert(new DnsRecord(oldHost, DnsRecord.Type.A, "192.0.2.10", 60, KEY)))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("earlier version of preview that wrote no instance (acme/shop#42 (no instance))")
        .hasMessageContaining("the TXT record _preview." + oldHost);
    takeListAt(oldHost);
    assertThat(server.getRequestCount()).as("still no change batch").isEqualTo(6);
  }

  static String markSetOf(String host, String text) {
    return set("_preview." + host + ".", "TXT", 300, "&quot;" + text + "&quot;");
  }

  static String markOf(int pr) {
    return "heritage=preview,preview.dev/key=acme/shop#" + pr + ",preview.dev/instance=default";
  }

  @Test
  void deleteAllSendsOneChangeBatchOfEveryListedNameAndItsMarkWithoutReadingTheZoneAgain() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    server.enqueue(changed("PENDING"));

    dns.deleteAll(java.util.List.of(
        new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY),
        new DnsRecord("pr-43.example.com", DnsRecord.Type.CNAME, "lb.example.net", 60, PreviewKey.pr("acme/shop", 43))));

    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .isEqualTo(batch("preview: delete 2 names",
            c("DELETE", set(HOST + ".", "A", 60, "192.0.2.10")) + c("DELETE", markSet(MARK))
                + c("DELETE", set("pr-43.example.com.", "CNAME", 60, "lb.example.net.")) + c("DELETE", markSetOf("pr-43.example.com", markOf(43)))));
    assertThat(server.getRequestCount()).as("no read: the values are the listed ones").isEqualTo(1);
  }

  @Test
  void aRefusedBatchIsRedoneNameByNameAndAForeignNameIsLeftAlone() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    // pr-43 changed hands since it was listed: its mark now names another installation
    server.enqueue(error(400, "InvalidChangeBatch", "[Tried to delete resource record set [name='_preview.pr-43.example.com.', type='TXT']"
        + " but the values provided do not match the current values]"));
    server.enqueue(sets(null, set(HOST + ".", "A", 60, "192.0.2.10"), markSet(MARK)));
    server.enqueue(changed("PENDING"));
    server.enqueue(sets(null, set("pr-43.example.com.", "A", 60, "192.0.2.43"),
        markSetOf("pr-43.example.com", "heritage=preview,preview.dev/key=acme/shop#43,preview.dev/instance=ci")));

    dns.deleteAll(java.util.List.of(
        new DnsRecord(HOST, DnsRecord.Type.A, "192.0.2.10", 60, KEY),
        new DnsRecord("pr-43.example.com", DnsRecord.Type.A, "192.0.2.43", 60, PreviewKey.pr("acme/shop", 43))));

    take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/");
    takeListAt(HOST);
    assertThat(take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8())
        .isEqualTo(batch("preview: delete " + HOST, c("DELETE", set(HOST + ".", "A", 60, "192.0.2.10")) + c("DELETE", markSet(MARK))));
    takeListAt("pr-43.example.com");
    assertThat(server.getRequestCount()).as("the foreign name: read, never deleted").isEqualTo(4);
  }

  @Test
  void batchesStayWithinRoute53sLimitsOfRecordsPerRequest() throws Exception {
    Route53DnsProvider dns = builder().hostedZoneId(ZONE_ID).build();
    java.util.List<DnsRecord> records = new java.util.ArrayList<>();
    for (int i = 1; i <= 1_200; i++) {
      records.add(new DnsRecord("pr-" + i + ".example.com", DnsRecord.Type.A, "192.0.2." + (i % 250 + 1), 60, PreviewKey.pr("acme/shop", i)));
    }
    for (int i = 0; i < 10; i++) {
      server.enqueue(changed("PENDING"));
    }

    dns.deleteAll(records);

    int requests = server.getRequestCount();
    int total = 0;
    int totalChars = 0;
    for (int i = 0; i < requests; i++) {
      String body = take("POST", "/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/").getBody().utf8();
      int recs = body.split("<ResourceRecord>", -1).length - 1;
      int chars = 0;
      for (String v : body.split("<Value>")) {
        int end = v.indexOf("</Value>");
        chars += end < 0 ? 0 : v.substring(0, end).replace("&quot;", "\"").length();
      }
      assertThat(recs).isLessThanOrEqualTo(1_000);
      assertThat(chars).isLessThanOrEqualTo(32_000);
      total += recs;
      totalChars += chars;
    }
    assertThat(total).isEqualTo(2_400);
    // the marks make the characters the binding limit here: as few batches as that allows (greedy: at most one more)
    assertThat(requests).isBetween((totalChars + 31_999) / 32_000, (totalChars + 31_999) / 32_000 + 1);
  }
}
