package dev.preview.scm.github;

import static dev.preview.scm.Fixtures.json;
import static dev.preview.scm.Fixtures.requestJson;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.preview.scm.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;

/**
 * A GitHub that keeps state the way github.com does for the calls the notifier makes: issue
 * comments (paginated, {@code Link} headers, ids growing), deployments and their statuses, commit
 * statuses. Each request is handled atomically, as GitHub does; races between requests are the
 * client's problem, which is what the concurrency tests are about.
 */
final class FakeGitHub extends Dispatcher {
  private static final Pattern COMMENTS = Pattern.compile("/repos/([^/]+/[^/]+)/issues/(\\d+)/comments");
  private static final Pattern COMMENT = Pattern.compile("/repos/([^/]+/[^/]+)/issues/comments/(\\d+)");
  private static final Pattern DEPLOYMENTS = Pattern.compile("/repos/([^/]+/[^/]+)/deployments");
  private static final Pattern DEPLOYMENT_STATUSES = Pattern.compile("/repos/([^/]+/[^/]+)/deployments/(\\d+)/statuses");
  private static final Pattern STATUSES = Pattern.compile("/repos/([^/]+/[^/]+)/statuses/([0-9a-f]+)");

  record Comment(long id, String repo, int issue, String body, String login, String type) {
    Comment(long id, String repo, int issue, String body) {
      this(id, repo, issue, body, "preview-bot[bot]", "Bot");
    }
  }

  final Map<Long, Comment> comments = new ConcurrentHashMap<>();
  final List<ObjectNode> deployments = new ArrayList<>();
  final List<ObjectNode> deploymentStatuses = new ArrayList<>();
  final List<ObjectNode> commitStatuses = new ArrayList<>();
  final AtomicLong ids = new AtomicLong(1000);
  final int pageSize;

  FakeGitHub(int pageSize) {
    this.pageSize = pageSize;
  }

  /** Bodies of the comments on one PR, oldest first. */
  synchronized List<String> commentBodies(String repo, int issue) {
    return comments.values().stream().filter(c -> c.repo.equals(repo) && c.issue == issue)
        .sorted((a, b) -> Long.compare(a.id, b.id)).map(Comment::body).toList();
  }

  synchronized void addComment(String repo, int issue, String body) {
    addComment(repo, issue, body, "preview-bot[bot]", "Bot");
  }

  /** A comment by {@code login}, a {@code type} ("User" or "Bot") account. */
  synchronized void addComment(String repo, int issue, String body, String login, String type) {
    long id = ids.incrementAndGet();
    comments.put(id, new Comment(id, repo, issue, body, login, type));
  }

  @Override
  public synchronized MockResponse dispatch(RecordedRequest r) {
    HttpUrl url = r.getUrl();
    String path = url.encodedPath();
    String method = r.getMethod();
    Matcher m;
    if ((m = COMMENTS.matcher(path)).matches()) {
      String repo = m.group(1);
      int issue = Integer.parseInt(m.group(2));
      if (method.equals("GET")) {
        return listComments(url, repo, issue);
      }
      long id = ids.incrementAndGet();
      Comment c = new Comment(id, repo, issue, requestJson(r).path("body").asText());
      comments.put(id, c);
      return json(201, comment(c));
    }
    if ((m = COMMENT.matcher(path)).matches()) {
      long id = Long.parseLong(m.group(2));
      Comment c = comments.get(id);
      if (c == null) {
        return json(404, Fixtures.MAPPER.createObjectNode().put("message", "Not Found"));
      }
      if (method.equals("DELETE")) {
        comments.remove(id);
        return new MockResponse.Builder().code(204).build();
      }
      Comment updated = new Comment(id, c.repo, c.issue, requestJson(r).path("body").asText(), c.login, c.type);
      comments.put(id, updated);
      return json(200, comment(updated));
    }
    if ((m = DEPLOYMENT_STATUSES.matcher(path)).matches()) {
      ObjectNode s = requestJson(r).put("id", ids.incrementAndGet()).put("deployment_id", Long.parseLong(m.group(2)));
      deploymentStatuses.add(s);
      return json(201, s);
    }
    if ((m = DEPLOYMENTS.matcher(path)).matches()) {
      if (method.equals("GET")) {
        ArrayNode out = Fixtures.MAPPER.createArrayNode();
        String env = url.queryParameter("environment");
        String sha = url.queryParameter("sha");
        for (int i = deployments.size() - 1; i >= 0; i--) {
          ObjectNode d = deployments.get(i);
          if ((env == null || env.equals(d.path("environment").asText())) && (sha == null || sha.equals(d.path("sha").asText()))) {
            out.add(d);
          }
        }
        return json(200, out);
      }
      ObjectNode body = requestJson(r);
      ObjectNode d = Fixtures.MAPPER.createObjectNode().put("id", ids.incrementAndGet()).put("sha", body.path("ref").asText())
          .put("ref", body.path("ref").asText()).put("environment", body.path("environment").asText())
          .put("transient_environment", body.path("transient_environment").asBoolean())
          .put("production_environment", body.path("production_environment").asBoolean());
      deployments.add(d);
      return json(201, d);
    }
    if ((m = STATUSES.matcher(path)).matches()) {
      ObjectNode s = requestJson(r).put("sha", m.group(2));
      commitStatuses.add(s);
      return json(201, s);
    }
    return json(404, Fixtures.MAPPER.createObjectNode().put("message", "Not Found: " + method + " " + path));
  }

  private MockResponse listComments(HttpUrl url, String repo, int issue) {
    int perPage = Math.min(pageSize, Integer.parseInt(url.queryParameter("per_page") == null ? "30" : url.queryParameter("per_page")));
    int page = url.queryParameter("page") == null ? 1 : Integer.parseInt(url.queryParameter("page"));
    List<Comment> all = comments.values().stream().filter(c -> c.repo.equals(repo) && c.issue == issue)
        .sorted((a, b) -> Long.compare(a.id, b.id)).toList();
    ArrayNode out = Fixtures.MAPPER.createArrayNode();
    all.stream().skip((long) (page - 1) * perPage).limit(perPage).forEach(c -> out.add(comment(c)));
    MockResponse.Builder b = new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(out.toString());
    if ((long) page * perPage < all.size()) {
      HttpUrl next = url.newBuilder().setQueryParameter("page", Integer.toString(page + 1)).build();
      b.setHeader("Link", "<" + next + ">; rel=\"next\"");
    }
    return b.build();
  }

  private static ObjectNode comment(Comment c) {
    ObjectNode n = Fixtures.MAPPER.createObjectNode().put("id", c.id).put("body", c.body)
        .put("html_url", "https://github.com/" + c.repo + "/pull/" + c.issue + "#issuecomment-" + c.id);
    n.putObject("user").put("login", c.login).put("type", c.type);
    return n;
  }
}
