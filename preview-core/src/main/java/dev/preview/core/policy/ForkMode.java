package dev.preview.core.policy;

/** What happens to PRs whose head lives in a fork. */
public enum ForkMode {
  /** No preview for fork PRs. */
  DENY,
  /** A preview, without secrets (unless {@code forkSecrets} is set). */
  NO_SECRETS,
  /** A preview only once a maintainer adds the fork label; without secrets unless {@code forkSecrets}. */
  REQUIRE_LABEL
}
