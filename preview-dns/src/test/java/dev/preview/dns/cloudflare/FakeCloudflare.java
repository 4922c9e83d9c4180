package dev.preview.dns.cloudflare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;

/**
 * An in-memory Cloudflare API v4 (zones lookup and DNS records CRUD) for MockWebServer, with the
 * rules the real one enforces that matter to us: token check, a CNAME shares its name with nothing,
 * identical records are refused, unknown ids give 81044, pages of {@code per_page} (capped at
 * {@link #maxPerPage} so tests exercise paging).
 */
public final class FakeCloudflare extends Dispatcher {
  public static final String ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String zone;
  private final String token;
  private final int maxPerPage;
  private final Map<String, ObjectNode> records = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();
  public final AtomicLong requests = new AtomicLong();
  public final AtomicLong writes = new AtomicLong();

  public FakeCloudflare(String zone, String token, int maxPerPage) {
    this.zone = zone;
    this.token = token;
    this.maxPerPage = maxPerPage;
  }

  /** A record someone made by hand in the dashboard. */
  synchronized void addForeign(String type, String name, String content) {
    ObjectNode r = JSON.createObjectNode().put("type", type).put("name", name).put("content", content)
        .put("ttl", 300).put("proxied", false);
    r.putNull("comment");
    store(r);
  }

  synchronized List<JsonNode> recordsNamed(String name) {
    return records.values().stream().filter(r -> r.get("name").asText().equals(name)).map(r -> (JsonNode) r).toList();
  }

  @Override
  public synchronized MockResponse dispatch(RecordedRequest request) {
    requests.incrementAndGet();
    if (!("Bearer " + token).equals(request.getHeaders().get("Authorization"))) {
      return error(403, 9109, "Invalid access token");
    }
    HttpUrl url = request.getUrl();
    List<String> path = url.pathSegments();
    String method = request.getMethod();
    try {
      if (path.equals(List.of("client", "v4", "zones")) && "GET".equals(method)) {
        String name = url.queryParameter("name");
        ArrayNode result = JSON.createArrayNode();
        if (zone.equals(name)) {
          result.add(JSON.createObjectNode().put("id", ZONE_ID).put("name", zone).put("status", "active"));
        }
        return ok(result, null);
      }
      if (path.size() < 5 || !path.get(3).equals(ZONE_ID) || !path.get(4).equals("dns_records")) {
        return error(404, 7003, "Could not route to " + url.encodedPath() + ", perhaps your object identifier is invalid?");
      }
      if (path.size() == 5 && "GET".equals(method)) {
        return list(url);
      }
      if (path.size() == 5 && "POST".equals(method)) {
        return create((ObjectNode) JSON.readTree(request.getBody().utf8()));
      }
      if (path.size() == 6 && "PUT".equals(method)) {
        return update(path.get(5), (ObjectNode) JSON.readTree(request.getBody().utf8()));
      }
      if (path.size() == 6 && "DELETE".equals(method)) {
        writes.incrementAndGet();
        ObjectNode removed = records.remove(path.get(5));
        return removed == null ? error(404, 81044, "Record does not exist.")
            : ok(JSON.createObjectNode().put("id", path.get(5)), null);
      }
      return error(405, 10000, "Method not allowed");
    } catch (Exception e) {
      return error(400, 9207, "Request body is invalid: " + e.getMessage());
    }
  }

  private MockResponse list(HttpUrl url) {
    String exact = url.queryParameter("name.exact");
    String commentPrefix = url.queryParameter("comment.startswith");
    int perPage = Math.min(maxPerPage, Integer.parseInt(orDefault(url.queryParameter("per_page"), "100")));
    int page = Integer.parseInt(orDefault(url.queryParameter("page"), "1"));
    List<ObjectNode> matching = records.values().stream()
        .filter(r -> exact == null || r.get("name").asText().equals(exact))
        .filter(r -> commentPrefix == null || (r.hasNonNull("comment")
            && r.get("comment").asText().toLowerCase(Locale.ROOT).startsWith(commentPrefix.toLowerCase(Locale.ROOT))))
        .sorted((a, b) -> a.get("id").asText().compareTo(b.get("id").asText()))
        .toList();
    int totalPages = (matching.size() + perPage - 1) / perPage;
    ArrayNode result = JSON.createArrayNode();
    for (int i = (page - 1) * perPage; i < Math.min(matching.size(), page * perPage); i++) {
      result.add(matching.get(i));
    }
    ObjectNode info = JSON.createObjectNode().put("page", page).put("per_page", perPage).put("count", result.size())
        .put("total_count", matching.size()).put("total_pages", totalPages);
    return ok(result, info);
  }

  private MockResponse create(ObjectNode r) {
    writes.incrementAndGet();
    MockResponse conflict = conflict(r, null);
    if (conflict != null) {
      return conflict;
    }
    return ok(store(r), null);
  }

  private MockResponse update(String id, ObjectNode r) {
    writes.incrementAndGet();
    if (!records.containsKey(id)) {
      return error(404, 81044, "Record does not exist.");
    }
    MockResponse conflict = conflict(r, id);
    if (conflict != null) {
      return conflict;
    }
    r.put("id", id);
    records.put(id, r);
    return ok(r, null);
  }

  private MockResponse conflict(ObjectNode r, String ignoreId) {
    String name = r.get("name").asText();
    String type = r.get("type").asText();
    for (ObjectNode o : records.values()) {
      if (o.get("id").asText().equals(ignoreId) || !o.get("name").asText().equals(name)) {
        continue;
      }
      if (type.equals("CNAME") || o.get("type").asText().equals("CNAME")) {
        return error(400, 81053, "An A, AAAA, or CNAME record with that host already exists.");
      }
      if (o.get("type").asText().equals(type) && o.get("content").asText().equals(r.get("content").asText())) {
        return error(400, 81058, "An identical record already exists.");
      }
    }
    return null;
  }

  private ObjectNode store(ObjectNode r) {
    String id = String.format("%032x", ids.incrementAndGet());
    r.put("id", id).put("zone_id", ZONE_ID).put("zone_name", zone).put("proxiable", true)
        .put("created_on", "2026-11-22T15:00:00Z").put("modified_on", "2026-11-22T15:00:00Z");
    r.set("tags", JSON.createArrayNode());
    records.put(id, r);
    return r;
  }

  private static String orDefault(String v, String d) {
    return v == null ? d : v;
  }

  private static MockResponse ok(JsonNode result, JsonNode info) {
    ObjectNode body = JSON.createObjectNode().put("success", true);
    body.set("errors", JSON.createArrayNode());
    body.set("messages", JSON.createArrayNode());
    body.set("result", result);
    if (info != null) {
      body.set("result_info", info);
    }
    return json(200, body);
  }

  private static MockResponse error(int status, int code, String message) {
    ObjectNode body = JSON.createObjectNode().put("success", false);
    body.set("errors", JSON.createArrayNode().add(JSON.createObjectNode().put("code", code).put("message", message)));
    body.set("messages", JSON.createArrayNode());
    body.putNull("result");
    return json(status, body);
  }

  private static MockResponse json(int status, JsonNode body) {
    return new MockResponse.Builder().code(status).addHeader("Content-Type", "application/json")
        .body(body.toString()).build();
  }

  static List<String> names(List<JsonNode> records) {
    List<String> out = new ArrayList<>();
    records.forEach(r -> out.add(r.get("type").asText() + " " + r.get("content").asText()));
    return out;
  }
}
