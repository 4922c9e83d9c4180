package dev.preview.scm.internal;

import dev.preview.spi.PreviewStatus;

/** The one-line text of a status that deployment and commit statuses show next to their state. */
public final class StatusDescription {
  private StatusDescription() {}

  /**
   * {@code Preview ready}, {@code Preview failed at deploy: <message>}, …: the state in words, then
   * the status's message on one line; cut to {@code maxLength} characters (ending in {@code …}).
   */
  public static String of(PreviewStatus s, int maxLength) {
    String d = switch (s.state()) {
      case PENDING -> "Preview pending";
      case WAITING -> "Preview waiting for its build";
      case BUILDING -> "Preview building";
      case PROVISIONING -> "Preview deploying";
      case READY -> "Preview ready";
      case FAILED -> "Preview failed" + (s.failedStep() != null ? " at " + s.failedStep() : "");
      case SLEEPING -> "Preview sleeping";
      case DELETING -> "Preview being deleted";
      case DELETED -> "Preview deleted";
    };
    if (!s.message().isEmpty()) {
      d += ": " + s.message().replaceAll("\\s+", " ");
    }
    return d.length() > maxLength ? d.substring(0, maxLength - 1) + "…" : d;
  }
}
