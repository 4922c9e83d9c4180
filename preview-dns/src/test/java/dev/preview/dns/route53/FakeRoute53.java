package dev.preview.dns.route53;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.xml.parsers.DocumentBuilderFactory;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * An in-memory Route 53 hosted zone for MockWebServer: ListHostedZonesByName, ListResourceRecordSets
 * (reversed-label order, paged by {@code maxitems}), ChangeResourceRecordSets applied atomically with
 * Route 53's checks (CREATE of an existing set, DELETE of a set that differs, a CNAME beside other
 * data: InvalidChangeBatch), and GetChange. Requests must be SigV4-signed.
 */
public final class FakeRoute53 extends Dispatcher {
  static final String NS = "https://route53.amazonaws.com/doc/2013-04-01/";
  static final String ZONE_ID = "Z0FAKE1ROUTE53";

  /** One record set: name with trailing dot, type, TTL, values. */
  public record RrSet(String name, String type, long ttl, List<String> values) {}

  private final String zone;
  private final Map<String, RrSet> sets = new TreeMap<>(FakeRoute53::compareKeys);
  private final AtomicInteger changeIds = new AtomicInteger();
  public final AtomicLong requests = new AtomicLong();
  public final AtomicLong changes = new AtomicLong();

  public FakeRoute53(String zone) {
    this.zone = zone.endsWith(".") ? zone : zone + ".";
  }

  synchronized void put(RrSet s) {
    sets.put(key(s.name(), s.type()), s);
  }

  synchronized List<RrSet> at(String name) {
    String n = name.endsWith(".") ? name : name + ".";
    return sets.values().stream().filter(s -> s.name().equals(n)).toList();
  }

  private static String key(String name, String type) {
    return name + " " + type;
  }

  /** Route 53's order: names by reversed labels, then type. */
  private static int compareKeys(String a, String b) {
    String[] pa = a.split(" ", -1);
    String[] pb = b.split(" ", -1);
    int c = reversed(pa[0]).compareTo(reversed(pb[0]));
    return c != 0 ? c : pa[1].compareTo(pb[1]);
  }

  private static String reversed(String name) {
    List<String> labels = new ArrayList<>(Arrays.asList(name.replaceAll("\\.$", "").split("\\.")));
    Collections.reverse(labels);
    return String.join("\u0001", labels);
  }

