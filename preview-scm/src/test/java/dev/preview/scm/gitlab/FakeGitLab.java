package dev.preview.scm.gitlab;

import static dev.preview.scm.Fixtures.json;
import static dev.preview.scm.Fixtures.requestJson;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;

/** A GitLab keeping MRs, MR notes, environments and commit statuses, with X-Next-Page pagination. */
final class FakeGitLab extends Dispatcher {
  private static final Pattern NOTES = Pattern.compile("/api/v4/projects/([^/]+)/merge_requests/(\\d+)/notes");
  private static final Pattern NOTE = Pattern.compile("/api/v4/projects/([^/]+)/merge_requests/(\\d+)/notes/(\\d+)");
  private static final Pattern ENVS = Pattern.compile("/api/v4/projects/([^/]+)/environments");
  private static final Pattern ENV = Pattern.compile("/api/v4/projects/([^/]+)/environments/(\\d+)(/stop)?");
  private static final Pattern STATUS = Pattern.compile("/api/v4/projects/([^/]+)/statuses/([0-9a-f]+)");
  private static final Pattern MRS = Pattern.compile("/api/v4/projects/([^/]+)/merge_requests");
  private static final Pattern MR = Pattern.compile("/api/v4/projects/([^/]+)/merge_requests/(\\d+)");

  /** The id of the user our token belongs to (what {@code GET /user} answers). */
  static final long SELF_ID = 7001;

  record Note(long id, String project, int mr, String body, boolean system, long author) {
    Note(long id, String project, int mr, String body, boolean system) {
      this(id, project, mr, body, system, SELF_ID);
    }
  }

  final Map<Long, Note> notes = new TreeMap<>();
  final Map<Long, ObjectNode> environments = new TreeMap<>();
  final List<ObjectNode> statuses = new ArrayList<>();
  /** MRs by encoded project path and iid, as the list and get endpoints answer them (state, updated_at, ...). */
  final Map<String, Map<Integer, ObjectNode>> mergeRequests = new TreeMap<>();
  /** The targets of the MR listings asked for, in order. */
  final List<String> mergeRequestListings = new ArrayList<>();
  final AtomicLong ids = new AtomicLong(500);
  final int pageSize;

  FakeGitLab(int pageSize) {
    this.pageSize = pageSize;
  }

  synchronized List<String> noteBodies(String encodedProject, int mr) {
    return notes.values().stream().filter(n -> n.project.equals(encodedProject) && n.mr == mr && !n.system).map(Note::body).toList();
  }

  synchronized void addNote(String encodedProject, int mr, String body, boolean system) {
    addNote(encodedProject, mr, body, system, SELF_ID);
  }

  /** A note written by user {@code author} (not {@link #SELF_ID}: someone else). */
  synchronized void addNote(String encodedProject, int mr, String body, boolean system, long author) {
    long id = ids.incrementAndGet();
    notes.put(id, new Note(id, encodedProject, mr, body, system, author));
  }

  int userCalls;

