package dev.preview.scm.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.preview.scm.StatusComment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.ProviderException;
import dev.preview.spi.PublishedStatus;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one-comment-per-PR algorithm, shared by GitHub (issue comments) and GitLab (MR notes).
 * Callers serialise calls per key; this class never creates a comment without having listed the
 * PR's comments first and found none with the marker, and never repeats a failed create without
 * listing again. Comment ids are remembered to save calls; a 404 on edit means a human deleted
 * it, and the search starts over.
 *
 * <h2>What the comment says, for machines</h2>
 * The second line of the comment is a hidden status line, {@code <!-- preview.dev:status v=1
 * state=READY revision=<sha> url=<percent-encoded> step=<percent-encoded> -->}, from which
 * {@link #published} reads back what the PR shows. It holds only what the orchestrator produced
 * (a state, a commit id, the preview's URL without user info, a step name), each percent-encoded,
 * so nothing in it can end the HTML comment; free text (messages, logs) never goes in it. Only a
 * comment whose author is the notifier's own account ({@link Api#byUs}) counts: a PR author who
 * posts a copy of the marker is ignored. A comment written before the status line existed (the
 * marker line alone) is still found, updated, and read back from its {@code State} row.
 */
public final class StickyComments {
  private static final Logger LOG = LoggerFactory.getLogger(StickyComments.class);

  /**
   * A comment as the SCM lists it.
   *
   * @param author its author as the SCM gives it (for {@link Api#byUs}), or null for one this class wrote
   */
  public record Note(long id, String body, JsonNode author) {
    public Note(long id, String body) {
      this(id, body, null);
    }
  }

  /** The comment calls of one SCM. */
  public interface Api {
    /** Every comment of the PR, oldest first (all pages). */
    List<Note> list(PreviewKey key);

    /**
     * Whether {@code author} (of a comment that starts with our marker) is the account this
     * notifier writes as; asked only for such comments, so it may look its own account up once.
     */
    boolean byUs(PreviewKey key, JsonNode author);

    long create(PreviewKey key, String body);

    void update(PreviewKey key, long id, String body);

    void delete(PreviewKey key, long id);
  }

  private final String provider;
  private final Api api;
  private final Map<PreviewKey, Note> cache = new ConcurrentHashMap<>();
  /** PRs listed by {@link #published} with no comment of ours: not listed again until we write one. */
  private final Set<PreviewKey> absent = ConcurrentHashMap.newKeySet();

  public StickyComments(String provider, Api api) {
    this.provider = provider;
    this.api = api;
  }

  /** Makes the PR's one status comment read {@code body}; the caller holds the key's lock. */
  public void upsert(PreviewKey key, String marker, String body) {
    Note c = cache.get(key);
    if (c == null) {
      c = find(key, marker);
    }
    if (c != null) {
      if (c.body.equals(body)) {
        return;
      }
      try {
        update(key, c.id, body);
        return;
      } catch (ProviderException e) {
        if (e.httpStatus().orElse(0) != 404) {
          throw e;
        }
        cache.remove(key);
        c = find(key, marker);
        if (c != null) {
          update(key, c.id, body);
          return;
        }
      }
    }
    create(key, marker, body);
  }

  private void update(PreviewKey key, long id, String body) {
    api.update(key, id, body);
    cache.put(key, new Note(id, body));
    absent.remove(key);
  }

  private void create(PreviewKey key, String marker, String body) {
    long id;
    try {
      id = api.create(key, body);
    } catch (ProviderException e) {
      if (!e.retryable()) {
        throw e;
      }
      // The create may have been stored before the failure: look before trying again, once.
      Note stored = find(key, marker);
      if (stored != null) {
        if (!stored.body.equals(body)) {
          update(key, stored.id, body);
        }
        cache.put(key, new Note(stored.id, body));
        return;
      }
      id = api.create(key, body);
    }
    cache.put(key, new Note(id, body));
    absent.remove(key);
  }

  /**
   * Makes the PR's status comment read {@code body} if there is one, and creates none: a teardown of
   * a PR that never had a preview (closed before it got one, or never admitted) must not post a
   * "deleted" comment. Returns whether a comment exists.
   */
  public boolean updateIfPresent(PreviewKey key, String marker, String body) {
    Note c = cache.get(key);
    if (c == null) {
      c = find(key, marker);
    }
    if (c == null) {
      return false;
    }
    if (!c.body.equals(body)) {
      try {
        update(key, c.id, body);
      } catch (ProviderException e) {
        if (e.httpStatus().orElse(0) != 404) {
          throw e;
        }
        cache.remove(key); // deleted by a human meanwhile: nothing to update
        return false;
      }
    }
    return true;
  }

  /** Drops what is remembered of {@code key} (after teardown); the next update looks the comment up again. */
  public void forget(PreviewKey key) {
    cache.remove(key);
    absent.remove(key);
  }

  /**
   * What the PR of {@code key} shows: parsed from our comment (as this process last wrote it, else
   * as listed), empty if it has none. The caller holds the key's lock.
   *
   * @throws ProviderException if the comments could not be listed (unknown, not "none")
   */
  public Optional<PublishedStatus> published(PreviewKey key, String marker) {
    Note c = cache.get(key);
    if (c == null) {
      if (absent.contains(key)) {
        return Optional.empty();
      }
      c = find(key, marker);
      if (c == null) {
        absent.add(key);
        return Optional.empty();
      }
    }
    return Optional.ofNullable(parse(key, c.body));
  }

  // ------------------------------------------------------------------ the status line

  private static final String STATUS_PREFIX = "<!-- preview.dev:status v=1";
  private static final Pattern FIELD = Pattern.compile(" ([a-z]+)=([A-Za-z0-9%._*+-]*)");
  private static final Pattern REVISION = Pattern.compile("[0-9A-Za-z._-]{1,100}");
  private static final Pattern STEP = Pattern.compile("[A-Za-z0-9._-]{1,100}");
  private static final Pattern STATE_ROW = Pattern.compile("^\\| \\*\\*State\\*\\* \\| `([A-Z]+)` \\|$", Pattern.MULTILINE);
  private static final Pattern REVISION_ROW = Pattern.compile("^\\| \\*\\*Revision\\*\\* \\| `([0-9A-Za-z._-]+)` \\|$", Pattern.MULTILINE);

  /** The marker that starts the comment of {@code key} (as {@link PreviewStatus#marker()}). */
  public static String marker(PreviewKey key) {
    return "<!-- preview.dev:" + key.id() + " -->";
  }

  /** The comment body of {@code status}: {@link StatusComment#render} with the status line after the marker. */
  public static String body(PreviewStatus status) {
    String rendered = StatusComment.render(status);
    int nl = rendered.indexOf('\n');
    return rendered.substring(0, nl + 1) + statusLine(status) + "\n" + rendered.substring(nl + 1);
  }

  /** The hidden status line of {@code s}: only what the orchestrator produced, percent-encoded. */
  static String statusLine(PreviewStatus s) {
    StringBuilder b = new StringBuilder(STATUS_PREFIX).append(" state=").append(s.state().name());
    if (s.revision() != null && REVISION.matcher(s.revision()).matches()) {
      b.append(" revision=").append(s.revision());
    }
    URI url = s.url();
    if (url != null && url.getUserInfo() == null && ("http".equals(url.getScheme()) || "https".equals(url.getScheme()))) {
      b.append(" url=").append(encode(url.toASCIIString()));
    }
    if (s.failedStep() != null && STEP.matcher(s.failedStep()).matches()) {
      b.append(" step=").append(encode(s.failedStep()));
    }
    return b.append(" -->").toString();
  }

  /** What a comment body of ours shows, or null if it says nothing readable. */
  static PublishedStatus parse(PreviewKey key, String body) {
    String[] lines = body.split("\n", 3);
    if (lines.length >= 2 && lines[1].startsWith(STATUS_PREFIX + " ") && lines[1].endsWith(" -->")) {
      Map<String, String> fields = new HashMap<>();
      Matcher m = FIELD.matcher(lines[1].substring(STATUS_PREFIX.length(), lines[1].length() - " -->".length()));
      while (m.find()) {
        fields.put(m.group(1), m.group(2));
      }
      PreviewState state = state(fields.get("state"));
      if (state != null) {
        String revision = fields.get("revision");
        String url = fields.get("url");
        String step = fields.get("step");
        try {
          return new PublishedStatus(key, state, revision, url == null ? null : URI.create(decode(url)),
              step == null ? null : decode(step));
        } catch (IllegalArgumentException e) {
          return new PublishedStatus(key, state, revision, null, null);
        }
      }
    }
    // A comment from before the status line: its State row (our own rendering) says the state.
    Matcher state = STATE_ROW.matcher(body);
    if (!state.find() || state(state.group(1)) == null) {
      return null;
    }
    Matcher revision = REVISION_ROW.matcher(body);
    return new PublishedStatus(key, state(state.group(1)), revision.find() ? revision.group(1) : null, null, null);
  }

  private static PreviewState state(String name) {
    if (name == null) {
      return null;
    }
    try {
      return PreviewState.valueOf(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** Our comment (the oldest with the marker), deleting later duplicates; null if none. */
  private Note find(PreviewKey key, String marker) {
    Note first = null;
    for (Note n : api.list(key)) {
      if (!StatusComment.isOurs(n.body, marker) || (n.author != null && !api.byUs(key, n.author))) {
        continue; // not our marker, or a copy of it posted by someone else
      }
      if (first == null) {
        first = n;
      } else {
        LOG.warn("{}: deleting duplicate status comment {} on {}", provider, n.id, key);
        api.delete(key, n.id);
      }
    }
    if (first != null) {
      cache.put(key, first);
    }
    return first;
  }
}