  @Override
  public synchronized MockResponse dispatch(RecordedRequest request) {
    requests.incrementAndGet();
    String auth = request.getHeaders().get("Authorization");
    if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256 Credential=")) {
      return error(403, "IncompleteSignature", "Request must be signed");
    }
    HttpUrl url = request.getUrl();
    String path = url.encodedPath();
    try {
      if (path.equals("/2013-04-01/hostedzonesbyname")) {
        String dns = url.queryParameter("dnsname");
        String zones = zone.equals(dns + ".") || zone.equals(dns)
            ? "<HostedZone><Id>/hostedzone/" + ZONE_ID + "</Id><Name>" + zone + "</Name><CallerReference>fake</CallerReference>"
                + "<Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>" + sets.size()
                + "</ResourceRecordSetCount></HostedZone>" : "";
        return xml(200, "<ListHostedZonesByNameResponse xmlns=\"" + NS + "\"><HostedZones>" + zones
            + "</HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesByNameResponse>");
      }
      if (path.equals("/2013-04-01/hostedzone/" + ZONE_ID + "/rrset") && "GET".equals(request.getMethod())) {
        return list(url);
      }
      if (path.equals("/2013-04-01/hostedzone/" + ZONE_ID + "/rrset/") && "POST".equals(request.getMethod())) {
        return change(request.getBody().utf8());
      }
      if (path.startsWith("/2013-04-01/change/")) {
        return xml(200, "<GetChangeResponse xmlns=\"" + NS + "\"><ChangeInfo><Id>/change/" + path.substring(19)
            + "</Id><Status>INSYNC</Status><SubmittedAt>2026-11-22T15:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>");
      }
      return error(404, "NoSuchHostedZone", "No hosted zone found with ID: " + path);
    } catch (Exception e) {
      return error(400, "InvalidInput", String.valueOf(e.getMessage()));
    }
  }

  private MockResponse list(HttpUrl url) {
    String name = url.queryParameter("name");
    String type = url.queryParameter("type");
    int max = Integer.parseInt(Objects.requireNonNullElse(url.queryParameter("maxitems"), "300"));
    String start = name == null ? null : key(name.endsWith(".") ? name : name + ".", type == null ? "" : type);
    List<RrSet> from = sets.entrySet().stream()
        .filter(e -> start == null || compareKeys(e.getKey(), start) >= 0).map(Map.Entry::getValue).toList();
    StringBuilder sb = new StringBuilder("<ListResourceRecordSetsResponse xmlns=\"" + NS + "\"><ResourceRecordSets>");
    for (RrSet s : from.subList(0, Math.min(max, from.size()))) {
      sb.append("<ResourceRecordSet><Name>").append(s.name()).append("</Name><Type>").append(s.type())
          .append("</Type><TTL>").append(s.ttl()).append("</TTL><ResourceRecords>");
      s.values().forEach(v -> sb.append("<ResourceRecord><Value>").append(escape(v)).append("</Value></ResourceRecord>"));
      sb.append("</ResourceRecords></ResourceRecordSet>");
    }
    boolean truncated = from.size() > max;
    sb.append("</ResourceRecordSets><IsTruncated>").append(truncated).append("</IsTruncated>");
    if (truncated) {
      sb.append("<NextRecordName>").append(from.get(max).name()).append("</NextRecordName><NextRecordType>")
          .append(from.get(max).type()).append("</NextRecordType>");
    }
    return xml(200, sb.append("<MaxItems>").append(max).append("</MaxItems></ListResourceRecordSetsResponse>").toString());
  }

  private MockResponse change(String body) throws Exception {
    changes.incrementAndGet();
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    NodeList list = doc.getElementsByTagNameNS(NS, "Change");
    Map<String, RrSet> next = new TreeMap<>(FakeRoute53::compareKeys);
    next.putAll(sets);
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < list.getLength(); i++) {
      Element c = (Element) list.item(i);
      String action = text(c, "Action");
      Element set = (Element) c.getElementsByTagNameNS(NS, "ResourceRecordSet").item(0);
      List<String> values = new ArrayList<>();
      NodeList vs = set.getElementsByTagNameNS(NS, "Value");
      for (int j = 0; j < vs.getLength(); j++) {
        values.add(vs.item(j).getTextContent());
      }
      RrSet s = new RrSet(text(set, "Name"), text(set, "Type"), Long.parseLong(text(set, "TTL")), values);
      String k = key(s.name(), s.type());
      switch (action) {
        case "CREATE" -> {
          if (next.containsKey(k)) {
            problems.add("Tried to create resource record set [name='" + s.name() + "', type='" + s.type() + "'] but it already exists");
          }
          next.put(k, s);
        }
        case "DELETE" -> {
          if (!s.equals(next.get(k))) {
            problems.add("Tried to delete resource record set [name='" + s.name() + "', type='" + s.type()
                + "'] but " + (next.containsKey(k) ? "the values provided do not match the current values" : "it was not found"));
          }
          next.remove(k);
        }
        case "UPSERT" -> next.put(k, s);
        default -> problems.add("unknown action " + action);
      }
    }
    for (RrSet s : next.values()) {
      if (s.type().equals("CNAME") && next.values().stream().anyMatch(o -> o.name().equals(s.name()) && !o.type().equals("CNAME"))) {
        problems.add("RRSet of type CNAME with DNS name " + s.name() + " is not permitted as it conflicts with other records with the same DNS name in zone " + zone);
      }
    }
    if (!problems.isEmpty()) {
      return error(400, "InvalidChangeBatch", "[" + String.join(", ", problems) + "]");
    }
    sets.clear();
    sets.putAll(next);
    return xml(200, "<ChangeResourceRecordSetsResponse xmlns=\"" + NS + "\"><ChangeInfo><Id>/change/C" + changeIds.incrementAndGet()
        + "</Id><Status>PENDING</Status><SubmittedAt>2026-11-22T15:00:00Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>");
  }

  private static String text(Element e, String tag) {
    return e.getElementsByTagNameNS(NS, tag).item(0).getTextContent();
  }

  private static String escape(String v) {
    return v.replace("&", "&amp;").replace("<", "&lt;").replace("\"", "&quot;");
  }

  private static MockResponse xml(int status, String body) {
    return new MockResponse.Builder().code(status).addHeader("Content-Type", "text/xml")
        .body("<?xml version=\"1.0\"?>\n" + body).build();
  }

  private static MockResponse error(int status, String code, String message) {
    return xml(status, "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>Sender</Type><Code>" + code + "</Code><Message>"
        + escape(message) + "</Message></Error><RequestId>fake</RequestId></ErrorResponse>");
  }

  static Comparator<RrSet> byName() {
    return Comparator.comparing(RrSet::name);
  }
}
