package dev.preview.server.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;

/**
 * The one JSON shape of a preview: {@code GET /api/previews} (an array), {@code GET
 * /api/previews/{owner}/{repo}/{number}} (one object, with {@code logTail}) and {@code preview list -o json}
 * all write it here. Keys are always present; unknown values are {@code null}, {@code []} or {@code {}}.
 * Instants are ISO-8601 UTC, durations milliseconds.
 */
public final class PreviewJson {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PreviewJson() {}

  /** One preview. */
  public static ObjectNode object(PreviewRow r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("key", r.key().id());
    n.put("repository", r.key().repository());
    if (r.key().isPullRequest()) {
      n.put("number", r.key().number());
      n.putNull("branch");
    } else {
      n.putNull("number");
      n.put("branch", r.key().branch());
    }
    n.put("state", r.state().name());
    n.put("sleeping", r.sleeping());
    n.put("revision", r.revision());
    n.put("url", r.url() == null ? null : r.url().toString());
    ObjectNode links = n.putObject("links");
    r.links().forEach((k, v) -> links.put(k, v.toString()));
    n.put("pullRequest", r.pullRequest() == null ? null : r.pullRequest().toString());
    n.put("created", instant(r.created()));
    n.put("expires", instant(r.expires()));
    n.put("lastActivity", instant(r.lastActivity()));
    n.put("lastPush", instant(r.lastPush()));
    n.put("lastVisit", instant(r.lastVisit()));
    n.put("pinned", r.pinned());
    n.put("database", r.database());
    n.put("failedStep", r.failedStep());
    n.put("reason", r.reason());
    ObjectNode timings = n.putObject("timingsMs");
    r.timings().forEach((k, v) -> timings.put(k, v.toMillis()));
    ArrayNode changes = n.putArray("changes");
    r.changes().forEach(changes::add);
    return n;
  }

  /** Every preview, as an array. */
  public static ArrayNode array(List<PreviewRow> rows) {
    ArrayNode a = JSON.createArrayNode();
    rows.forEach(r -> a.add(object(r)));
    return a;
  }

  /** {@link #array} as indented text ({@code preview list -o json}). */
  public static String pretty(List<PreviewRow> rows) {
    try {
      return PRETTY.writeValueAsString(array(rows));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String instant(Instant i) {
    return i == null ? null : i.toString();
  }
}