  @Override
  public synchronized MockResponse dispatch(RecordedRequest r) {
    HttpUrl url = r.getUrl();
    String path = url.encodedPath();
    String method = r.getMethod();
    Matcher m;
    if (path.equals("/api/v4/user") && method.equals("GET")) {
      userCalls++;
      return json(200, Fixtures.MAPPER.createObjectNode().put("id", SELF_ID).put("username", "project_42_bot_1f2e3d").put("bot", true));
    }
    if ((m = NOTES.matcher(path)).matches()) {
      String project = m.group(1);
      int mr = Integer.parseInt(m.group(2));
      if (method.equals("GET")) {
        List<Note> all = notes.values().stream().filter(n -> n.project.equals(project) && n.mr == mr).toList();
        int page = url.queryParameter("page") == null ? 1 : Integer.parseInt(url.queryParameter("page"));
        ArrayNode out = Fixtures.MAPPER.createArrayNode();
        all.stream().skip((long) (page - 1) * pageSize).limit(pageSize).forEach(n -> out.add(note(n)));
        MockResponse.Builder b = new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(out.toString())
            .setHeader("X-Page", page).setHeader("X-Per-Page", pageSize).setHeader("X-Total", all.size());
        b.setHeader("X-Next-Page", (long) page * pageSize < all.size() ? Integer.toString(page + 1) : "");
        return b.build();
      }
      long id = ids.incrementAndGet();
      Note n = new Note(id, project, mr, requestJson(r).path("body").asText(), false);
      notes.put(id, n);
      return json(201, note(n));
    }
    if ((m = NOTE.matcher(path)).matches()) {
      long id = Long.parseLong(m.group(3));
      Note n = notes.get(id);
      if (n == null) {
        return json(404, Fixtures.MAPPER.createObjectNode().put("message", "404 Not found"));
      }
      if (method.equals("DELETE")) {
        notes.remove(id);
        return new MockResponse.Builder().code(204).build();
      }
      Note updated = new Note(id, n.project, n.mr, requestJson(r).path("body").asText(), false, n.author);
      notes.put(id, updated);
      return json(200, note(updated));
    }
    if ((m = ENV.matcher(path)).matches()) {
      ObjectNode e = environments.get(Long.parseLong(m.group(2)));
      if (e == null) {
        return json(404, Fixtures.MAPPER.createObjectNode().put("message", "404 Environment Not Found"));
      }
      if (m.group(3) != null) {
        e.put("state", "stopped");
      } else if (method.equals("DELETE")) {
        if (!"stopped".equals(e.path("state").asText())) {
          return json(403, Fixtures.MAPPER.createObjectNode().put("message", "403 Forbidden - Environment must be stopped before deletion"));
        }
        environments.remove(e.path("id").asLong());
        return new MockResponse.Builder().code(204).build();
      } else {
        e.put("external_url", requestJson(r).path("external_url").asText());
      }
      return json(200, e);
    }
    if ((m = ENVS.matcher(path)).matches()) {
      if (method.equals("GET")) {
        String name = url.queryParameter("name");
        ArrayNode out = Fixtures.MAPPER.createArrayNode();
        environments.values().stream().filter(e -> name == null || name.equals(e.path("name").asText())).forEach(out::add);
        return json(200, out);
      }
      ObjectNode body = requestJson(r);
      boolean taken = environments.values().stream().anyMatch(e -> e.path("name").asText().equals(body.path("name").asText()));
      if (taken) {
        return json(400, taken());
      }
      ObjectNode e = body.put("id", ids.incrementAndGet()).put("state", "available").put("slug", "preview-mr-7-abc123");
      environments.put(e.path("id").asLong(), e);
      return json(201, e);
    }
    if ((m = MR.matcher(path)).matches() && method.equals("GET")) {
      ObjectNode mr = mergeRequests.getOrDefault(m.group(1), Map.of()).get(Integer.parseInt(m.group(2)));
      return mr != null ? json(200, mr) : json(404, Fixtures.MAPPER.createObjectNode().put("message", "404 Not found"));
    }
    if ((m = MRS.matcher(path)).matches() && method.equals("GET")) {
      mergeRequestListings.add(r.getTarget());
      return mergeRequests(url, mergeRequests.getOrDefault(m.group(1), Map.of()).values());
    }
    if ((m = STATUS.matcher(path)).matches()) {
      ObjectNode s = requestJson(r).put("sha", m.group(2));
      statuses.add(s);
      return json(201, s);
    }
    return json(404, Fixtures.MAPPER.createObjectNode().put("message", "404 Not found: " + method + " " + path));
  }

  /** GitLab's list: {@code state} (default all), {@code order_by} created_at|updated_at, {@code sort} (default desc), pages. */
  private static MockResponse mergeRequests(HttpUrl url, java.util.Collection<ObjectNode> all) {
    String state = url.queryParameter("state") == null ? "all" : url.queryParameter("state");
    String orderBy = url.queryParameter("order_by") == null ? "created_at" : url.queryParameter("order_by");
    java.util.Comparator<ObjectNode> order = java.util.Comparator.comparing(mr -> java.time.OffsetDateTime.parse(mr.path(orderBy).asText()));
    if (!"asc".equals(url.queryParameter("sort"))) {
      order = order.reversed();
    }
    List<ObjectNode> matching = all.stream().filter(mr -> state.equals("all") || state.equals(mr.path("state").asText())).sorted(order).toList();
    int perPage = url.queryParameter("per_page") == null ? 20 : Integer.parseInt(url.queryParameter("per_page"));
    int page = url.queryParameter("page") == null ? 1 : Integer.parseInt(url.queryParameter("page"));
    ArrayNode out = Fixtures.MAPPER.createArrayNode();
    matching.stream().skip((long) (page - 1) * perPage).limit(perPage).forEach(out::add);
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(out.toString())
        .setHeader("X-Next-Page", (long) page * perPage < matching.size() ? Integer.toString(page + 1) : "").build();
  }

  private static ObjectNode taken() {
    ObjectNode o = Fixtures.MAPPER.createObjectNode();
    o.putObject("message").putArray("name").add("has already been taken");
    return o;
  }

  private static ObjectNode note(Note n) {
    ObjectNode o = Fixtures.MAPPER.createObjectNode().put("id", n.id).put("body", n.body).put("system", n.system)
        .put("noteable_type", "MergeRequest").put("noteable_iid", n.mr);
    o.putObject("author").put("id", n.author).put("username", n.author == SELF_ID ? "project_42_bot_1f2e3d" : "user" + n.author);
    return o;
  }
}
