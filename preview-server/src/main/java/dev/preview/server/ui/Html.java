package dev.preview.server.ui;

import dev.preview.server.ui.DashboardAuth.Principal;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The dashboard's HTML, rendered on the server. Every string from outside (keys, branches, reasons,
 * log lines: a PR's code writes some of them) is escaped; links are only http(s). No inline script
 * or style (the page's Content-Security-Policy forbids them); {@code app.js} adds live refresh.
 */
final class Html {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm'Z'", Locale.ROOT)
      .withZone(java.time.ZoneOffset.UTC);

  private Html() {}

  static String esc(@Nullable String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          if (c < 0x20 && c != '\n' && c != '\t') {
            b.append('\uFFFD');
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }

  static String page(String title, @Nullable Principal who, String body) {
    StringBuilder b = new StringBuilder(8192);
    b.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<meta name=\"robots\" content=\"noindex\">")
        .append("<title>").append(esc(title)).append(" · previews</title>")
        .append("<link rel=\"stylesheet\" href=\"/ui/static/app.css\">")
        .append("<script src=\"/ui/static/app.js\" defer></script></head><body>")
        .append("<a class=\"skip\" href=\"#main\">Skip to content</a>")
        .append("<header><a class=\"brand\" href=\"/ui/\">Previews</a>");
    if (who != null) {
      b.append("<span class=\"who\">").append(esc(who.name())).append(" <span class=\"role\">(")
          .append(who.admin() ? "admin" : "read-only").append(")</span></span>");
      if (who.session() != null) {
        b.append("<form method=\"post\" action=\"/ui/logout\" class=\"inline\">").append(csrf(who))
            .append("<button type=\"submit\" class=\"link\">Log out</button></form>");
      }
    }
    b.append("</header><main id=\"main\">").append(body).append("</main></body></html>");
    return b.toString();
  }

  static String csrf(Principal who) {
    return who.session() == null ? "" : "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(who.session().csrf()) + "\">";
  }

  static String login(@Nullable String error) {
    StringBuilder b = new StringBuilder();
    b.append("<h1>Log in</h1>");
    if (error != null) {
      b.append("<p class=\"error\" role=\"alert\">").append(esc(error)).append("</p>");
    }
    b.append("<form method=\"post\" action=\"/ui/login\" class=\"login\">")
        .append("<label for=\"user\">User <span class=\"hint\">(leave empty for a token)</span></label>")
        .append("<input id=\"user\" name=\"user\" autocomplete=\"username\">")
        .append("<label for=\"secret\">Password or token</label>")
        .append("<input id=\"secret\" name=\"secret\" type=\"password\" required autocomplete=\"current-password\">")
        .append("<button type=\"submit\">Log in</button></form>");
    return page("Log in", null, b.toString());
  }

  // ---------------------------------------------------------------- list

  /** Previews on one page of the list. */
  static final int PAGE_SIZE = 50;

  /** The list's search, state filter and page (1-based); filters apply before paging. */
  record Filter(String q, @Nullable PreviewState state, int page) {
    Filter(String q, @Nullable PreviewState state) {
      this(q, state, 1);
    }

    boolean matches(PreviewRow r) {
      if (state != null && r.state() != state) {
        return false;
      }
      if (q.isEmpty()) {
        return true;
      }
      String needle = q.toLowerCase(Locale.ROOT);
      return contains(r.key().id(), needle) || contains(r.revision(), needle) || contains(r.reason(), needle)
          || contains(r.failedStep(), needle) || contains(r.database(), needle)
          || contains(r.url() == null ? null : r.url().toString(), needle);
    }

    private static boolean contains(@Nullable String hay, String needle) {
      return hay != null && hay.toLowerCase(Locale.ROOT).contains(needle);
    }

    String query() {
      StringBuilder b = new StringBuilder();
      if (!q.isEmpty()) {
        b.append("q=").append(URLEncoder.encode(q, StandardCharsets.UTF_8));
      }
      if (state != null) {
        b.append(b.length() > 0 ? "&" : "").append("state=").append(state.name());
      }
      if (page > 1) {
        b.append(b.length() > 0 ? "&" : "").append("page=").append(page);
      }
      return b.toString();
    }

    Filter page(int p) {
      return new Filter(q, state, p);
    }
  }

  static String list(List<PreviewRow> rows, PreviewBoard.Summary summary, Filter filter, Principal who,
      @Nullable String flash, Duration refresh, Instant now, @Nullable String banner) {
    StringBuilder b = new StringBuilder(256 * rows.size() + 4096);
    b.append("<h1>Previews</h1>");
    banner(b, banner);
    flash(b, flash);
    b.append("<form method=\"get\" action=\"/ui/\" class=\"filters\" role=\"search\">")
        .append("<label for=\"q\">Search</label><input id=\"q\" name=\"q\" type=\"search\" value=\"").append(esc(filter.q()))
        .append("\" placeholder=\"repository, number, revision, reason\">")
        .append("<label for=\"state\">State</label><select id=\"state\" name=\"state\" data-autosubmit>")
        .append("<option value=\"\">any</option>");
    for (PreviewState s : PreviewState.values()) {
      b.append("<option value=\"").append(s.name()).append('"').append(s == filter.state() ? " selected" : "").append('>')
          .append(s.name().toLowerCase(Locale.ROOT)).append("</option>");
    }
    b.append("</select><button type=\"submit\">Filter</button></form>");
    String fragment = "/ui/?" + filter.query() + (filter.query().isEmpty() ? "" : "&") + "fragment=live";
    StringBuilder live = new StringBuilder(256 * rows.size() + 2048);
    live(live, rows, summary, filter, now);
    region(b, refresh, fragment, live.toString());
    return page("Previews", who, b.toString());
  }

  /** The part of the list page that live refresh replaces: the summary strip and the table. */
  static void live(StringBuilder b, List<PreviewRow> rows, PreviewBoard.Summary summary, Filter filter, Instant now) {
    b.append("<section class=\"summary\" aria-label=\"Summary\"><ul>");
    if (summary.byState().isEmpty()) {
      b.append("<li>no previews</li>");
    }
    summary.byState().forEach((state, n) -> b.append("<li><span class=\"badge s-").append(state.name().toLowerCase(Locale.ROOT))
        .append("\">").append(state.name().toLowerCase(Locale.ROOT)).append("</span> ").append(n).append("</li>"));
    b.append("<li>time to URL, 7 days: ");
    if (summary.timeToUrlMedian() == null) {
      b.append("no runs yet");
    } else {
      b.append("median <strong>").append(seconds(summary.timeToUrlMedian())).append("</strong>, p90 <strong>")
          .append(seconds(summary.timeToUrlP90())).append("</strong> (").append(summary.samples()).append(" runs)");
    }
    b.append("</li><li>reclaimed, 7 days: <strong>").append(summary.reclaimed()).append("</strong> resources of ")
        .append(summary.reclaimedPreviews()).append(" previews</li></ul></section>");
    List<PreviewRow> matching = rows.stream().filter(filter::matches).toList();
    int pages = Math.max(1, (matching.size() + PAGE_SIZE - 1) / PAGE_SIZE);
    int page = Math.min(Math.max(1, filter.page()), pages);
    int from = (page - 1) * PAGE_SIZE;
    List<PreviewRow> shown = matching.subList(Math.min(from, matching.size()), Math.min(from + PAGE_SIZE, matching.size()));
    b.append("<table class=\"previews\"><caption>");
    if (matching.size() > PAGE_SIZE) {
      b.append(from + 1).append('–').append(from + shown.size()).append(" of ");
    }
    b.append(matching.size());
    if (matching.size() != rows.size()) {
      b.append(" of ").append(rows.size());
    }
    b.append(" previews</caption><thead><tr><th scope=\"col\">Preview</th><th scope=\"col\">State</th>")
        .append("<th scope=\"col\">Revision</th><th scope=\"col\">URL</th><th scope=\"col\">Age</th>")
        .append("<th scope=\"col\">Expires</th><th scope=\"col\">Last push</th><th scope=\"col\">Last visit</th>")
        .append("<th scope=\"col\">Database</th>")
        .append("</tr></thead><tbody id=\"rows\">");
    for (PreviewRow r : shown) {
      b.append("<tr data-key=\"").append(esc(r.key().id())).append("\" data-state=\"").append(r.state().name()).append("\">");
      b.append("<td data-label=\"Preview\"><a class=\"key\" href=\"").append(esc(detailPath(r.key()))).append("\">")
          .append(esc(r.key().id())).append("</a>");
      if (r.pullRequest() != null) {
        b.append(" <a class=\"pr\" href=\"").append(esc(safe(r.pullRequest()))).append("\" rel=\"noopener noreferrer\">PR</a>");
      }
      b.append("</td><td data-label=\"State\">");
      state(b, r);
      b.append("</td><td data-label=\"Revision\"><code>").append(esc(shortSha(r.revision()))).append("</code></td>");
      b.append("<td data-label=\"URL\">");
      link(b, r.url());
      r.links().forEach((name, uri) -> {
        b.append(' ');
        link(b, name, uri);
      });
      b.append("</td><td data-label=\"Age\">").append(r.created() == null ? "" : age(r.created(), now)).append("</td>");
      b.append("<td data-label=\"Expires\" class=\"expires\">").append(r.pinned() != null ? "pinned" : time(r.expires())).append("</td>");
      b.append("<td data-label=\"Last push\" class=\"last-push\">").append(time(r.lastPush())).append("</td>");
      b.append("<td data-label=\"Last visit\" class=\"last-visit\">").append(r.lastVisit() == null ? "never" : time(r.lastVisit()))
          .append("</td>");
      b.append("<td data-label=\"Database\"><code>").append(esc(r.database())).append("</code></td></tr>");
    }
    b.append("</tbody></table>");
    if (pages > 1) {
      b.append("<nav class=\"pages\" aria-label=\"Pages\">");
      if (page > 1) {
        b.append("<a rel=\"prev\" href=\"").append(esc(listPath(filter.page(page - 1)))).append("\">← previous</a> ");
      }
      b.append("<span>page ").append(page).append(" of ").append(pages).append("</span>");
      if (page < pages) {
        b.append(" <a rel=\"next\" href=\"").append(esc(listPath(filter.page(page + 1)))).append("\">next →</a>");
      }
      b.append("</nav>");
    }
  }

  private static String listPath(Filter f) {
    String q = f.query();
    return q.isEmpty() ? "/ui/" : "/ui/?" + q;
  }

  private static void state(StringBuilder b, PreviewRow r) {
    b.append("<span class=\"badge s-").append(r.state().name().toLowerCase(Locale.ROOT)).append("\">")
        .append(r.state().name().toLowerCase(Locale.ROOT)).append("</span>");
    if (r.sleeping()) {
      b.append(" <span class=\"hint\">asleep</span>");
    }
    if (r.state() == PreviewState.FAILED && r.failedStep() != null) {
      b.append(" <span class=\"step\">at ").append(esc(r.failedStep())).append("</span>");
    }
    if (!r.reason().isEmpty()) {
      b.append("<div class=\"reason\">").append(esc(cut(r.reason(), 200))).append("</div>");
    }
  }

  // ---------------------------------------------------------------- detail

  static String detail(PreviewRow r, List<String> logTail, Principal who, @Nullable String flash, Duration refresh,
      Instant now, boolean canSleep, @Nullable String banner) {
    StringBuilder b = new StringBuilder(8192);
    b.append("<p><a href=\"/ui/\">← all previews</a></p><h1>").append(esc(r.key().id())).append("</h1>");
    banner(b, banner);
    flash(b, flash);
    StringBuilder live = new StringBuilder(4096);
    detailLive(live, r, logTail, now);
    region(b, refresh, detailPath(r.key()) + (r.key().isPullRequest() ? "?" : "&") + "fragment=live", live.toString());
    if (who.admin() && banner == null) {
      b.append("<section class=\"actions\" aria-label=\"Actions\"><h2>Actions</h2>");
      action(b, who, r.key(), "redeploy", "Redeploy", null);
      action(b, who, r.key(), "extend", "Extend +24h", null);
      action(b, who, r.key(), r.pinned() != null ? "unpin" : "pin", r.pinned() != null ? "Unpin" : "Pin", null);
      if (canSleep) {
        action(b, who, r.key(), r.sleeping() ? "wake" : "sleep", r.sleeping() ? "Wake" : "Sleep", null);
      }
      action(b, who, r.key(), "delete", "Delete", "Delete the preview of " + r.key().id() + "?");
      b.append("</section>");
    }
    return page(r.key().id(), who, b.toString());
  }

  static void detailLive(StringBuilder b, PreviewRow r, List<String> logTail, Instant now) {
    b.append("<dl class=\"facts\">");
    fact(b, "State", null);
    state(b, r);
    b.append("</dd>");
    if (r.state() == PreviewState.FAILED) {
      fact(b, "Failed step", r.failedStep() == null ? "unknown" : r.failedStep());
      b.append("</dd>");
      fact(b, "Reason", r.reason().isEmpty() ? "unknown" : r.reason());
      b.append("</dd>");
    }
    fact(b, "Revision", null);
    b.append("<code>").append(esc(r.revision())).append("</code></dd>");
    fact(b, "URL", null);
    link(b, r.url());
    r.links().forEach((name, uri) -> {
      b.append(' ');
      link(b, name, uri);
    });
    b.append("</dd>");
    if (r.pullRequest() != null) {
      fact(b, "Pull request", null);
      link(b, r.pullRequest());
      b.append("</dd>");
    }
    fact(b, "Age", r.created() == null ? "unknown" : age(r.created(), now) + " (since " + plain(r.created()) + ")");
    b.append("</dd>");
    fact(b, "Expires", r.pinned() != null ? "never: pinned (" + r.pinned() + ")" : r.expires() == null ? "no date" : plain(r.expires()));
    b.append("</dd>");
    fact(b, "Last push", r.lastPush() == null ? "unknown" : plain(r.lastPush()));
    b.append("</dd>");
    fact(b, "Last visit", r.lastVisit() == null ? "none recorded" : plain(r.lastVisit()));
    b.append("</dd>");
    fact(b, "Last activity (push or visit)", r.lastActivity() == null ? "unknown" : plain(r.lastActivity()));
    b.append("</dd>");
    fact(b, "Database", r.database() == null ? "none known" : r.database());
    b.append("</dd>");
    fact(b, "Sleeping", r.sleeping() ? "yes" : "no");
    b.append("</dd></dl>");
    b.append("<h2>Changes against main</h2>");
    if (r.changes().isEmpty()) {
      b.append("<p class=\"hint\">none known</p>");
    } else {
      b.append("<ul class=\"changes\">");
      r.changes().forEach(c -> b.append("<li>").append(esc(c)).append("</li>"));
      b.append("</ul>");
    }
    b.append("<h2>Step timings</h2>");
    if (r.timings().isEmpty()) {
      b.append("<p class=\"hint\">no run seen since this server started</p>");
    } else {
      b.append("<table class=\"timings\"><caption>Last run</caption><thead><tr><th scope=\"col\">Step</th>")
          .append("<th scope=\"col\">Took</th></tr></thead><tbody>");
      Duration total = Duration.ZERO;
      for (Map.Entry<String, Duration> e : r.timings().entrySet()) {
        b.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(seconds(e.getValue())).append("</td></tr>");
        total = total.plus(e.getValue());
      }
      b.append("<tr><th scope=\"row\">total</th><td>").append(seconds(total)).append("</td></tr></tbody></table>");
    }
    b.append("<h2>Log tail</h2>");
    if (logTail.isEmpty()) {
      b.append("<p class=\"hint\">no output</p>");
    } else {
      b.append("<pre class=\"log\" tabindex=\"0\" aria-label=\"Last log lines\">");
      logTail.forEach(l -> b.append(esc(cut(l, 500))).append('\n'));
      b.append("</pre>");
    }
  }

  /**
   * The region {@code app.js} refreshes from {@code src}: it replaces it only when the fragment's
   * {@code X-Live-Version} differs from {@code data-version} (nothing moves under the reader's pointer otherwise).
   */
  private static void region(StringBuilder b, Duration refresh, String src, String live) {
    b.append("<div id=\"live\" data-refresh=\"").append(refresh.toMillis()).append("\" data-src=\"").append(esc(src))
        .append("\" data-version=\"").append(version(live)).append("\" aria-live=\"polite\">").append(live).append("</div>");
  }

  /** A short fingerprint of a fragment, for live refresh. */
  static String version(String fragment) {
    return Integer.toHexString(fragment.hashCode()) + "-" + Integer.toHexString(fragment.length());
  }

  private static void fact(StringBuilder b, String name, @Nullable String value) {
    b.append("<dt>").append(esc(name)).append("</dt><dd>");
    if (value != null) {
      b.append(esc(value));
    }
  }

  private static void action(StringBuilder b, Principal who, PreviewKey key, String action, String label, @Nullable String confirm) {
    b.append("<form method=\"post\" action=\"").append(esc(actionPath(key, action))).append("\" class=\"inline\"");
    if (confirm != null) {
      b.append(" data-confirm=\"").append(esc(confirm)).append('"');
    }
    b.append('>').append(csrf(who)).append("<button type=\"submit\" name=\"action\" value=\"").append(action).append('"')
        .append(action.equals("delete") ? " class=\"danger\"" : "").append(">").append(esc(label)).append("</button></form>");
  }

  private static void banner(StringBuilder b, @Nullable String banner) {
    if (banner != null) {
      b.append("<p class=\"banner\" role=\"note\">").append(esc(banner)).append("</p>");
    }
  }

  private static void flash(StringBuilder b, @Nullable String flash) {
    if (flash != null) {
      b.append("<p class=\"flash\" role=\"status\">").append(esc(flash)).append("</p>");
    }
  }

  // ---------------------------------------------------------------- bits

  static String detailPath(PreviewKey key) {
    if (key.isPullRequest()) {
      return "/ui/previews/" + pathOf(key.repository()) + "/" + key.number();
    }
    return "/ui/preview?key=" + URLEncoder.encode(key.id(), StandardCharsets.UTF_8);
  }

  static String actionPath(PreviewKey key, String action) {
    if (key.isPullRequest()) {
      return "/ui/previews/" + pathOf(key.repository()) + "/" + key.number() + "/" + action;
    }
    return "/ui/preview/" + action + "?key=" + URLEncoder.encode(key.id(), StandardCharsets.UTF_8);
  }

  private static String pathOf(String repository) {
    StringBuilder b = new StringBuilder();
    for (String part : repository.split("/")) {
      b.append(b.length() > 0 ? "/" : "").append(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return b.toString();
  }

  private static void link(StringBuilder b, @Nullable URI uri) {
    if (uri != null) {
      link(b, uri.toString(), uri);
    }
  }

  private static void link(StringBuilder b, String text, URI uri) {
    String href = safe(uri);
    if (href == null) {
      b.append("<code>").append(esc(text)).append("</code>");
    } else {
      b.append("<a href=\"").append(esc(href)).append("\" rel=\"noopener noreferrer\">").append(esc(text)).append("</a>");
    }
  }

  /** The URI if it is http(s), else null (no {@code javascript:} from anywhere). */
  static @Nullable String safe(URI uri) {
    String s = uri.getScheme();
    return s != null && (s.equalsIgnoreCase("http") || s.equalsIgnoreCase("https")) ? uri.toASCIIString() : null;
  }

  static String time(@Nullable Instant i) {
    return i == null ? "" : "<time datetime=\"" + i.truncatedTo(ChronoUnit.SECONDS) + "\">" + TIME.format(i) + "</time>";
  }

  static String plain(@Nullable Instant i) {
    return i == null ? "" : TIME.format(i);
  }

  static String age(Instant created, Instant now) {
    Duration d = Duration.between(created, now);
    if (d.isNegative()) {
      return "0m";
    }
    if (d.toDays() > 0) {
      return d.toDays() + "d " + d.toHoursPart() + "h";
    }
    if (d.toHours() > 0) {
      return d.toHours() + "h " + d.toMinutesPart() + "m";
    }
    return d.toMinutes() + "m";
  }

  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private static String shortSha(@Nullable String sha) {
    return sha == null ? "" : sha.length() > 12 ? sha.substring(0, 12) : sha;
  }

  private static String cut(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "…" : s;
  }
}
