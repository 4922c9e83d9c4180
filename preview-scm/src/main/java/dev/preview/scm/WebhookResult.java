package dev.preview.scm;

import dev.preview.spi.BuildEvent;
import dev.preview.spi.PullRequestEvent;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link WebhookSource} made of one delivery. Exactly one of:
 * <ul>
 *   <li>{@link Accepted}: a verified event the orchestrator should handle (HTTP 202);</li>
 *   <li>{@link Build}: a verified CI report on a commit (check, workflow run, status, pipeline), for
 *       the orchestrator to match against the previews waiting for their image (HTTP 202);</li>
 *   <li>{@link Command}: a verified {@code /preview ...} command in a new PR comment (HTTP 202); who
 *       wrote it is not checked yet ({@link CommandPermissions});</li>
 *   <li>{@link Ignored}: verified, but nothing to do, with the reason (HTTP 200; a {@code ping} is one);</li>
 *   <li>{@link Rejected}: not verified, malformed or too large (HTTP 401, 400 or 413); nothing was
 *       parsed when the signature or token was wrong.</li>
 * </ul>
 */
public sealed interface WebhookResult permits WebhookResult.Accepted, WebhookResult.Build, WebhookResult.Ignored,
    WebhookResult.Rejected, WebhookResult.Command {

  /** The HTTP status a webhook endpoint should answer with. */
  int httpStatus();

  /** The delivery id the SCM sent (for de-duplication and logs); null if it sent none. */
  String deliveryId();

  /** A verified event to handle. */
  record Accepted(PullRequestEvent event) implements WebhookResult {
    public Accepted {
      Objects.requireNonNull(event, "event");
    }

    @Override
    public int httpStatus() {
      return 202;
    }

    @Override
    public String deliveryId() {
      return event.deliveryId();
    }
  }

  /**
   * A verified CI report: one event per check, workflow, status or pipeline (a GitLab pipeline
   * gives one for itself and one per finished job). Never empty.
   */
  record Build(List<BuildEvent> events, String deliveryId) implements WebhookResult {
    public Build {
      events = List.copyOf(events);
      if (events.isEmpty()) {
        throw new IllegalArgumentException("a Build result has at least one event (else it is Ignored)");
      }
    }

    @Override
    public int httpStatus() {
      return 202;
    }
  }

  /** A verified delivery that needs no work, and why (shown in the SCM's delivery log). */
  record Ignored(String reason, String deliveryId) implements WebhookResult {
    public Ignored {
      Objects.requireNonNull(reason, "reason");
    }

    @Override
    public int httpStatus() {
      return 200;
    }
  }

  /** A delivery refused before or while reading it. */
  record Rejected(Reason reason, String message, String deliveryId) implements WebhookResult {
    public Rejected {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(message, "message");
    }

    @Override
    public int httpStatus() {
      return reason.httpStatus;
    }
  }

  /** Why a delivery was refused. */
  enum Reason {
    /** Missing or wrong signature or token. */
    UNAUTHORIZED(401),
    /** Verified, but not the JSON the SCM documents. */
    MALFORMED(400),
    /** Larger than the configured body cap. */
    TOO_LARGE(413);

    private final int httpStatus;

    Reason(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    public int httpStatus() {
      return httpStatus;
    }
  }

  /** A verified {@code /preview} command from a new PR comment, for the server to check and carry out. */
  record Command(CommentCommand command) implements WebhookResult {
    public Command {
      Objects.requireNonNull(command, "command");
    }

    @Override
    public int httpStatus() {
      return 202;
    }

    @Override
    public String deliveryId() {
      return command.deliveryId();
    }
  }
}
