package dev.preview.scm;

import dev.preview.spi.ProviderContext;

/**
 * Asks the SCM whether the author of a {@link CommentCommand} may act on the PR's preview: GitHub
 * write permission on the repository (or admin), GitLab Developer or more on the project. An SCM
 * that cannot be asked throws {@link dev.preview.spi.ProviderException}; callers refuse then
 * (never "allowed" when unknown). Thread-safe.
 */
public interface CommandPermissions {

  /** The SCM: {@code github} or {@code gitlab}. */
  String name();

  /** What the SCM says about {@code command}'s author on its repository. */
  Permission check(CommentCommand command);

  /**
   * @param allowed whether the author may act
   * @param role what the SCM calls the author's role ({@code write}, {@code read}, {@code Developer},
   *     {@code none}), for the answer and the log
   */
  record Permission(boolean allowed, String role) {}

  /** Discovered from {@code META-INF/services/dev.preview.scm.CommandPermissions$Factory}. */
  interface Factory {
    String name();

    /** Reads the {@code scm} section (its API URL and token); throws {@code ConfigurationException} listing every problem. */
    CommandPermissions create(ProviderContext context);
  }
}
