package dev.preview.scm.internal;

import dev.preview.scm.StatusComment;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.ProviderException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one-comment-per-PR algorithm, shared by GitHub (issue comments) and GitLab (MR notes).
 * Callers serialise calls per key; this class never creates a comment without having listed the
 * PR's comments first and found none with the marker, and never repeats a failed create without
 * listing again. Comment ids are remembered to save calls; a 404 on edit means a human deleted
 * it, and the search starts over.
 */
public final class StickyComments {
  private static final Logger LOG = LoggerFactory.getLogger(StickyComments.class);

  /** A comment as the SCM lists it. */
  public record Note(long id, String body) {}

  /** The four comment calls of one SCM. */
  public interface Api {
    /** Every comment of the PR, oldest first (all pages). */
    List<Note> list(PreviewKey key);

    long create(PreviewKey key, String body);

    void update(PreviewKey key, long id, String body);

    void delete(PreviewKey key, long id);
  }

  private final String provider;
  private final Api api;
  private final Map<PreviewKey, Note> cache = new ConcurrentHashMap<>();

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
  }

  /** Our comment (the oldest with the marker), deleting later duplicates; null if none. */
  private Note find(PreviewKey key, String marker) {
    Note first = null;
    for (Note n : api.list(key)) {
      if (!StatusComment.isOurs(n.body, marker)) {
        continue;
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
