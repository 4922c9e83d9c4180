package dev.preview.spi;

import java.net.URI;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * CI reported on a commit's build: the SCM-neutral form of a GitHub {@code check_suite},
 * {@code check_run}, {@code workflow_run} or {@code status} event, or of a GitLab pipeline (or one
 * of its jobs). The orchestrator matches it against the previews waiting for their image
 * (repository, head SHA and one of {@code build.waitFor}).
 *
 * @param repository the repository, as in {@link PreviewKey#repository()} ({@code acme/shop})
 * @param sha the commit the build is for (40 hex digits)
 * @param name the check, workflow, status context, pipeline or job name CI gave it
 * @param conclusion what the build came to
 * @param detail the CI's own word for it ({@code success}, {@code timed_out}, {@code failed}...)
 * @param url a link to the run, if the payload has one
 * @param deliveryId the SCM's delivery id, for logs; may be null
 */
public record BuildEvent(String repository, String sha, String name, Conclusion conclusion, String detail,
    @Nullable URI url, @Nullable String deliveryId) {

  /** What a build came to. */
  public enum Conclusion {
    /** Done and good: its image is there. */
    SUCCESS,
    /** Done and not good (failed, cancelled, timed out, skipped): its image will not come. */
    FAILURE,
    /** Queued or running. */
    PENDING
  }

  public BuildEvent {
    Objects.requireNonNull(repository, "repository");
    Objects.requireNonNull(sha, "sha");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(conclusion, "conclusion");
    detail = detail == null ? conclusion.name().toLowerCase(java.util.Locale.ROOT) : detail;
  }

  @Override
  public String toString() {
    return name + " " + detail + " for " + repository + "@" + sha;
  }
}
