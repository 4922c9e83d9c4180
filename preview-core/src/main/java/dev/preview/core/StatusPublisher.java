package dev.preview.core;

import dev.preview.spi.DatabaseProvider;
import dev.preview.spi.PreviewKey;
import dev.preview.spi.PreviewState;
import dev.preview.spi.PreviewStatus;
import dev.preview.spi.PublishedStatus;
import dev.preview.spi.ScmNotifier;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the PR what its preview is doing: builds the {@link PreviewStatus} (the app's links, the
 * database text, the time from the clock) and hands it to the {@link ScmNotifier}.
 *
 * <p>Callers treat {@link #publish} as fire-and-forget: it never throws for a notifier failure and
 * returns nothing, so a failed PR comment never fails a preview. {@link #deliver} hands the status
 * to a {@link StatusDelivery}: per PR in order, coalesced, identical statuses not re-posted, and
 * (when asynchronous) off the caller's thread with retries; {@link #republishDiverged()} is the
 * reconcile's repair.
 *
 * <p>Thread-safe if the notifier is.
 */
final class StatusPublisher {
  private static final Logger log = LoggerFactory.getLogger(PreviewOrchestrator.class);

  private final ScmNotifier notifier;
  private final AppTemplate app;
  private final DatabaseProvider database;
  private final Clock clock;
  private final StatusDelivery delivery;
  /** The newest status made per key (what a command's answer is added to); a DELETED one is forgotten. */
  private final Map<PreviewKey, PreviewStatus> last = new java.util.concurrent.ConcurrentHashMap<>();

  StatusPublisher(ScmNotifier notifier, AppTemplate app, DatabaseProvider database, Clock clock) {
    this(notifier, app, database, clock, StatusDelivery.Options.synchronous());
  }

  StatusPublisher(ScmNotifier notifier, AppTemplate app, DatabaseProvider database, Clock clock, StatusDelivery.Options delivery) {
    this(notifier, app, database, clock, delivery, new Listeners(List.of()));
  }

  StatusPublisher(ScmNotifier notifier, AppTemplate app, DatabaseProvider database, Clock clock,
      StatusDelivery.Options delivery, Listeners listeners) {
    this.notifier = notifier;
    this.app = app;
    this.database = database;
    this.clock = clock;
    this.delivery = notifier == null ? null : new StatusDelivery(notifier, delivery, clock, listeners);
  }

  void publish(PreviewKey key, PreviewState state, String revision, URI url, String message, String failedStep,
      List<String> logTail, Map<String, Duration> steps) {
    publish(key, state, revision, url, message, failedStep, logTail, steps, null);
  }

  void publish(PreviewKey key, PreviewState state, String revision, URI url, String message, String failedStep,
      List<String> logTail, Map<String, Duration> steps, String databaseName) {
    publish(key, state, revision, url, message, failedStep, logTail, steps, databaseName, null);
  }

  /**
   * @param changes what the preview changes against the main line; null: keep the summary of the
   *     last status of this key (a teardown or sleep does not change what the PR changes)
   */
  void publish(PreviewKey key, PreviewState state, String revision, URI url, String message, String failedStep,
      List<String> logTail, Map<String, Duration> steps, String databaseName, List<String> changes) {
    if (notifier == null) {
      return;
    }
    Map<String, URI> links = new LinkedHashMap<>();
    if (url != null) {
      app.links().forEach((name, path) -> links.put(name, url.resolve(path.substring(1))));
    }
    String db = database == null || databaseName == null ? null : database.name() + " " + databaseName;
    PreviewStatus previous = last.get(key);
    List<String> summary = changes != null ? changes : previous == null ? List.of() : previous.changes();
    String command = previous == null ? null : previous.lastCommand();
    deliver(new PreviewStatus(key, state, revision, url, links, message, failedStep, logTail, steps,
        clock.instant(), db, state == PreviewState.DELETED ? List.of() : summary, command));
  }

  /**
   * Puts the answer to a PR comment command into the sticky status (one "last command" line) and
   * publishes it again: the newest status this process made for {@code key}, or {@code fallback}
   * when it knows none (after a restart). False if there is no notifier or nothing to publish.
   */
  boolean answer(PreviewKey key, String answer, java.util.function.Supplier<PreviewStatus> fallback) {
    if (notifier == null) {
      return false;
    }
    PreviewStatus previous = last.get(key);
    PreviewStatus base = previous != null ? previous : fallback.get();
    if (base == null) {
      return false;
    }
    deliver(base.withLastCommand(answer).withUpdatedAt(clock.instant()));
    return true;
  }

  /** The newest status this process made for {@code key}, if any. */
  /** The keys whose newest status this process published is not DELETED. */
  Set<PreviewKey> shownKeys() {
    return Set.copyOf(last.keySet());
  }

  java.util.Optional<PreviewStatus> last(PreviewKey key) {
    return java.util.Optional.ofNullable(last.get(key));
  }

  private void deliver(PreviewStatus status) {
    if (status.state() == PreviewState.DELETED) {
      last.remove(status.key());
    } else {
      last.put(status.key(), status);
    }
    try {
      delivery.submit(status);
    } catch (RuntimeException e) {
      // A PR comment that could not be written must not fail the preview.
      log.warn("{}: {} could not publish {}: {}", status.key(), notifier.name(), status.state(), e.toString());
    }
  }

  /**
   * What the PR of {@code key} shows: read back from the notifier ({@link ScmNotifier#published});
   * when it cannot read back (empty), the status this process last published, if any. Empty without
   * a notifier.
   *
   * @throws RuntimeException if the read-back failed: what the PR shows is unknown
   */
  Optional<PublishedStatus> shown(PreviewKey key) {
    if (notifier == null) {
      return Optional.empty();
    }
    Optional<PublishedStatus> read = notifier.published(key);
    if (read.isPresent()) {
      return read;
    }
    PreviewStatus last = delivery.published(key);
    return last == null ? Optional.empty() : Optional.of(PublishedStatus.of(last));
  }

  /**
   * What every PR of {@code repository} shows, read in one listing ({@link ScmNotifier#publishedAll});
   * empty without a notifier or when it cannot list in bulk (then {@link #shown(PreviewKey)} reads per key).
   *
   * @throws RuntimeException if the listing failed: what the repository's PRs show is unknown
   */
  Optional<Map<PreviewKey, PublishedStatus>> shownAll(String repository) {
    return notifier == null ? Optional.empty() : notifier.publishedAll(repository);
  }

  /**
   * {@link #shown(PreviewKey)} answered from a bulk {@code listing} of the key's repository (see
   * {@link #shownAll}) instead of a read: a PR without an entry shows nothing of ours, so, as for an
   * empty read, what this process last published stands in for it.
   */
  Optional<PublishedStatus> shown(PreviewKey key, Map<PreviewKey, PublishedStatus> listing) {
    if (notifier == null) {
      return Optional.empty();
    }
    PublishedStatus read = listing.get(key);
    if (read != null) {
      return Optional.of(read);
    }
    PreviewStatus last = delivery.published(key);
    return last == null ? Optional.empty() : Optional.of(PublishedStatus.of(last));
  }

  /** The newest status of {@code key} this process wanted and did not get published, or null. */
  PreviewStatus undelivered(PreviewKey key) {
    return delivery == null ? null : delivery.undelivered(key);
  }

  /** Whether a status of {@code key} is being sent now (asynchronous delivery). */
  boolean sending(PreviewKey key) {
    return delivery != null && delivery.sending(key);
  }

  /** Hands {@code status} (built earlier, e.g. {@link #undelivered}) to the delivery again. */
  void republish(PreviewStatus status) {
    if (delivery != null) {
      deliver(status);
    }
  }

  /** Whether there is a notifier to publish to. */
  boolean publishes() {
    return notifier != null;
  }

  /** Publishes again every PR's newest status that did not reach the SCM; how many. */
  int republishDiverged() {
    return delivery == null ? 0 : delivery.republishDiverged(Set.of());
  }

  /** The same, except for {@code keys} (whose status reconcile just compared with what it observed). */
  int republishDiverged(Set<PreviewKey> except) {
    return delivery == null ? 0 : delivery.republishDiverged(except);
  }

  /** Lets statuses being delivered finish (up to {@code flush}), then stops delivering. */
  void close(Duration flush) {
    if (delivery != null) {
      delivery.close(flush);
    }
  }
}
