package dev.preview.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A {@code pull_request} delivery shaped like GitHub's documented example (docs.github.com, "Webhook
 * events and payloads", pull_request): the pull request with its user, assignees, requested
 * reviewers, labels, milestone, head and base (each with its full repository object), {@code _links},
 * then the repository, organization, sender and installation, with every URL field GitHub sends.
 * About 25 KB of nested objects, as real deliveries are; not one long string.
 */
final class GitHubPayload {
  static final ObjectMapper JSON = new ObjectMapper();

  private GitHubPayload() {}

  static byte[] pullRequest(String action, String repo, int number, String sha) {
    String owner = repo.substring(0, repo.indexOf('/'));
    String name = repo.substring(repo.indexOf('/') + 1);
    ObjectNode root = JSON.createObjectNode();
    root.put("action", action);
    root.put("number", number);
    ObjectNode pr = root.putObject("pull_request");
    String api = "https://api.github.com/repos/" + repo;
    pr.put("url", api + "/pulls/" + number);
    pr.put("id", 1_913_204_961L + number);
    pr.put("node_id", "PR_kwDOKfJ0Ds5yCX3h");
    pr.put("html_url", "https://github.com/" + repo + "/pull/" + number);
    pr.put("diff_url", "https://github.com/" + repo + "/pull/" + number + ".diff");
    pr.put("patch_url", "https://github.com/" + repo + "/pull/" + number + ".patch");
    pr.put("issue_url", api + "/issues/" + number);
    pr.put("number", number);
    pr.put("state", "open");
    pr.put("locked", false);
    pr.put("title", "Add a basket page with saved items and a checkout summary");
    pr.set("user", user("octocat", 1));
    pr.put("body", "## What\n\nAdds the basket page: saved items, quantities, a checkout summary.\n\n"
        + "## Why\n\nCustomers lose their basket between sessions (see #311, #318).\n\n"
        + "## How to test\n\n1. Open the preview\n2. Add two items\n3. Reload: both are still there\n\n"
        + "- [x] tests\n- [x] migration `V7__basket.sql`\n- [ ] docs\n");
    pr.put("created_at", "2026-11-22T10:00:00Z");
    pr.put("updated_at", "2026-11-22T10:04:12Z");
    pr.putNull("closed_at");
    pr.putNull("merged_at");
    pr.putNull("merge_commit_sha");
    pr.set("assignee", user("hubot", 2));
    ArrayNode assignees = pr.putArray("assignees");
    assignees.add(user("hubot", 2)).add(user("monalisa", 3));
    ArrayNode reviewers = pr.putArray("requested_reviewers");
    reviewers.add(user("other-user", 4)).add(user("reviewer-two", 5));
    ArrayNode teams = pr.putArray("requested_teams");
    teams.add(team("justice-league", 1, owner));
    ArrayNode labels = pr.putArray("labels");
    labels.add(label(repo, 208_045_946, "preview", "Deploy a preview", "f29513"))
        .add(label(repo, 208_045_947, "enhancement", "New feature or request", "a2eeef"))
        .add(label(repo, 208_045_948, "needs-review", "Waiting for a reviewer", "d876e3"));
    pr.set("milestone", milestone(repo));
    pr.put("draft", false);
    pr.put("commits_url", api + "/pulls/" + number + "/commits");
    pr.put("review_comments_url", api + "/pulls/" + number + "/comments");
    pr.put("review_comment_url", api + "/pulls/comments{/number}");
    pr.put("comments_url", api + "/issues/" + number + "/comments");
    pr.put("statuses_url", api + "/statuses/" + sha);
    pr.set("head", ref(owner + ":feature/basket", "feature/basket", sha, owner, name));
    pr.set("base", ref(owner + ":main", "main", "9049f1265b7d61be4a8904a9a27120d2064dab3b", owner, name));
    ObjectNode links = pr.putObject("_links");
    links.putObject("self").put("href", api + "/pulls/" + number);
    links.putObject("html").put("href", "https://github.com/" + repo + "/pull/" + number);
    links.putObject("issue").put("href", api + "/issues/" + number);
    links.putObject("comments").put("href", api + "/issues/" + number + "/comments");
    links.putObject("review_comments").put("href", api + "/pulls/" + number + "/comments");
    links.putObject("review_comment").put("href", api + "/pulls/comments{/number}");
    links.putObject("commits").put("href", api + "/pulls/" + number + "/commits");
    links.putObject("statuses").put("href", api + "/statuses/" + sha);
    pr.put("author_association", "MEMBER");
    pr.putNull("auto_merge");
    pr.putNull("active_lock_reason");
    pr.put("merged", false);
    pr.putNull("mergeable");
    pr.putNull("rebaseable");
    pr.put("mergeable_state", "unknown");
    pr.putNull("merged_by");
    pr.put("comments", 3);
    pr.put("review_comments", 7);
    pr.put("maintainer_can_modify", false);
    pr.put("commits", 4);
    pr.put("additions", 412);
    pr.put("deletions", 37);
    pr.put("changed_files", 11);
    root.set("repository", repository(owner, name));
    root.set("organization", organization(owner));
    root.set("sender", user("octocat", 1));
    ObjectNode inst = root.putObject("installation");
    inst.put("id", 2_311_213);
    inst.put("node_id", "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxMTIxMw==");
    try {
      return JSON.writeValueAsBytes(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static ObjectNode user(String login, long id) {
    ObjectNode u = JSON.createObjectNode();
    String api = "https://api.github.com/users/" + login;
    u.put("login", login);
    u.put("id", id);
    u.put("node_id", "MDQ6VXNlcj" + id);
    u.put("avatar_url", "https://avatars.githubusercontent.com/u/" + id + "?v=4");
    u.put("gravatar_id", "");
    u.put("url", api);
    u.put("html_url", "https://github.com/" + login);
    u.put("followers_url", api + "/followers");
    u.put("following_url", api + "/following{/other_user}");
    u.put("gists_url", api + "/gists{/gist_id}");
    u.put("starred_url", api + "/starred{/owner}{/repo}");
    u.put("subscriptions_url", api + "/subscriptions");
    u.put("organizations_url", api + "/orgs");
    u.put("repos_url", api + "/repos");
    u.put("events_url", api + "/events{/privacy}");
    u.put("received_events_url", api + "/received_events");
    u.put("type", "User");
    u.put("user_view_type", "public");
    u.put("site_admin", false);
    return u;
  }

  private static ObjectNode team(String slug, long id, String org) {
    ObjectNode t = JSON.createObjectNode();
    t.put("id", id);
    t.put("node_id", "MDQ6VGVhbTE=");
    t.put("url", "https://api.github.com/teams/" + id);
    t.put("html_url", "https://github.com/orgs/" + org + "/teams/" + slug);
    t.put("name", "Justice League");
    t.put("slug", slug);
    t.put("description", "A great team.");
    t.put("privacy", "closed");
    t.put("notification_setting", "notifications_enabled");
    t.put("permission", "admin");
    t.put("members_url", "https://api.github.com/teams/" + id + "/members{/member}");
    t.put("repositories_url", "https://api.github.com/teams/" + id + "/repos");
    t.putNull("parent");
    return t;
  }

  private static ObjectNode label(String repo, long id, String name, String description, String color) {
    ObjectNode l = JSON.createObjectNode();
    l.put("id", id);
    l.put("node_id", "MDU6TGFiZWwyMDgwNDU5NDY=");
    l.put("url", "https://api.github.com/repos/" + repo + "/labels/" + name);
    l.put("name", name);
    l.put("description", description);
    l.put("color", color);
    l.put("default", false);
    return l;
  }

  private static ObjectNode milestone(String repo) {
    ObjectNode m = JSON.createObjectNode();
    String api = "https://api.github.com/repos/" + repo + "/milestones/1";
    m.put("url", api);
    m.put("html_url", "https://github.com/" + repo + "/milestones/v1.0");
    m.put("labels_url", api + "/labels");
    m.put("id", 1_002_604);
    m.put("node_id", "MDk6TWlsZXN0b25lMTAwMjYwNA==");
    m.put("number", 1);
    m.put("state", "open");
    m.put("title", "v1.0");
    m.put("description", "Tracking milestone for version 1.0");
    m.set("creator", user("octocat", 1));
    m.put("open_issues", 4);
    m.put("closed_issues", 8);
    m.put("created_at", "2026-04-10T20:09:31Z");
    m.put("updated_at", "2026-11-14T23:39:01Z");
    m.put("closed_at", "2026-11-14T23:39:01Z");
    m.put("due_on", "2026-12-10T07:00:00Z");
    return m;
  }

  private static ObjectNode ref(String label, String ref, String sha, String owner, String name) {
    ObjectNode r = JSON.createObjectNode();
    r.put("label", label);
    r.put("ref", ref);
    r.put("sha", sha);
    r.set("user", user(owner, 2));
    r.set("repo", repository(owner, name));
    return r;
  }

  static ObjectNode repository(String owner, String name) {
    ObjectNode r = JSON.createObjectNode();
    String full = owner + "/" + name;
    String api = "https://api.github.com/repos/" + full;
    r.put("id", 1_296_269);
    r.put("node_id", "MDEwOlJlcG9zaXRvcnkxMjk2MjY5");
    r.put("name", name);
    r.put("full_name", full);
    r.put("private", false);
    r.set("owner", user(owner, 2));
    r.put("html_url", "https://github.com/" + full);
    r.put("description", "The shop: catalogue, basket and checkout");
    r.put("fork", false);
    r.put("url", api);
    for (String k : new String[] {"forks", "keys{/key_id}", "collaborators{/collaborator}", "teams", "hooks",
        "issues/events{/number}", "events", "assignees{/user}", "branches{/branch}", "tags", "git/blobs{/sha}",
        "git/tags{/sha}", "git/refs{/sha}", "git/trees{/sha}", "statuses/{sha}", "languages", "stargazers",
        "contributors", "subscribers", "subscription", "commits{/sha}", "git/commits{/sha}", "comments{/number}",
        "issues/comments{/number}", "contents/{+path}", "compare/{base}...{head}", "merges", "{archive_format}{/ref}",
        "downloads", "issues{/number}", "pulls{/number}", "milestones{/number}", "notifications{?since,all,participating}",
        "labels{/name}", "releases{/id}", "deployments"}) {
      String field = k.replaceAll("\\{.*", "").replace("/", "_").replace("issues_events", "issue_events")
          .replace("issues_comments", "issue_comment").replace("git_", "git_");
      if (field.isEmpty()) {
        field = "archive";
      }
      r.put(field + "_url", api + "/" + k);
    }
    r.put("created_at", "2011-01-26T19:01:12Z");
    r.put("updated_at", "2026-11-22T09:58:00Z");
    r.put("pushed_at", "2026-11-22T10:00:00Z");
    r.put("git_url", "git://github.com/" + full + ".git");
    r.put("ssh_url", "git@github.com:" + full + ".git");
    r.put("clone_url", "https://github.com/" + full + ".git");
    r.put("svn_url", "https://svn.github.com/" + full);
    r.put("homepage", "https://shop.example.com");
    r.put("size", 108);
    r.put("stargazers_count", 80);
    r.put("watchers_count", 80);
    r.put("language", "Java");
    r.put("has_issues", true);
    r.put("has_projects", true);
    r.put("has_downloads", true);
    r.put("has_wiki", true);
    r.put("has_pages", false);
    r.put("has_discussions", false);
    r.put("forks_count", 9);
    r.putNull("mirror_url");
    r.put("archived", false);
    r.put("disabled", false);
    r.put("open_issues_count", 2);
    r.putObject("license").put("key", "apache-2.0").put("name", "Apache License 2.0").put("spdx_id", "Apache-2.0")
        .put("url", "https://api.github.com/licenses/apache-2.0").put("node_id", "MDc6TGljZW5zZTI=");
    r.put("allow_forking", true);
    r.put("is_template", false);
    r.put("web_commit_signoff_required", false);
    r.putArray("topics").add("java").add("shop").add("preview");
    r.put("visibility", "public");
    r.put("forks", 9);
    r.put("open_issues", 2);
    r.put("watchers", 80);
    r.put("default_branch", "main");
    r.put("allow_squash_merge", true);
    r.put("allow_merge_commit", true);
    r.put("allow_rebase_merge", true);
    r.put("allow_auto_merge", false);
    r.put("delete_branch_on_merge", true);
    r.put("allow_update_branch", false);
    r.put("use_squash_pr_title_as_default", false);
    r.put("squash_merge_commit_message", "COMMIT_MESSAGES");
    r.put("squash_merge_commit_title", "COMMIT_OR_PR_TITLE");
    r.put("merge_commit_message", "PR_TITLE");
    r.put("merge_commit_title", "MERGE_MESSAGE");
    return r;
  }

  private static ObjectNode organization(String login) {
    ObjectNode o = JSON.createObjectNode();
    String api = "https://api.github.com/orgs/" + login;
    o.put("login", login);
    o.put("id", 2);
    o.put("node_id", "MDEyOk9yZ2FuaXphdGlvbjI=");
    o.put("url", api);
    o.put("repos_url", api + "/repos");
    o.put("events_url", api + "/events");
    o.put("hooks_url", api + "/hooks");
    o.put("issues_url", api + "/issues");
    o.put("members_url", api + "/members{/member}");
    o.put("public_members_url", api + "/public_members{/member}");
    o.put("avatar_url", "https://avatars.githubusercontent.com/u/2?v=4");
    o.put("description", "Acme Corporation");
    return o;
  }

  /** {@code sha256=<hex>} of {@code body} under {@code secret}, as GitHub's X-Hub-Signature-256. */
  static String signature(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
